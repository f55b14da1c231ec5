//! What only a browser can do, in one place. Each function's browser body sits beside what
//! the server's render does instead: nothing, or the answer a first render assumes. The
//! server never runs these for real (effects and event handlers run only in the browser),
//! so the components call them as they are, on either side.
//!
//! - here: the page and its elements, events' details, localStorage, fresh ids, the tab's
//!   socket and writes to its cache;
//! - `notify.rs`: notifications, and the lock that picks the one tab raising them.

pub mod notify;

use crate::live::cache::{Cache, ListKey};
use crate::live::ConnState;
use crate::live::Live;
use leptos::ev::{DragEvent, FocusEvent, KeyboardEvent, PointerEvent};
use leptos::prelude::*;
use leptos::web_sys::Element;

/// Sets the page's title (the tab's name).
pub fn set_title(title: &str) {
    #[cfg(feature = "hydrate")]
    document().set_title(title);
    #[cfg(not(feature = "hydrate"))]
    let _ = title;
}

/// Reloads the page.
pub fn reload_page() {
    #[cfg(feature = "hydrate")]
    let _ = window().location().reload();
}

/// Gives the focus to the element with this id, if there is one that can take it.
pub fn focus_id(id: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(el) = document().get_element_by_id(id).and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = el.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

/// Focuses the first element `selector` matches, if any.
pub fn focus_first(selector: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let el = document().query_selector(selector).ok().flatten();
        if let Some(el) = el.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = el.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = selector;
}

/// The task whose row or card has the focus (or holds it): its `data-task-id`.
pub fn focused_task() -> Option<String> {
    #[cfg(feature = "hydrate")]
    return document().active_element()?.closest("[data-task-id]").ok()??.get_attribute("data-task-id");
    #[cfg(not(feature = "hydrate"))]
    None
}

/// Whether an event happened inside an element `selector` matches (a click outside a
/// popup closes it).
pub fn within(ev: &leptos::web_sys::Event, selector: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        ev.target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .is_some_and(|el| el.closest(selector).ok().flatten().is_some())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (ev, selector);
        true
    }
}

/// Whether a key was pressed while typing in a field (input, textarea, select).
pub fn typing(ev: &KeyboardEvent) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        ev.target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        false
    }
}

/// The window's width (the server assumes 1440 pixels).
pub fn window_width() -> f64 {
    #[cfg(feature = "hydrate")]
    return window().inner_width().ok().and_then(|w| w.as_f64()).unwrap_or(1440.0);
    #[cfg(not(feature = "hydrate"))]
    1440.0
}

/// The width on screen of the first element `selector` finds.
pub fn width_of(selector: &str) -> Option<f64> {
    #[cfg(feature = "hydrate")]
    {
        let el = document().query_selector(selector).ok()??;
        Some(el.get_bounding_client_rect().width())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = selector;
        None
    }
}

/// Calls `f` whenever `el` changes size (a ResizeObserver); returns what stops it.
pub fn on_resize(el: &Element, f: impl Fn() + 'static) -> Option<Box<dyn FnOnce()>> {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let callback = wasm_bindgen::closure::Closure::<dyn Fn()>::new(f);
        let observer = web_sys::ResizeObserver::new(callback.as_ref().unchecked_ref()).ok()?;
        observer.observe(el);
        Some(Box::new(move || {
            observer.disconnect();
            drop(callback);
        }))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (el, f);
        None
    }
}

/// Keeps the pointer's moves coming to the event's target while it drags, wherever it goes.
pub fn capture_pointer(ev: &PointerEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(el) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) {
            let _ = el.set_pointer_capture(ev.pointer_id());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

/// Puts a task's id on a drag.
pub fn carry(ev: &DragEvent, id: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(dt) = ev.data_transfer() {
        let _ = dt.set_data("text/plain", id);
        dt.set_effect_allowed("move");
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (ev, id);
}

/// The task id a drop carries.
pub fn dragged(ev: &DragEvent) -> Option<String> {
    #[cfg(feature = "hydrate")]
    return ev.data_transfer().and_then(|d| d.get_data("text/plain").ok());
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        None
    }
}

/// Whether the focus left for another element (not: its element was re-rendered).
pub fn went_elsewhere(ev: &FocusEvent) -> bool {
    #[cfg(feature = "hydrate")]
    return ev.related_target().is_some();
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        false
    }
}

#[cfg(feature = "hydrate")]
fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// A value kept in this browser's localStorage, as JSON (`None` when absent or unreadable).
pub fn storage_get<T: serde::de::DeserializeOwned>(key: &str) -> Option<T> {
    #[cfg(feature = "hydrate")]
    {
        let text = local_storage()?.get_item(key).ok()??;
        crate::model::from_json(&text).ok()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = key;
        None
    }
}

pub fn storage_set<T: serde::Serialize>(key: &str, value: &T) {
    #[cfg(feature = "hydrate")]
    if let (Some(storage), Ok(text)) = (local_storage(), serde_json::to_string(value)) {
        let _ = storage.set_item(key, &text);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (key, value);
}

/// A fresh id for a record the browser creates (SPEC §1 lets clients choose ids, which
/// makes optimistic creation and safe retries simple). The server creates none.
pub fn client_id(prefix: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        let r = || (js_sys::Math::random() * (1u64 << 52) as f64) as u64;
        format!("{prefix}_{:013x}{:013x}", r(), r())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        format!("{prefix}_server")
    }
}

/// `q` as a URL query value (only the browser navigates).
pub fn url_encode(q: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        js_sys::encode_uri_component(q).into()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        q.to_string()
    }
}

/// Writes what a render fetched into the browser's cache. The server never writes the
/// cache: its Suspense boundaries resolve on several threads, so its views read the
/// fetched data directly instead (see the `initial` props).
pub fn write_cache(cache: Live, f: impl FnOnce(&mut Cache)) {
    #[cfg(feature = "hydrate")]
    cache.update_untracked(f);
    #[cfg(not(feature = "hydrate"))]
    let _ = (cache, f);
}

/// Runs `task` in the browser; the server's render never waits for what it loads.
pub fn spawn(task: impl std::future::Future<Output = ()> + 'static) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(task);
    #[cfg(not(feature = "hydrate"))]
    drop(task);
}

/// Opens the tab's WebSocket (`crate::live::socket`), which keeps `cache` current;
/// `refetch` reloads lists after a resync.
pub fn listen(cache: Live, conn: RwSignal<ConnState>, refetch: impl Fn(Vec<ListKey>) + 'static) {
    #[cfg(feature = "hydrate")]
    crate::live::socket::start(cache, conn, refetch);
    #[cfg(not(feature = "hydrate"))]
    let _ = (cache, conn, refetch);
}
