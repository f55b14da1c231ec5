#!/usr/bin/env bash
# Builds Maestro (release) and runs it: http://127.0.0.1:3000 by default.
# Arguments go to the server, e.g. scripts/run.sh --addr 127.0.0.1:4000 --data-dir /tmp/m
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-release.sh
. scripts/env.sh
export LEPTOS_SITE_ROOT="$PWD/target/site-release"
exec "$MAESTRO_SERVE_DIR/release/maestro" "$@"
