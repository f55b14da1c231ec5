#!/usr/bin/env bash
# Writes a brotli (.br) and a gzip (.gz) copy beside each of the site's built files: the
# server sends them to clients that accept them and never compresses per request.
# scripts/build-site.sh runs it with fast settings on the debug build (its wasm is 64 MB and
# only tested) and at the best on the release build: brotli 11, and gzip by zopfli (any
# gzip reader reads it; 4% smaller than gzip -9, in seconds).
# Usage: precompress.sh DIR... (QUALITY=fast|best, default fast)
set -euo pipefail
if [ "${QUALITY:-fast}" = best ]; then br=11; else br=4; fi
for dir in "$@"; do
  for f in "$dir"/*.wasm "$dir"/*.js "$dir"/*.css; do
    [ -f "$f" ] || continue
    if [ "$br" = 11 ]; then zopfli "$f"; else gzip -kf -6 "$f"; fi
    brotli -kf -q "$br" "$f"
  done
done
