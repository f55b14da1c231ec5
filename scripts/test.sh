#!/usr/bin/env bash
# Runs every test: Rust unit, property, REST and crash tests, then the Playwright
# end-to-end tests in Chromium against a debug build. Exits non-zero if any fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/env.sh

step() { echo; echo "== $* =="; }
step "cargo test (server, store, API)"
cargo test --features ssr
step "build the site (cargo leptos build)"
cargo leptos build "${MAESTRO_LIB_ARGS[@]}"
step "end-to-end tests (Playwright, Chromium)"
cd end2end
MAESTRO_BIN="$CARGO_TARGET_DIR/debug/maestro" LEPTOS_SITE_ROOT="$(cd .. && pwd)/target/site" \
  npx playwright test
