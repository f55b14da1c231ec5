//! The built site: where Leptos finds its package ([`leptos_options`]) and how the site's
//! files are served ([`files`]). Two builds lay it out: `scripts/build-site.sh` puts the
//! whole package, as wasm-bindgen and wasm-split wrote it, in `pkg/<hash>/` (one hash of its
//! content, named in `pkg/current.txt`); `cargo leptos watch` hashes each file's name and
//! lists the names in `hash.txt` beside the server binary. `docs/BUILD.md` says why.

use super::AppState;
use axum::Router;
use leptos::prelude::LeptosOptions;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Leptos' options, from cargo-leptos' `LEPTOS_*` variables when it runs us, otherwise
/// from what our `Cargo.toml` metadata says (so plain `cargo run`/`cargo test` work too).
/// A package that `scripts/build-site.sh` built is the site's package dir.
pub fn leptos_options(addr: SocketAddr, site_root: &str) -> LeptosOptions {
    let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
    let pkg_dir = var("LEPTOS_SITE_PKG_DIR", "pkg");
    let (pkg_dir, hash_files) = match built_package(site_root, &pkg_dir) {
        // Its files keep the names wasm-bindgen gave them (`maestro_bg.wasm`).
        Some(dir) => (dir, false),
        // cargo-leptos writes the hashed names beside the binary it built.
        None => (pkg_dir, hash_file().is_some()),
    };
    LeptosOptions::builder()
        .output_name(var("LEPTOS_OUTPUT_NAME", "maestro"))
        .site_root(site_root.to_string())
        .site_pkg_dir(pkg_dir)
        .site_addr(addr)
        .reload_port(var("LEPTOS_RELOAD_PORT", "3001").parse().unwrap_or(3001))
        .hash_files(hash_files)
        .build()
}

/// `<pkg_dir>/<hash>`, the package `scripts/build-site.sh` built into `site_root` (named in
/// `<pkg_dir>/current.txt`), if it did. cargo-leptos empties the site root when it builds.
fn built_package(site_root: &str, pkg_dir: &str) -> Option<String> {
    let current = std::fs::read_to_string(Path::new(site_root).join(pkg_dir).join("current.txt")).ok()?;
    let hash = current.trim();
    let dir = format!("{pkg_dir}/{hash}");
    let plain = !hash.is_empty() && hash.bytes().all(|b| b.is_ascii_alphanumeric());
    (plain && Path::new(site_root).join(&dir).is_dir()).then_some(dir)
}

/// `hash.txt` beside this binary, when cargo-leptos built the site with hashed names.
fn hash_file() -> Option<PathBuf> {
    let path = std::env::current_exe().ok()?.parent()?.join("hash.txt");
    path.is_file().then_some(path)
}

/// Which of the package's files never change under their URL, and so are cached for ever.
#[derive(Clone, Copy)]
enum Immutable {
    /// All: the package's directory is named by its content (`scripts/build-site.sh`).
    All,
    /// The top-level files, whose names cargo-leptos hashed (not its `snippets/`).
    TopLevel,
    /// None: every request is revalidated.
    None,
}

/// The site's built files: the package (`/pkg/...`) and the terminal's scripts
/// (`/xterm/...`, revalidated).
pub fn files(options: &LeptosOptions) -> Router<AppState> {
    let pkg = &options.site_pkg_dir;
    // `pkg/<hash>` when `pkg/current.txt` names `<hash>`.
    let named_by_content = pkg
        .rsplit_once('/')
        .is_some_and(|(parent, _)| built_package(&options.site_root, parent).as_deref() == Some(&**pkg));
    let immutable = if named_by_content {
        Immutable::All
    } else if options.hash_files {
        Immutable::TopLevel
    } else {
        Immutable::None
    };
    Router::new()
        .nest(&format!("/{pkg}"), dir_files(options, pkg, immutable))
        .nest("/xterm", dir_files(options, "xterm", Immutable::None))
}

/// The files under `sub`: brotli or gzip as built beside each file when the client accepts
/// it (never compressed per request), cached for ever where `immutable` says so and
/// revalidated everywhere else.
fn dir_files(options: &LeptosOptions, sub: &str, immutable: Immutable) -> Router<AppState> {
    use axum::http::{header, HeaderValue};
    let dir = Path::new(&*options.site_root).join(sub);
    let files = tower_http::services::ServeDir::new(dir).precompressed_br().precompressed_gzip();
    Router::new().fallback_service(files).layer(axum::middleware::map_response_with_state(
        immutable,
        |axum::extract::State(immutable): axum::extract::State<Immutable>,
         uri: axum::http::Uri,
         mut res: axum::response::Response| async move {
            let forever = match immutable {
                Immutable::All => true,
                Immutable::TopLevel => uri.path().trim_start_matches('/').split('/').count() == 1,
                Immutable::None => false,
            };
            let cache = if forever { "public, max-age=31536000, immutable" } else { "no-cache" };
            let headers = res.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            // The body depends on Accept-Encoding (brotli, gzip or plain): a cache must key
            // on it, above all with `public, immutable`.
            let varies = headers.get_all(header::VARY).iter().any(|v| {
                v.to_str().is_ok_and(|v| v.split(',').any(|h| h.trim().eq_ignore_ascii_case("accept-encoding")))
            });
            if !varies {
                headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
            }
            res
        },
    ))
}
