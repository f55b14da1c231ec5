#!/usr/bin/env bash
# Builds the site into target/site (target/site-release with --release, so that a running
# release server keeps its files while the tests rebuild theirs): the browser's wasm and its JS (wasm-bindgen; wasm-opt in
# release), the stylesheet and public/, named by content hash, precompressed (brotli, gzip).
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
  wasm-bindgen --target web --no-typescript --out-name maestro --out-dir "$new" "$input"
  mv "$new/maestro_bg.wasm" "$new/maestro.wasm"
  if [ "$profile" = wasm-release ]; then
    wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$new/maestro.wasm" -o "$new/maestro.wasm"
  fi
  cp style/main.css "$new/maestro.css"
  # maestro.<hash>.<ext>; wasm-bindgen's snippets/ keep their names (the JS imports them).
  hashes=""
  for ext in js wasm css; do
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
