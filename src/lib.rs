#![recursion_limit = "512"]
//! Maestro: one crate, two halves. The server (`ssr`) owns the store, the REST API and the
//! event hub; the browser (`hydrate`) hydrates the server-rendered UI and keeps its caches
//! current from the event stream. `model` is shared by both.
//!
//! "SPEC §n" in comments is a section of `docs/SPEC.md`, the product contract.

pub mod api;
pub mod live;
pub mod model;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod agents;
#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod http;
#[cfg(feature = "ssr")]
pub mod hub;
#[cfg(feature = "ssr")]
pub mod mac;
#[cfg(feature = "ssr")]
pub mod rest_client;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod terminal;
#[cfg(feature = "ssr")]
pub mod workspace;

/// Browser entry point: hydrate the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // With panics that trap (`maestro_abort`, the release wasm) no hook would ever run.
    #[cfg(not(maestro_abort))]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(ui::App);
    // Tests (and people) can tell an interactive page from a merely painted one.
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
