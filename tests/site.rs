//! The site's build: `scripts/build-site.sh` (what the tests and `scripts/run.sh` serve)
//! says what Cargo.toml's `[package.metadata.leptos]` says (what `cargo leptos watch`
//! builds), and the package it lays out is served as built and cached for ever.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use maestro::server::{app, leptos_options, AppState};
use maestro::store::{Store, StoreConfig};
use std::collections::BTreeMap;
use tower::ServiceExt;

fn read(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// The settings at the top of build-site.sh (`name=value` lines after the comment that
/// says they are the metadata's), unquoted.
fn script_settings(script: &str) -> BTreeMap<String, String> {
    let block = script.split("# What [package.metadata.leptos] says").nth(1).expect("the settings' comment");
    let lines = block.lines().skip(1).take_while(|l| !l.trim().is_empty());
    lines
        .map(|l| {
            let (name, value) = l.split_once('=').unwrap_or_else(|| panic!("not a setting: {l}"));
            (name.to_string(), value.trim_matches('"').to_string())
        })
        .collect()
}

#[test]
fn build_site_says_what_the_cargo_leptos_metadata_says() {
    let manifest: toml::Table = toml::from_str(&read("Cargo.toml")).unwrap();
    let leptos = manifest["package"]["metadata"]["leptos"].as_table().unwrap();
    let script = read("scripts/build-site.sh");
    let settings = script_settings(&script);
    let meta = |key: &str| match &leptos[key] {
        toml::Value::String(s) => s.clone(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Array(words) => words.iter().map(|w| w.as_str().unwrap()).collect::<Vec<_>>().join(" "),
        other => panic!("{key} = {other}"),
    };
    let pairs = [
        ("output-name", "output_name"),
        ("site-root", "site_root"),
        ("site-pkg-dir", "site_pkg_dir"),
        ("style-file", "style_file"),
        ("assets-dir", "assets_dir"),
        ("lib-features", "lib_features"),
        ("lib-default-features", "lib_default_features"),
        ("lib-profile-release", "lib_profile_release"),
        ("wasm-opt-features", "wasm_opt_features"),
    ];
    for (key, name) in pairs {
        assert_eq!(settings.get(name), Some(&meta(key)), "build-site.sh's {name} against Cargo.toml's {key}");
    }
    assert_eq!(settings.len(), pairs.len(), "a setting of build-site.sh without its metadata: {settings:?}");
    // Each is used, not only written down.
    let body = script.split("# What [package.metadata.leptos] says").nth(1).unwrap();
    let body = &body[body.find("\n\n").unwrap()..];
    for name in settings.keys() {
        assert!(body.contains(&format!("${name}")) || body.contains(&format!("${{{name}")), "{name} is never used");
    }
    let profile = meta("lib-profile-release");
    assert!(manifest["profile"].get(&profile).is_some(), "no profile {profile}");
    for path in [meta("style-file"), meta("assets-dir")] {
        assert!(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(&path).exists(), "{path}");
    }

    // The server: the features the scripts build it with, and no default ones to turn off.
    let server = format!("--features {}", meta("bin-features"));
    for path in ["scripts/build-release.sh", "scripts/test.sh"] {
        assert!(read(path).contains(&server), "{path} builds the server without `{server}`");
    }
    assert_eq!(meta("bin-default-features"), "false");
    assert!(!manifest["features"].as_table().unwrap().contains_key("default"), "default features to turn off");

    // What the server assumes when no LEPTOS_* variable says otherwise (cargo-leptos sets them).
    if std::env::vars().all(|(k, _)| !k.starts_with("LEPTOS_")) {
        let options = leptos_options(meta("site-addr").parse().unwrap(), "/nonexistent");
        assert_eq!(*options.output_name, meta("output-name"));
        assert_eq!(*options.site_pkg_dir, meta("site-pkg-dir"));
        assert_eq!(options.reload_port.to_string(), leptos["reload-port"].to_string());
    }
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_maestro")).args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(help.contains(&format!("[default: {}]", meta("site-addr"))), "the server's default address: {help}");
}

/// A site laid out as build-site.sh lays it out, with `current` as `pkg/current.txt`.
fn site(current: &str) -> tempfile::TempDir {
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg/0123abcdef");
    std::fs::create_dir_all(pkg.join("snippets/maestro-1/inline0")).unwrap();
    for (name, body) in [
        ("maestro.js", "plain"),
        ("maestro.js.br", "brotli bytes"),
        ("maestro.js.gz", "gzip bytes"),
        ("maestro_bg.wasm", "wasm"),
        ("maestro.css", "css"),
        ("split_task_details.wasm", "chunk"),
        ("snippets/maestro-1/inline0/x.js", "snippet"),
    ] {
        std::fs::write(pkg.join(name), body).unwrap();
    }
    std::fs::write(site.path().join("pkg/current.txt"), current).unwrap();
    std::fs::create_dir_all(site.path().join("xterm")).unwrap();
    std::fs::write(site.path().join("xterm/xterm.js"), "plain").unwrap();
    site
}

#[test]
fn a_package_built_by_build_site_is_served_under_its_hash_as_built_and_cached_for_ever() {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let site = site("0123abcdef\n");
        let options = leptos_options("127.0.0.1:3000".parse().unwrap(), site.path().to_str().unwrap());
        assert_eq!((&*options.site_pkg_dir, options.hash_files), ("pkg/0123abcdef", false));
        let store = Store::open(StoreConfig::memory()).unwrap();
        let app = app(AppState::new(store, options, tokio::sync::watch::channel(false).1));
        let get = |uri: &'static str, encoding: &'static str| {
            let app = app.clone();
            async move {
                let req = Request::get(uri).header("accept-encoding", encoding).body(Body::empty()).unwrap();
                let res = app.oneshot(req).await.unwrap();
                let header = |h: &str| res.headers().get(h).map(|v| v.to_str().unwrap().to_string());
                let (status, enc, cache) = (res.status(), header("content-encoding"), header("cache-control"));
                let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
                (status, enc, cache.unwrap_or_default(), String::from_utf8_lossy(&body).into_owned())
            }
        };
        let forever = "public, max-age=31536000, immutable";
        let js = "/pkg/0123abcdef/maestro.js";
        assert_eq!(get(js, "br").await, (StatusCode::OK, Some("br".into()), forever.into(), "brotli bytes".into()));
        assert_eq!(get(js, "gzip").await, (StatusCode::OK, Some("gzip".into()), forever.into(), "gzip bytes".into()));
        assert_eq!(get(js, "identity").await, (StatusCode::OK, None, forever.into(), "plain".into()));
        // Every file of the package, in its subdirectories too: its URL names its content.
        for uri in ["/pkg/0123abcdef/split_task_details.wasm", "/pkg/0123abcdef/snippets/maestro-1/inline0/x.js"] {
            let (status, _, cache, _) = get(uri, "identity").await;
            assert_eq!((status, &*cache), (StatusCode::OK, forever), "{uri}");
        }
        assert_eq!(get("/xterm/xterm.js", "identity").await.2, "no-cache");

        // The page asks for the package's files by the names wasm-bindgen gave them.
        let (status, _, _, page) = get("/", "identity").await;
        assert_eq!(status, StatusCode::OK);
        for href in [
            "href=\"/pkg/0123abcdef/maestro.js\"",
            "href=\"/pkg/0123abcdef/maestro_bg.wasm\"",
            "href=\"/pkg/0123abcdef/maestro.css\"",
        ] {
            assert!(page.contains(href), "{href} in {page}");
        }
    });
}

#[test]
fn a_package_name_that_is_not_a_built_directory_is_not_served() {
    for current in ["", "../xterm", "9999", "0123abcdef/snippets"] {
        let site = site(current);
        let options = leptos_options("127.0.0.1:3000".parse().unwrap(), site.path().to_str().unwrap());
        assert_eq!(&*options.site_pkg_dir, "pkg", "{current:?}");
    }
}
