#!/usr/bin/env bash
# Writes a brotli (.br) and a gzip (.gz) copy beside each of the site's built files: the
# server sends them to clients that accept them and never compresses per request.
# scripts/build-site.sh runs it with fast settings on the debug build (its wasm is 64 MB and
# only tested) and at the best on the release build.
# Usage: precompress.sh DIR... (QUALITY=fast|best, default fast)
set -euo pipefail
if [ "${QUALITY:-fast}" = best ]; then gz=-9 br=11; else gz=-6 br=4; fi
for dir in "$@"; do
  for f in "$dir"/*.wasm "$dir"/*.js "$dir"/*.css; do
    [ -f "$f" ] || continue
    gzip -kf "$gz" "$f"
    brotli -kf -q "$br" "$f"
  done
done
