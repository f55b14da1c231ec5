#!/usr/bin/env bash
# Installs what building and testing Maestro needs, skipping what is already there.
# Everything comes from Debian's archive, crates.io or npm: nothing else is downloaded.
# Usage: setup.sh [--no-wasm-tools | --wasm-tools]: all but the wasm tools (wasm-bindgen-cli,
# wasm-split-cli), or only them (scripts/test.sh builds them beside the Rust tests, as only
# the site needs them, after them).
set -euo pipefail
cd "$(dirname "$0")/.."
part=${1:-all}

# Must equal the wasm-bindgen crate in Cargo.lock (Cargo.toml pins it with "=").
WASM_BINDGEN_VERSION=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Splits the release wasm's on-demand parts into chunks of their own (scripts/build-site.sh).
WASM_SPLIT_VERSION=0.2.3

install_wasm_tools() {
  export PATH="$HOME/.cargo/bin:$PATH"
  if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $WASM_BINDGEN_VERSION"; then
    echo "setup: building wasm-bindgen-cli $WASM_BINDGEN_VERSION"
    # Not --locked: its lockfile names a webpki-roots release the registry mirror lacks.
    # opt-level 1: it compiles in much less time and still handles a release wasm in seconds.
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
      cargo +debian install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
  fi
  if ! cargo +debian install --list | grep -qx "wasm_split_cli_support v$WASM_SPLIT_VERSION:"; then
    echo "setup: building wasm-split-cli $WASM_SPLIT_VERSION"
    # Unoptimised: 50 s of compiling instead of 125, and it still splits in under a second.
    CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
      cargo +debian install wasm_split_cli_support --version "$WASM_SPLIT_VERSION" --features build-binary --locked --force
  fi
}
if [ "$part" = --wasm-tools ]; then
  install_wasm_tools
  exit 0
fi

need=()
for p in rustc-web cargo-web rust-web-src rust-web-llvm rust-web-clippy rustfmt-web lld-22 chromium chromium-driver brotli zopfli; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
# PostgreSQL for the tests of the PostgreSQL backend (started by the test command itself).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
# git for workspaces (each agent on its own worktree and branch); any git on the PATH will do.
command -v git >/dev/null 2>&1 || need+=(git)
# Node.js may come from elsewhere (with its own npm): only install Debian's when absent.
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if ((${#need[@]})); then
  echo "setup: installing ${need[*]}"
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Debian's binaryen 108 silently breaks the wasm; wasm-opt comes from npm instead.
if dpkg -s binaryen >/dev/null 2>&1; then sudo_ apt-get remove -y -qq binaryen >/dev/null; fi

if ! command -v rustup >/dev/null 2>&1; then
  echo "setup: rustup is required (the machine's Rust toolchain manager)" >&2
  exit 1
fi
rustup toolchain list | grep -q '^debian' || rustup toolchain link debian /usr
[ "$part" = --no-wasm-tools ] || install_wasm_tools

# npm ci again only when the lockfile changed since the last install.
if ! cmp -s end2end/package-lock.json end2end/node_modules/.maestro-installed-lock 2>/dev/null; then
  (cd end2end && npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.maestro-installed-lock)
fi
# schemathesis (fuzzing the REST API from its OpenAPI document), from PyPI into a venv of
# its own, every package pinned; again only when the pins changed.
VENV="$HOME/.cache/maestro/venv"
if ! cmp -s tests/fuzz/requirements.txt "$VENV/.maestro-installed-requirements" 2>/dev/null; then
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
  echo "setup: installing schemathesis into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r tests/fuzz/requirements.txt
  cp tests/fuzz/requirements.txt "$VENV/.maestro-installed-requirements"
fi
# xterm.js for the terminal pane: from npm, served as a site asset, never committed.
mkdir -p public/xterm
cp -u end2end/node_modules/@xterm/xterm/lib/xterm.js end2end/node_modules/@xterm/xterm/css/xterm.css \
  end2end/node_modules/@xterm/addon-fit/lib/addon-fit.js public/xterm/
