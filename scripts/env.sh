# Sourced by every script: picks the toolchain and the paths the build needs.
# shellcheck shell=bash
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Debian's cargo accepts -Z flags (build-std) only with this; keep it set for every cargo
# call, or proc-macro2 and its dependents rebuild whenever it flips.
export RUSTC_BOOTSTRAP=1
# wasm-opt (npm binaryen) and the Playwright CLI come from end2end/node_modules.
export PATH="$_root/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# Builds live outside the clone, so that a fresh clone (CI) builds incrementally.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/maestro/target}"
# CI builds each commit once: incremental state would only pile up on the disk.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi

# Where the active toolchain already has the wasm32 standard library (a laptop with
# `rustup target add wasm32-unknown-unknown`), use it as it is. Otherwise use Debian's
# rustc-web toolchain and build the wasm std from source (rust-web-src).
# MAESTRO_WASM_ARGS go to cargo for the wasm, MAESTRO_LIB_ARGS to cargo-leptos.
# MAESTRO_WASM_RELEASE_FLAGS (RUSTFLAGS of the release wasm): components erased to AnyView
# (a fifth smaller); with a std built here, also panics that trap without formatting a
# message, no Debug or source locations (6% more), and std's smaller code where it has a
# choice (`optimize_for_size`: 1.7%), without the panic hook no trap would call
# (`maestro_abort`). And `maestro_split`, with the linker's relocations:
# what is built only on demand (src/ui/on_demand.rs) becomes wasm chunks of its own, split by
# scripts/build-site.sh and fetched when first used. The server that renders for it must
# erase its components too (or hydration fails): it is built with MAESTRO_SERVE_FLAGS into
# a target dir of its own, MAESTRO_SERVE_DIR (scripts/test.sh runs its tests there too), so
# that `cargo bench` and the debug builds keep theirs.
_split="--cfg maestro_split -Clink-args=--emit-relocs"
if [ -d "$(rustc --print sysroot 2>/dev/null)/lib/rustlib/wasm32-unknown-unknown" ]; then
  MAESTRO_WASM_ARGS=()
  MAESTRO_LIB_ARGS=()
  MAESTRO_WASM_RELEASE_FLAGS="--cfg erase_components $_split"
else
  export RUSTUP_TOOLCHAIN=debian
  MAESTRO_WASM_ARGS=(-Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size)
  MAESTRO_LIB_ARGS=(--lib-cargo-args=-Zbuild-std=std,panic_abort)
  MAESTRO_WASM_RELEASE_FLAGS="--cfg erase_components --cfg maestro_abort $_split -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none"
fi
MAESTRO_SERVE_FLAGS="--cfg erase_components"
MAESTRO_SERVE_DIR="$CARGO_TARGET_DIR/serve"
unset _root _split
