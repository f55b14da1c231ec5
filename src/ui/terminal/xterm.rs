//! The bridge to xterm.js (loaded by the page from `/xterm/`): one terminal view bound to
//! one terminal socket, with fit-to-size, resize messages, and reconnects until the
//! process exits or the view closes. Browser only: the server renders the empty host.

use leptos::html::Div;
use leptos::prelude::*;
#[cfg(feature = "hydrate")]
use wasm_bindgen::prelude::*;

/// Keeps a terminal view in `host` attached to the terminal `target` names: a new view
/// whenever it changes, none while it is `None`, and none once the pane goes.
pub fn attach(target: Memo<Option<String>>, host: NodeRef<Div>) {
    #[cfg(feature = "hydrate")]
    {
        let view: StoredValue<Option<JsValue>, LocalStorage> = StoredValue::new_local(None);
        let close = move || {
            if let Some(h) = view.try_update_value(|v| v.take()).flatten() {
                term_close(&h);
            }
        };
        Effect::new(move |_| {
            let id = target.get();
            let el = host.get();
            close();
            if let (Some(id), Some(el)) = (id, el) {
                let project = crate::ui::state::use_tab().terminal_projects.with_value(|m| m.get(&id).cloned());
                view.set_value(Some(term_open(&el, &socket_url(&id, project.as_deref()))));
            }
        });
        on_cleanup(close);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (target, host);
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen(inline_js = r##"
export function term_open(el, url) {
  const term = new Terminal({
    fontFamily: 'ui-monospace, "JetBrains Mono", "DejaVu Sans Mono", Menlo, monospace',
    fontSize: 13, lineHeight: 1.15, cursorBlink: true, scrollback: 10000, allowProposedApi: false,
    theme: { background: "#0b0d11", foreground: "#d7dce4", cursor: "#6ea8fe", selectionBackground: "#2f5590" },
  });
  const fit = new FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open(el);
  try { fit.fit(); } catch (_) {}
  const state = { ws: null, disposed: false, exited: false, delay: 150 };
  const send = (m) => { if (state.ws && state.ws.readyState === 1) state.ws.send(JSON.stringify(m)); };
  const connect = () => {
    if (state.disposed || state.exited) return;
    const ws = new WebSocket(`${url}${url.includes("?") ? "&" : "?"}cols=${term.cols}&rows=${term.rows}`);
    ws.binaryType = "arraybuffer";
    state.ws = ws;
    ws.onopen = () => { state.delay = 150; el.dataset.connected = "true"; };
    ws.onmessage = (e) => {
      if (typeof e.data === "string") {
        const m = JSON.parse(e.data);
        if (m.type === "exit") {
          state.exited = true;
          el.dataset.exited = String(m.code);
          term.write(`\r\n\x1b[2m[process exited with code ${m.code}]\x1b[0m\r\n`);
        }
      } else {
        term.write(new Uint8Array(e.data));
      }
    };
    ws.onclose = () => {
      el.dataset.connected = "false";
      if (!state.disposed && !state.exited) {
        setTimeout(connect, state.delay);
        state.delay = Math.min(state.delay * 2, 5000);
      }
    };
  };
  // Ctrl+Shift+C / Ctrl+Shift+V copy and paste (plain Ctrl+C stays an interrupt).
  term.attachCustomKeyEventHandler((e) => {
    if (e.type !== "keydown" || !e.ctrlKey || !e.shiftKey) return true;
    if (e.code === "KeyC" && term.hasSelection()) {
      navigator.clipboard && navigator.clipboard.writeText(term.getSelection());
      return false;
    }
    if (e.code === "KeyV") {
      navigator.clipboard && navigator.clipboard.readText().then((t) => term.paste(t)).catch(() => {});
      return false;
    }
    return true;
  });
  term.onData((data) => send({ type: "input", data }));
  term.onResize(({ cols, rows }) => send({ type: "resize", cols, rows }));
  const ro = new ResizeObserver(() => { try { fit.fit(); } catch (_) {} });
  ro.observe(el);
  connect();
  term.focus();
  return { dispose() { state.disposed = true; ro.disconnect(); if (state.ws) state.ws.close(); term.dispose(); } };
}

export function term_close(handle) {
  if (handle) handle.dispose();
}
"##)]
extern "C" {
    /// Opens a terminal view in `el`, attached to the socket at `url`.
    fn term_open(el: &web_sys::HtmlElement, url: &str) -> JsValue;
    /// Closes the view (the process keeps running on the server).
    fn term_close(handle: &JsValue);
}

/// The socket address of terminal `id`, on this page's server (a plain terminal's with
/// the project whose directory it starts in).
#[cfg(feature = "hydrate")]
fn socket_url(id: &str, project: Option<&str>) -> String {
    let base = format!("{}/terminals/{id}/ws", crate::live::socket::socket_base());
    match project {
        Some(p) => format!("{base}?project={}", String::from(js_sys::encode_uri_component(p))),
        None => base,
    }
}
