//! The bridge to xterm.js (loaded by the page from `/xterm/`): one terminal view bound to
//! one terminal socket, with fit-to-size, resize messages, and reconnects until the
//! process exits or the view closes; or a read-only view of a session's kept output.
//! Browser only: the server renders the empty host.

use leptos::html::Div;
use leptos::prelude::*;
#[cfg(feature = "hydrate")]
use wasm_bindgen::prelude::*;

/// Keeps a terminal view in `host` attached to the terminal `target` names: a new view
/// whenever it changes, none while it is `None`, and none once the pane goes.
pub fn attach(target: Memo<Option<String>>, host: NodeRef<Div>) {
    #[cfg(feature = "hydrate")]
    {
        let projects = crate::ui::state::use_tab().terminal_projects;
        follow(target, host, move |el, id| {
            let project = projects.with_value(|m| m.get(id).cloned());
            term_open(el, &socket_url(id, project.as_deref()))
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (target, host);
}

/// Shows in `host`, read-only, what session `target` printed as the server kept it (SPEC
/// §9): a new view whenever it changes, none while it is `None`.
pub fn replay(target: Memo<Option<String>>, host: NodeRef<Div>) {
    #[cfg(feature = "hydrate")]
    follow(target, host, |el, id| {
        term_replay(el, &format!("/api/sessions/{}/output", js_sys::encode_uri_component(id)))
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (target, host);
}

/// One view in `host` made by `open` for what `target` names, made anew when it changes,
/// closed while it is `None` and when the pane goes.
#[cfg(feature = "hydrate")]
fn follow(
    target: Memo<Option<String>>,
    host: NodeRef<Div>,
    open: impl Fn(&web_sys::HtmlElement, &str) -> JsValue + 'static,
) {
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
            view.set_value(Some(open(&el, &id)));
        }
    });
    on_cleanup(close);
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen(inline_js = r##"
function term_new(el, options) {
  const term = new Terminal(Object.assign({
    fontFamily: 'ui-monospace, "JetBrains Mono", "DejaVu Sans Mono", Menlo, monospace',
    fontSize: 13, lineHeight: 1.15, cursorBlink: true, scrollback: 10000, allowProposedApi: false,
    theme: { background: "#0b0d11", foreground: "#d7dce4", cursor: "#6ea8fe", selectionBackground: "#2f5590" },
  }, options));
  const fit = new FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open(el);
  try { fit.fit(); } catch (_) {}
  return { term, fit };
}

// The kept output, fetched a piece at a time (each answer says where the next starts).
export function term_replay(el, url) {
  const { term, fit } = term_new(el, { disableStdin: true, cursorBlink: false, scrollback: 100000 });
  const state = { disposed: false };
  const ro = new ResizeObserver(() => { try { fit.fit(); } catch (_) {} });
  ro.observe(el);
  el.dataset.loaded = "false";
  const load = async (offset) => {
    while (!state.disposed) {
      const res = await fetch(`${url}?offset=${offset}`, { credentials: "same-origin" });
      if (!res.ok) { term.write(`\x1b[31m[the kept output cannot be read: ${res.status}]\x1b[0m\r\n`); break; }
      const from = Number(res.headers.get("Output-Offset"));
      const end = Number(res.headers.get("Output-End"));
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (state.disposed) return;
      if (offset === 0 && from > 0) term.write(`\x1b[2m[${from} earlier bytes went over the output budget]\x1b[0m\r\n`);
      term.write(bytes);
      offset = from + bytes.length;
      if (bytes.length === 0 || offset >= end) break;
    }
    el.dataset.loaded = "true";
  };
  load(0).catch(() => { el.dataset.loaded = "failed"; });
  return { dispose() { state.disposed = true; ro.disconnect(); term.dispose(); } };
}

// The socket resumes by byte offset (see the server's `terminal::wire`): `queued` is the
// offset after what was handed to xterm.js, `written` after what it has written (shown in
// `data-written`, acknowledged to the server, which sends at most WINDOW beyond it).
const WINDOW = 1 << 20;
export function term_open(el, url) {
  const { term, fit } = term_new(el, {});
  const state = { ws: null, disposed: false, exited: false, delay: 150, queued: null, written: 0, acked: 0, pending: 0, gaps: 0 };
  // What is typed before the socket is open (or while it reconnects) waits for it: nothing
  // a person typed is lost (at most 1 MiB of it; acks are only for an open socket).
  const typed = [];
  let typedBytes = 0;
  const send = (m) => {
    if (state.ws && state.ws.readyState === 1) state.ws.send(JSON.stringify(m));
    else if (m.type === "input" && typedBytes + m.data.length <= WINDOW) { typed.push(m); typedBytes += m.data.length; }
  };
  // What xterm has written is acknowledged when a quarter of the window is, or it is idle.
  const write = (data, end) => {
    state.queued = end;
    state.pending += 1;
    term.write(data, () => {
      state.pending -= 1;
      state.written = end;
      el.dataset.written = String(end);
      if (end - state.acked >= WINDOW / 4 || state.pending === 0) {
        state.acked = end;
        send({ type: "ack", offset: end });
      }
    });
  };
  const connect = () => {
    if (state.disposed || state.exited) return;
    // Back again: from where the view is, not the recent output again.
    const resume = state.queued === null ? "" : `&offset=${state.queued}`;
    const ws = new WebSocket(`${url}${url.includes("?") ? "&" : "?"}cols=${term.cols}&rows=${term.rows}&window=${WINDOW}${resume}`);
    ws.binaryType = "arraybuffer";
    state.ws = ws;
    let next = 0;
    ws.onopen = () => {
      state.delay = 150;
      el.dataset.connected = "true";
      for (const m of typed.splice(0)) ws.send(JSON.stringify(m));
      typedBytes = 0;
    };
    ws.onmessage = (e) => {
      if (typeof e.data !== "string") {
        next += e.data.byteLength;
        write(new Uint8Array(e.data), next);
        return;
      }
      let m;
      try { m = JSON.parse(e.data); } catch (_) { return; }
      if (m.type === "offset") {
        next = m.offset;
        state.acked = m.offset;
        if (state.queued === null) state.queued = m.offset;
      } else if (m.type === "gap") {
        next = m.to;
        state.gaps += 1;
        el.dataset.gaps = String(state.gaps);
        write(`\r\n\x1b[2m[${m.to - m.from} bytes of output (offsets ${m.from}–${m.to}) went over the budget before they could be shown]\x1b[0m\r\n`, m.to);
      } else if (m.type === "exit") {
        state.exited = true;
        el.dataset.exited = String(m.code);
        term.write(`\r\n\x1b[2m[process exited with code ${m.code}]\x1b[0m\r\n`);
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
    /// Opens a read-only view in `el` of the kept output at `url`.
    fn term_replay(el: &web_sys::HtmlElement, url: &str) -> JsValue;
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
