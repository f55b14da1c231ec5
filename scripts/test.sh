#!/usr/bin/env bash
# Runs every test: Rust unit, property, REST, CLI and crash tests, the schemathesis fuzz of
# the REST API, then the Playwright end-to-end tests in Chromium against a debug build.
# Exits non-zero if any fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/env.sh

step() { echo; echo "== $* =="; }
# Every fresh clone (CI) builds its own artifacts into the shared target dir; start the
# debug builds over before they can fill the disk.
if [ -d "$CARGO_TARGET_DIR" ] && [ "$(du -sk "$CARGO_TARGET_DIR" | cut -f1)" -gt $((25 * 1024 * 1024)) ]; then
  echo "target dir over 25 GB: removing old debug builds"
  rm -rf "$CARGO_TARGET_DIR/debug" "$CARGO_TARGET_DIR/front/wasm32-unknown-unknown/debug"
fi
step "cargo test (server, store, API)"
cargo test --features ssr
step "the store's tests again, on PostgreSQL"
. scripts/pg.sh
pg_start
trap pg_stop EXIT
MAESTRO_TEST_BACKEND=postgres cargo test --features ssr --lib store::
cargo test --features ssr --test postgres -- --ignored --test-threads=1
pg_stop
trap - EXIT
step "fuzz the REST API from its OpenAPI document (schemathesis)"
bash scripts/fuzz.sh "$CARGO_TARGET_DIR/debug/maestro"
step "build the site (cargo leptos build)"
cargo leptos build "${MAESTRO_LIB_ARGS[@]}"
bash scripts/precompress.sh target/site/pkg target/site/xterm
step "end-to-end tests (Playwright, Chromium)"
cd end2end
MAESTRO_BIN="$CARGO_TARGET_DIR/debug/maestro" LEPTOS_SITE_ROOT="$(cd .. && pwd)/target/site" \
  npx playwright test
