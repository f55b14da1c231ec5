#!/usr/bin/env bash
# The UI benchmark: builds the release site and server (as scripts/run.sh does), then
# measures the page at 6, 1,000 and 10,000 tasks, and a 5 MB diff, in Chromium (end2end/bench/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-release.sh
. scripts/env.sh
cd end2end
MAESTRO_BIN="$MAESTRO_SERVE_DIR/release/maestro" LEPTOS_SITE_ROOT="$PWD/../target/site-release" \
  npx playwright test --config bench.config.ts
