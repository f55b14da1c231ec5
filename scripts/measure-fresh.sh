#!/usr/bin/env bash
# Times the README's two commands as a newcomer meets them: a fresh clone of HEAD with a
# fresh CARGO_HOME, target dir, npm cache and Python venv (a throwaway HOME), the machine's
# rustup toolchains and apt packages as they are. Prints each step's time; leaves the logs
# in $FRESH (default /tmp/maestro-fresh, removed first).
set -uo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
FRESH="${FRESH:-/tmp/maestro-fresh}"
rm -rf "$FRESH"
mkdir -p "$FRESH/home" "$FRESH/bin"
# Only rustup's own commands: no tool an earlier build installed into ~/.cargo/bin.
for b in cargo rustc rustup rustfmt cargo-clippy clippy-driver rustdoc; do
  ln -s "${CARGO_HOME:-$HOME/.cargo}/bin/$b" "$FRESH/bin/"
done
[ -f "$HOME/.npmrc" ] && cp "$HOME/.npmrc" "$FRESH/home/"
git clone -q "$repo" "$FRESH/clone"
cd "$FRESH/clone"
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" HOME="$FRESH/home" CARGO_HOME="$FRESH/home/.cargo"
export PATH="$FRESH/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
unset CARGO_TARGET_DIR
t0=$(date +%s)
bash scripts/test.sh >"$FRESH/test.log" 2>&1
echo "scripts/test.sh: exit $?, $(($(date +%s) - t0)) s"
grep -E '^== |setup:|Finished' "$FRESH/test.log"
t1=$(date +%s)
bash scripts/run.sh --addr 127.0.0.1:3999 --data-dir "$FRESH/data" >"$FRESH/run.log" 2>&1 &
pid=$!
until curl -sf http://127.0.0.1:3999/api/health >/dev/null; do
  kill -0 "$pid" 2>/dev/null || { echo "scripts/run.sh exited: see $FRESH/run.log"; break; }
  sleep 1
done
echo "scripts/run.sh until it serves: $(($(date +%s) - t1)) s"
pkill -P "$pid" 2>/dev/null; kill "$pid" 2>/dev/null
wait 2>/dev/null
