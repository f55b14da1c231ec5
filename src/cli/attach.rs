//! `maestro attach [SESSION]` (SPEC §9): this terminal attached to a session's, over the
//! same socket a browser uses, so both share it: what one types the other sees. Raw mode
//! while attached; the window's size is passed on; Ctrl-] then d detaches (the session
//! keeps running), Ctrl-] twice sends one Ctrl-]. When the server restarts it attaches
//! again by itself, resuming at the byte offset it had reached (nothing twice, nothing
//! missed; bytes gone over the budgets are said as a browser says them).

use super::exit::Failure;
use crate::rest_client::{socket, ClientError, WsStream};
use futures::{SinkExt, StreamExt};
use std::io::Write;
use tokio_tungstenite::tungstenite::Message;

/// The detach key's first byte (Ctrl-]), and what follows it.
const ESCAPE: u8 = 0x1d;
const DETACH: u8 = b'd';
/// How long it tries to attach again when the server goes (a restart takes seconds).
const AGAIN: std::time::Duration = std::time::Duration::from_secs(60);

/// Attaches to session `id` until detached or its process exits.
pub(super) async fn run(api: &str, token: Option<&str>, id: &str) -> Result<(), Failure> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(Failure::Usage("attach needs a terminal (its input and output are not one)".into()));
    }
    if inside(id) {
        return Err(Failure::Usage(format!(
            "this is session {id}'s own terminal: attaching to it from inside would echo it to itself"
        )));
    }
    let (cols, rows) = window();
    let mut ws = socket(api, &format!("/terminals/{id}/ws?cols={cols}&rows={rows}"), token).await?;
    eprint!("maestro: attached to session {id}. Detach: Ctrl-] then d\r\n");
    let _raw = Raw::enter();
    let _ = ws.send(resize(cols, rows)).await;
    let (keys_tx, mut keys) = tokio::sync::mpsc::channel::<Vec<u8>>(16);
    std::thread::spawn(move || read_stdin(keys_tx));
    let mut winch = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change()).ok();
    let mut escaped = false;
    let mut stdout = std::io::stdout();
    // The offset after the last byte shown (the server says where a socket starts).
    let mut at: Option<u64> = None;
    loop {
        tokio::select! {
            msg = ws.next() => match msg {
                Some(Ok(Message::Binary(b))) => {
                    at = at.map(|a| a + b.len() as u64);
                    let _ = stdout.write_all(&b).and_then(|()| stdout.flush());
                }
                Some(Ok(Message::Text(t))) => {
                    if let Ok(serde_json::Value::Object(m)) = serde_json::from_str(&t) {
                        let num = |k: &str| m.get(k).and_then(|c| c.as_u64());
                        match m.get("type").and_then(|t| t.as_str()) {
                            Some("exit") => {
                                let code = num("code").unwrap_or(1);
                                eprint!("\r\nmaestro: the session's process exited with code {code}\r\n");
                                return Ok(());
                            }
                            Some("offset") => at = num("offset"),
                            Some("gap") => {
                                let (from, to) = (num("from").unwrap_or(0), num("to").unwrap_or(0));
                                eprint!("\r\nmaestro: {} bytes of output went over the budget before they could be shown\r\n", to.saturating_sub(from));
                                at = Some(to);
                            }
                            _ => {}
                        }
                    }
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => {
                    // The server restarts (its terminals outlive it): attach again, as a browser does.
                    eprint!("\r\nmaestro: the server went away; attaching again…\r\n");
                    ws = again(api, token, id, at).await?;
                    let (cols, rows) = window();
                    let _ = ws.send(resize(cols, rows)).await;
                }
                Some(Ok(_)) => {}
            },
            keys = keys.recv() => {
                let Some(keys) = keys else { return Ok(()) };
                let mut send = Vec::with_capacity(keys.len());
                for k in keys {
                    match (escaped, k) {
                        (true, DETACH) => {
                            eprint!("\r\nmaestro: detached; session {id} keeps running\r\n");
                            return Ok(());
                        }
                        (true, ESCAPE) => { send.push(ESCAPE); escaped = false; }
                        (true, k) => { send.extend([ESCAPE, k]); escaped = false; }
                        (false, ESCAPE) => escaped = true,
                        (false, k) => send.push(k),
                    }
                }
                if !send.is_empty() && ws.send(Message::Binary(send.into())).await.is_err() {
                    return Ok(());
                }
            },
            Some(()) = async { match winch.as_mut() { Some(w) => w.recv().await, None => std::future::pending().await } } => {
                let (cols, rows) = window();
                let _ = ws.send(resize(cols, rows)).await;
            }
        }
    }
}

/// Attaches to session `id` again, from offset `at`, for up to [`AGAIN`].
async fn again(api: &str, token: Option<&str>, id: &str, at: Option<u64>) -> Result<WsStream, Failure> {
    let resume = at.map(|a| format!("&offset={a}")).unwrap_or_default();
    let deadline = tokio::time::Instant::now() + AGAIN;
    let mut wait = std::time::Duration::from_millis(200);
    loop {
        let (cols, rows) = window();
        match socket(api, &format!("/terminals/{id}/ws?cols={cols}&rows={rows}{resume}"), token).await {
            Ok(ws) => return Ok(ws),
            Err(e @ ClientError::Api { .. }) => return Err(e.into()), // it ended, or was deleted
            Err(e) if tokio::time::Instant::now() >= deadline => return Err(e.into()),
            Err(_) => {}
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(std::time::Duration::from_secs(2));
    }
}

fn resize(cols: u16, rows: u16) -> Message {
    Message::Text(serde_json::json!({"type": "resize", "cols": cols, "rows": rows}).to_string().into())
}

fn read_stdin(keys: tokio::sync::mpsc::Sender<Vec<u8>>) {
    use std::io::Read;
    let mut buf = [0u8; 4096];
    let mut stdin = std::io::stdin().lock();
    while let Ok(n @ 1..) = stdin.read(&mut buf) {
        if keys.blocking_send(buf[..n].to_vec()).is_err() {
            break;
        }
    }
}

/// This terminal's size (80×24 when it cannot be told).
fn window() -> (u16, u16) {
    let mut ws = nix::libc::winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: TIOCGWINSZ writes one winsize into the one given.
    let ok = unsafe { nix::libc::ioctl(1, nix::libc::TIOCGWINSZ, &mut ws) } == 0;
    if ok && ws.ws_col > 0 && ws.ws_row > 0 {
        (ws.ws_col, ws.ws_row)
    } else {
        (80, 24)
    }
}

/// Whether this process runs in session `id`'s own terminal: the leader of its terminal's
/// session (the session's shell or agent) has `MAESTRO_SESSION_ID=id`.
fn inside(id: &str) -> bool {
    let Ok(leader) = nix::unistd::getsid(None) else { return false };
    let Ok(env) = std::fs::read(format!("/proc/{leader}/environ")) else { return false };
    let want = format!("MAESTRO_SESSION_ID={id}");
    env.split(|b| *b == 0).any(|v| v == want.as_bytes())
}

/// Raw mode on stdin until dropped.
struct Raw(Option<nix::sys::termios::Termios>);

impl Raw {
    fn enter() -> Raw {
        use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
        let stdin = std::io::stdin();
        let Ok(old) = tcgetattr(&stdin) else { return Raw(None) };
        let mut raw = old.clone();
        cfmakeraw(&mut raw);
        let _ = tcsetattr(&stdin, SetArg::TCSANOW, &raw);
        Raw(Some(old))
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        if let Some(old) = &self.0 {
            let _ = nix::sys::termios::tcsetattr(std::io::stdin(), nix::sys::termios::SetArg::TCSANOW, old);
        }
    }
}
