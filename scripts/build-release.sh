#!/usr/bin/env bash
# The release build that scripts/run.sh serves and scripts/bench-ui.sh measures: set-up,
# the site (content-hashed, precompressed at the best settings) and the server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/env.sh
bash scripts/build-site.sh --release
RUSTFLAGS="$MAESTRO_SERVE_FLAGS" cargo build --release --features ssr --bin maestro --target-dir "$MAESTRO_SERVE_DIR"
