#!/usr/bin/env bash
# Builds the site into target/site (target/site-release with --release, so that a running
# release server keeps its files while the tests rebuild theirs): the browser's wasm and its
# JS (wasm-bindgen; in release, the on-demand parts split into chunks by wasm-split-cli,
# and wasm-opt), the stylesheet and public/. The package (what wasm-bindgen and wasm-split
# wrote, under the names they gave it, and the stylesheet) goes into pkg/<hash>/, a
# directory named by one hash of its whole content, precompressed (brotli, gzip);
# pkg/current.txt names it, and the server serves that directory as Leptos' package dir,
# cached for ever. No generated file is edited: the files link to each other by the names
# their tools wrote.
# What `cargo leptos watch` builds from Cargo.toml's [package.metadata.leptos], without
# building cargo-leptos (24 minutes on a fresh machine; docs/BUILD.md): the settings the two
# share are below, and tests/site.rs fails when they disagree. No LEPTOS_* variables are
# set, so the server that `cargo test`/`cargo build --features ssr` builds is the one that
# serves this site: nothing is compiled twice.
# Usage: build-site.sh [--release]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

# What [package.metadata.leptos] says (tests/site.rs compares each with it).
output_name=maestro
site_root=target/site
site_pkg_dir=pkg
style_file=style/main.css
assets_dir=public
lib_features=hydrate
lib_default_features=false
lib_profile_release=wasm-release
wasm_opt_features="-Oz --converge --enable-bulk-memory --enable-nontrapping-float-to-int"

if [ "${1:-}" = --release ]; then
  profile=$lib_profile_release out=$lib_profile_release quality=best flags=$MAESTRO_WASM_RELEASE_FLAGS
  site=$site_root-release
else
  profile=dev out=debug quality=fast flags=""
  site=$site_root
fi
front="$CARGO_TARGET_DIR/front"
features=(--features "$lib_features")
if [ "$lib_default_features" = false ]; then features+=(--no-default-features); fi
# RUSTFLAGS with --target reach the wasm's own crates only, never build scripts.
RUSTFLAGS="$flags" cargo build --lib --target wasm32-unknown-unknown "${features[@]}" \
  --target-dir "$front" --profile "$profile" "${MAESTRO_WASM_ARGS[@]}"

# The rest only when the compiled wasm or the stylesheet changed (run.sh after test.sh
# finds the site built): wasm-opt and brotli at the best take a minute and a half.
input="$front/wasm32-unknown-unknown/$out/maestro.wasm"
pkg="$site/$site_pkg_dir"
stamp=$(cat "$input" "$style_file" | sha256sum | cut -c1-64)
hash=$(cat "$pkg/current.txt" 2>/dev/null || true)
if [ "$(cat "$pkg/.built-from" 2>/dev/null)" != "$stamp" ] || [ -z "$hash" ] || [ ! -d "$pkg/$hash" ]; then
  new="$site/.pkg.new"
  rm -rf "$new"
  mkdir -p "$new"
  bindgen=("$input")
  if [ "$profile" = "$lib_profile_release" ]; then
    # The on-demand parts out into chunks (split_*.wasm, and chunk_*.wasm for what several
    # share), loaded by __wasm_split.js; wasm-bindgen then keeps the exports they link to.
    wasm-split-cli "$input" "$new" --out-name "$output_name" --target web
    bindgen=(--keep-lld-exports --no-demangle "$new/$output_name.wasm")
  fi
  wasm-bindgen --target web --no-typescript --out-name "$output_name" --out-dir "$new" "${bindgen[@]}"
  # wasm-split's main module, now in wasm-bindgen's ${output_name}_bg.wasm.
  rm -f "$new/$output_name.wasm"
  if [ "$profile" = "$lib_profile_release" ]; then
    for f in "$new"/*.wasm; do
      # shellcheck disable=SC2086 # the features are words
      wasm-opt $wasm_opt_features "$f" -o "$f"
    done
  fi
  cp "$style_file" "$new/$output_name.css"
  # One hash of every file's name and content names the package.
  hash=$(cd "$new" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-22)
  QUALITY=$quality bash scripts/precompress.sh "$new"
  mkdir -p "$pkg"
  rm -rf "${pkg:?}/$hash"
  mv "$new" "$pkg/$hash"
  # The server reads the name at start; the packages of earlier builds go.
  echo "$hash" >"$pkg/.current.txt.new"
  mv "$pkg/.current.txt.new" "$pkg/current.txt"
  echo "$stamp" >"$pkg/.built-from"
  find "$pkg" -mindepth 1 -maxdepth 1 ! -name "$hash" ! -name current.txt ! -name .built-from -exec rm -rf {} +
fi
cp -r "$assets_dir"/. "$site/"
QUALITY=$quality bash scripts/precompress.sh "$site/xterm"
echo "site: $site ($(stat -c %s "$pkg/$hash/${output_name}_bg.wasm") B wasm in $pkg/$hash)"
