#!/usr/bin/env bash
# Builds the site into target/site (target/site-release with --release, so that a running
# release server keeps its files while the tests rebuild theirs): the browser's wasm and its
# JS (wasm-bindgen; in release, the on-demand parts split into chunks and wasm-opt), the
# stylesheet and public/, named by content hash, precompressed (brotli, gzip).
# It writes hash.txt (the names, read by Leptos at run time) beside the server binary of
# the same profile. What cargo-leptos does for a build, without building cargo-leptos (half
# an hour on a fresh machine); its metadata in Cargo.toml stays for `cargo leptos watch`.
# No LEPTOS_* variables are set, so the server that `cargo test`/`cargo build --features ssr`
# builds is the one that serves this site: nothing is compiled twice.
# Usage: build-site.sh [--release]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

if [ "${1:-}" = --release ]; then
  profile=wasm-release out=wasm-release server="$MAESTRO_SERVE_DIR/release" quality=best flags=$MAESTRO_WASM_RELEASE_FLAGS
  site=target/site-release
else
  profile=dev out=debug server="$CARGO_TARGET_DIR/debug" quality=fast flags=""
  site=target/site
fi
front="$CARGO_TARGET_DIR/front"
# RUSTFLAGS with --target reach the wasm's own crates only, never build scripts.
RUSTFLAGS="$flags" cargo build --lib --target wasm32-unknown-unknown --no-default-features --features hydrate \
  --target-dir "$front" --profile "$profile" "${MAESTRO_WASM_ARGS[@]}"

# The rest only when the compiled wasm or the stylesheet changed (run.sh after test.sh
# finds the site built): wasm-opt and brotli at the best take a minute and a half.
input="$front/wasm32-unknown-unknown/$out/maestro.wasm"
stamp=$(cat "$input" style/main.css | sha256sum | cut -c1-64)
if [ "$(cat "$site/pkg/.built-from" 2>/dev/null)" = "$stamp" ] && [ -f "$site/pkg/.hash.txt" ]; then
  hashes=$(cat "$site/pkg/.hash.txt")$'\n'
else
  new="$site/.pkg.new"
  rm -rf "$new"
  mkdir -p "$new"
  bindgen=("$input")
  if [ "$profile" = wasm-release ]; then
    # The on-demand parts out into chunks (split_*.wasm, and chunk_*.wasm for what several
    # share), loaded by __wasm_split.js; wasm-bindgen then keeps the exports they link to.
    wasm-split-cli "$input" "$new" --out-name maestro --target web
    bindgen=(--keep-lld-exports --no-demangle "$new/maestro.wasm")
  fi
  wasm-bindgen --target web --no-typescript --out-name maestro --out-dir "$new" "${bindgen[@]}"
  mv "$new/maestro_bg.wasm" "$new/maestro.wasm"
  if [ "$profile" = wasm-release ]; then
    for f in "$new"/*.wasm; do
      wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$f" -o "$f"
    done
  fi
  cp style/main.css "$new/maestro.css"
  # Every top-level file is named by its content's hash; wasm-bindgen's snippets/ keep
  # their names (the JS imports them). The chunks first, as the loader names them.
  for f in "$new"/split_*.wasm "$new"/chunk_*.wasm; do
    [ -f "$f" ] || continue
    base=$(basename "$f" .wasm) h=$(sha256sum "$f" | cut -c1-22)
    mv "$f" "$new/$base.$h.wasm"
    sed -i "s|\"./$base.wasm\"|\"./$base.$h.wasm\"|" "$new/__wasm_split.js"
  done
  # The app's JS and the chunks' loader import each other: one hash of both names both.
  linked=("$new/maestro.js")
  if [ -f "$new/__wasm_split.js" ]; then linked+=("$new/__wasm_split.js"); fi
  h=$(cat "${linked[@]}" | sha256sum | cut -c1-22)
  if [ -f "$new/__wasm_split.js" ]; then
    sed -i "s|from \"./__wasm_split.js\"|from \"./__wasm_split.$h.js\"|" "$new/maestro.js"
    sed -e "s|from \"./maestro.js\"|from \"./maestro.$h.js\"|" "$new/__wasm_split.js" >"$new/__wasm_split.$h.js"
    rm "$new/__wasm_split.js"
  fi
  mv "$new/maestro.js" "$new/maestro.$h.js"
  hashes="js: $h"$'\n'
  for ext in wasm css; do
    h=$(sha256sum "$new/maestro.$ext" | cut -c1-22)
    mv "$new/maestro.$ext" "$new/maestro.$h.$ext"
    hashes+="$ext: $h"$'\n'
  done
  QUALITY=$quality bash scripts/precompress.sh "$new"
  printf '%s' "$hashes" >"$new/.hash.txt"
  echo "$stamp" >"$new/.built-from"
  rm -rf "$site/pkg"
  mv "$new" "$site/pkg"
fi
cp -r public/. "$site/"
QUALITY=$quality bash scripts/precompress.sh "$site/xterm"
mkdir -p "$server"
printf '%s' "$hashes" >"$server/hash.txt"
echo "site: $site ($(stat -c %s "$site"/pkg/maestro.*.wasm) B wasm), names in $server/hash.txt"
