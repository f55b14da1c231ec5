//! The browser's Notification and Web Locks APIs (the server has neither: no-ops there).

use leptos::prelude::*;
#[cfg(feature = "hydrate")]
use wasm_bindgen::{prelude::*, JsCast};

#[cfg(feature = "hydrate")]
#[wasm_bindgen]
extern "C" {
    /// `navigator.locks.request(name, callback)`: absent outside secure contexts.
    #[wasm_bindgen(js_namespace = ["navigator", "locks"], js_name = request, catch)]
    fn request_lock(name: &str, callback: &JsValue) -> Result<js_sys::Promise, JsValue>;
}

/// Makes `leader` true once this tab holds the browser's one notifier lock; it holds
/// it until the tab closes, and then the next tab in line gets it.
pub fn lead(leader: RwSignal<bool>) {
    #[cfg(feature = "hydrate")]
    {
        let granted = Closure::once_into_js(move |_lock: JsValue| -> js_sys::Promise {
            leader.try_set(true);
            js_sys::Promise::new(&mut |_, _| {}) // never settles: the lock stays held
        });
        if request_lock("maestro-notifier", &granted).is_err() {
            // No Web Locks here: every tab would notify, so none does.
            leptos::logging::log!("maestro: no Web Locks in this context; notifications off");
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = leader;
}

/// "granted", "denied", "default", or "unsupported".
pub fn permission() -> String {
    #[cfg(feature = "hydrate")]
    {
        let has = js_sys::Reflect::has(&window(), &"Notification".into()).unwrap_or(false);
        if !has {
            return "unsupported".into();
        }
        match web_sys::Notification::permission() {
            web_sys::NotificationPermission::Granted => "granted",
            web_sys::NotificationPermission::Denied => "denied",
            _ => "default",
        }
        .into()
    }
    #[cfg(not(feature = "hydrate"))]
    "unsupported".into()
}

/// Asks the person once; `permission` follows the answer.
pub fn ask(permission: RwSignal<String>) {
    #[cfg(feature = "hydrate")]
    {
        let Ok(p) = web_sys::Notification::request_permission() else { return };
        let answered = Closure::<dyn FnMut(JsValue)>::new(move |_answer: JsValue| {
            permission.try_set(self::permission());
        });
        let _ = p.then(&answered);
        answered.forget(); // asked once per click: a few bytes
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = permission;
}

/// Shows a notification (one per `tag`: the same flag never shows twice); a click
/// brings the tab forward and runs `open`.
pub fn raise(title: &str, body: &str, tag: &str, open: impl FnOnce() + 'static) {
    #[cfg(feature = "hydrate")]
    {
        let options = web_sys::NotificationOptions::new();
        options.set_body(body);
        options.set_tag(&format!("maestro-{tag}"));
        let Ok(n) = web_sys::Notification::new_with_options(title, &options) else { return };
        let shown = n.clone();
        let click = Closure::once_into_js(move || {
            let _ = window().focus();
            shown.close();
            open();
        });
        n.set_onclick(Some(click.unchecked_ref()));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (title, body, tag, open);
}
