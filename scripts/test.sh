#!/usr/bin/env bash
# Runs every test: Rust unit, property, REST, CLI and crash tests, the schemathesis fuzz of
# the REST API, then the Playwright end-to-end tests in Chromium against the release build.
# Exits non-zero if any fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --no-wasm-tools
. scripts/env.sh

step() { echo; echo "== $* == (at ${SECONDS} s)"; }
# Every fresh clone (CI) builds its own artifacts into the shared target dir; start the
# debug builds over before they can fill the disk.
over_25_gb() { [ -d "$CARGO_TARGET_DIR" ] && [ "$(du -sk "$CARGO_TARGET_DIR" | cut -f1)" -gt $((25 * 1024 * 1024)) ]; }
if over_25_gb; then
  echo "target dir over 25 GB: removing old debug builds"
  rm -rf "$CARGO_TARGET_DIR/debug" "$CARGO_TARGET_DIR/front/wasm32-unknown-unknown/debug"
fi
# The release build this script makes goes only when that was not enough (it takes 20 min).
if over_25_gb; then
  echo "target dir still over 25 GB: removing the release build"
  rm -rf "$MAESTRO_SERVE_DIR"
fi
# One build serves the tests and scripts/run.sh: release, in MAESTRO_SERVE_DIR, with the
# flags the release site needs (see env.sh). A newcomer's machine compiles the server's
# dependencies once, not once for the tests and again to run it.
# The release site (the wasm tools first, if missing) builds beside the Rust tests: on a
# fresh machine each build alone leaves a core idle at every crate the rest wait for, and
# the site is needed only by the browser tests at the end.
site_log=$(mktemp)
# Its own process group (setsid), so that a failing step stops the whole build.
setsid bash -c 'bash scripts/setup.sh --wasm-tools && bash scripts/build-site.sh --release' >"$site_log" 2>&1 &
site_pid=$!
cleanup() { kill -- -"$site_pid" 2>/dev/null || true; }
trap cleanup EXIT
step "the release site builds in the background (pid $site_pid, log $site_log)"
export RUSTFLAGS="$MAESTRO_SERVE_FLAGS"
serve=(--release --target-dir "$MAESTRO_SERVE_DIR")
step "cargo test (server, store, API; release build)"
cargo test --features ssr "${serve[@]}"
step "the store's tests again, on PostgreSQL"
. scripts/pg.sh
pg_start
trap 'pg_stop; cleanup' EXIT
MAESTRO_TEST_BACKEND=postgres cargo test --features ssr "${serve[@]}" --lib store::
cargo test --features ssr "${serve[@]}" --test tests -- --ignored --test-threads=1 postgres:: cluster::
pg_stop
trap cleanup EXIT
step "fuzz the REST API from its OpenAPI document (schemathesis)"
bash scripts/fuzz.sh "$MAESTRO_SERVE_DIR/release/maestro"
unset RUSTFLAGS
# The browser tests run what scripts/run.sh serves (the server is built already).
step "the release site (its background build) and server (scripts/build-release.sh)"
if ! wait "$site_pid"; then
  cat "$site_log"
  echo "the release site did not build" >&2
  exit 1
fi
cat "$site_log"
rm -f "$site_log"
bash scripts/build-release.sh
step "end-to-end tests (Playwright, Chromium, the release build)"
cd end2end
MAESTRO_BIN="$MAESTRO_SERVE_DIR/release/maestro" LEPTOS_SITE_ROOT="$(cd .. && pwd)/target/site-release" \
  npx playwright test
echo "== every test passed (${SECONDS} s) =="
