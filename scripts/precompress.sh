#!/usr/bin/env bash
# Writes a brotli (.br) and a gzip (.gz) copy beside each of the site's built files, as
# `cargo leptos build --release --precompress` does for release builds: the server sends
# them to clients that accept them and never compresses per request. The test command runs
# it on its debug build with fast settings (the files are large and only tested);
# `scripts/run.sh` on the terminal's scripts (`xterm/`) at the best.
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
