#!/usr/bin/env bash
# The release build that scripts/run.sh serves and scripts/bench-ui.sh measures: set-up,
# the site and server (content-hashed, precompressed), and the terminal's scripts
# precompressed beside them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/env.sh
cargo leptos build --release --precompress "${MAESTRO_LIB_ARGS[@]}"
QUALITY=best bash scripts/precompress.sh target/site/xterm
