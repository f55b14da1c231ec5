//! Terminal tests: a real shell in a real pseudo-terminal, driven over its WebSocket.

use futures::{SinkExt, StreamExt};
use maestro::model::*;
use maestro::store::{Command, Outcome, Store, StoreConfig};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

/// One viewer of a terminal: its socket plus output read but not yet matched, so that
/// output arriving in one frame can satisfy several successive `read_until`s.
pub(crate) struct Viewer {
    ws: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
    unread: String,
}

use crate::common;

async fn server(max: usize) -> common::InProcess {
    common::in_process(StoreConfig::memory(), |state| state.terminals = state.terminals.clone().with_max(max)).await
}

async fn session(store: &Store, base_path: Option<String>) -> Session {
    let np = NewProject { name: "T".into(), base_path, ..Default::default() };
    let Ok(Outcome::Project(p)) = store.execute(Command::CreateProject { project: np }, None).await else { panic!() };
    let ns = NewSession { project_id: p.id, ..Default::default() };
    let Ok(Outcome::Session(s)) = store.execute(Command::CreateSession { session: ns }, None).await else { panic!() };
    s
}

pub(crate) async fn attach(addr: std::net::SocketAddr, id: &str) -> Viewer {
    let ws = connect_async(format!("ws://{addr}/terminals/{id}/ws?cols=100&rows=40")).await.unwrap().0;
    Viewer { ws, unread: String::new() }
}

/// The same on a server process, with its token.
pub(crate) async fn attach_as(addr: std::net::SocketAddr, id: &str, token: &str) -> Viewer {
    attach_query(addr, id, "", token).await
}

/// The same with more of a query (`&project=…`).
pub(crate) async fn attach_query(addr: std::net::SocketAddr, id: &str, more: &str, token: &str) -> Viewer {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{addr}/terminals/{id}/ws?cols=100&rows=40{more}").into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    Viewer { ws: connect_async(req).await.unwrap().0, unread: String::new() }
}

impl Viewer {
    pub(crate) async fn input(&mut self, text: &str) {
        let msg = serde_json::json!({"type": "input", "data": text}).to_string();
        self.ws.send(Message::Text(msg.into())).await.unwrap();
    }

    /// Reads output until it contains `want` and consumes it (and what came before it),
    /// which it returns. Panics after 10 s.
    pub(crate) async fn read_until(&mut self, want: &str) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !self.unread.contains(want) {
            let msg = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("no {want:?} within 10 s; got {:?}", self.unread));
            match msg {
                Some(Ok(Message::Binary(b))) => self.unread.push_str(&String::from_utf8_lossy(&b)),
                Some(Ok(Message::Text(t))) => self.unread.push_str(&t),
                Some(Ok(_)) => {}
                other => panic!("terminal socket ended ({other:?}) before {want:?}; got {:?}", self.unread),
            }
        }
        let end = self.unread.find(want).unwrap() + want.len();
        self.unread.drain(..end).collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_terminal_runs_in_its_project_with_its_env_resizes_reattaches_and_reports_exit() {
    let srv = server(8).await;
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().canonicalize().unwrap().to_string_lossy().to_string();
    let s = session(&srv.store, Some(dir_path.clone())).await;
    let mut ws = attach(srv.addr, &s.id).await;
    ws.input("echo hello-$((6*7)) $MAESTRO_SESSION_ID cwd=$(pwd)\r").await;
    ws.read_until(&format!("hello-42 {}", s.id)).await;
    ws.read_until(&format!("cwd={dir_path}")).await;

    let resize = serde_json::json!({"type": "resize", "cols": 120, "rows": 50}).to_string();
    ws.ws.send(Message::Text(resize.into())).await.unwrap();
    ws.input("stty size\r").await;
    ws.read_until("50 120").await;

    // A second viewer (a reload, another tab) gets the scrollback, then live output.
    let mut again = attach(srv.addr, &s.id).await;
    again.read_until(&format!("hello-42 {}", s.id)).await;
    again.input("echo from-second-$((1+1))\r").await;
    ws.read_until("from-second-2").await;
    again.read_until("from-second-2").await;

    // The process exits on its own with a failure: both viewers are told, the session fails.
    ws.input("exit 3\r").await;
    ws.read_until(r#"{"type":"exit","code":3}"#).await;
    again.read_until(r#"{"type":"exit","code":3}"#).await;
    let mut status = SessionStatus::Running;
    for _ in 0..200 {
        status = srv.store.read(|st| st.sessions[&s.id].status);
        if status != SessionStatus::Running {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(status, SessionStatus::Failed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_exit_completes_the_session_and_deleting_the_session_kills_its_terminal() {
    let srv = server(8).await;
    let s = session(&srv.store, None).await;
    let mut ws = attach(srv.addr, &s.id).await;
    ws.input("exit\r").await;
    ws.read_until(r#"{"type":"exit","code":0}"#).await;
    for _ in 0..200 {
        if srv.store.read(|st| st.sessions[&s.id].status) == SessionStatus::Completed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(srv.store.read(|st| st.sessions[&s.id].status), SessionStatus::Completed);

    let s2 = session(&srv.store, None).await;
    let mut ws = attach(srv.addr, &s2.id).await;
    ws.input("echo ready-$((2*3))\r").await;
    ws.read_until("ready-6").await;
    srv.store.execute(Command::DeleteSession { id: s2.id.clone() }, None).await.unwrap();
    ws.read_until(r#"{"type":"exit""#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_terminals_unknown_ids_and_the_cap() {
    let srv = server(1).await;
    let mut plain = attach(srv.addr, "term_abc").await;
    plain.input("echo plain-$((5*5))\r").await;
    plain.read_until("plain-25").await;

    let url = |id: &str| format!("ws://{}/terminals/{id}/ws", srv.addr);
    match connect_async(url("not-a-session")).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 404),
        other => panic!("expected 404, got {other:?}"),
    }
    match connect_async(url("term_second")).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
            assert_eq!(r.status(), 429);
            let body = String::from_utf8_lossy(r.body().as_deref().unwrap_or_default()).to_string();
            assert!(body.contains("at most 1 terminals"), "{body}");
        }
        other => panic!("expected 429, got {other:?}"),
    }
    // Closing the plain terminal ends it.
    let res = reqwest::Client::new().delete(format!("http://{}/terminals/term_abc", srv.addr)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    plain.read_until(r#"{"type":"exit""#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_directory_that_disappeared_is_said_in_the_terminal() {
    let srv = server(8).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_string_lossy().to_string();
    let s = session(&srv.store, Some(path.clone())).await;
    drop(dir); // removed after the project was made
    let mut ws = attach(srv.addr, &s.id).await;
    ws.read_until(&format!("the project's directory {path} does not exist")).await;
    ws.input("echo cwd=$(pwd)\r").await;
    ws.read_until(&format!("cwd={}", std::env::var("HOME").unwrap())).await;
}

/// Waits (on the event stream, 10 s at most) until `done` holds for an event.
pub(crate) async fn until_event(
    events: &mut (impl futures::Stream<Item = Result<maestro::model::ServerMessage, maestro::rest_client::ClientError>>
              + Unpin),
    done: impl Fn(&EventData) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let m = tokio::time::timeout_at(deadline, events.next()).await.expect("the event within 10 s");
        if let Some(Ok(maestro::model::ServerMessage::Event(e))) = m {
            if done(&e.data) {
                return;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_starts_with_its_prompt_and_reports_with_the_cli() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fake-agent.sh");
    let agent = format!("fake=sh {script} {{prompt}}");
    let srv = common::Start { args: &["--agent", &agent], ..Default::default() }.run().await;
    let c = &srv.client;
    let dir = tempfile::tempdir().unwrap();
    let np =
        NewProject { name: "A".into(), base_path: Some(dir.path().to_string_lossy().into()), ..Default::default() };
    let p = c.create_project(&np).await.unwrap();
    let prompt = "Fix the \"quoted\" bug; don't `run` $(this)";
    let nt = NewTask { project_id: p.id.clone(), title: "t".into(), prompt: Some(prompt.into()), ..Default::default() };
    let t = c.create_task(&nt).await.unwrap();
    let agents: Vec<Agent> =
        srv.http().get(format!("{}/agents?projectId={}", srv.api, p.id)).send().await.unwrap().json().await.unwrap();
    assert_eq!(agents.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["fake"]);

    // An agent the project does not offer is refused before anything is recorded.
    let mut ns = NewSession { project_id: p.id.clone(), task_ids: vec![t.id.clone()], ..Default::default() };
    ns.agent_id = Some("nope".into());
    let err = c.create_session(&ns).await.unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert!(err.to_string().contains("configured: fake"), "{err}");

    ns.agent_id = Some("fake".into());
    let mut events = std::pin::pin!(c.watch(Some(c.health().await.unwrap().seq)));
    let s = c.create_session(&ns).await.unwrap();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", srv.port).parse().unwrap();
    let mut ws = attach_as(addr, &s.id, &srv.token).await;
    ws.read_until(&format!("prompt file: {prompt}")).await;
    ws.read_until(&format!("prompt argument: {prompt}")).await;
    // The session's start made its task in progress (SPEC §8).
    until_event(&mut events, |e| matches!(e, EventData::TaskUpdated(x) if x.status == TaskStatus::InProgress)).await;
    ws.read_until("press Enter to finish").await;
    ws.input("\r").await;
    ws.read_until("fake agent: done").await;
    // `maestro` (this build) on its PATH, with the session's variables, reached the server.
    until_event(&mut events, |e| matches!(e, EventData::TaskUpdated(x) if x.status == TaskStatus::Completed)).await;
    ws.read_until(r#"{"type":"exit","code":0}"#).await;
    until_event(&mut events, |e| matches!(e, EventData::SessionUpdated(x) if x.status == SessionStatus::Completed))
        .await;
    assert_eq!(c.session(&s.id).await.unwrap().agent_id.as_deref(), Some("fake"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_token_server_session_terminals_get_the_token_and_plain_ones_do_not() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let srv = common::in_process(StoreConfig::memory(), |state| {
        *state = state.clone().with_token(Some("s3cret".into()));
    })
    .await;
    let open = |id: String| async move {
        let mut req = format!("ws://{}/terminals/{id}/ws?cols=100&rows=40", srv.addr).into_client_request().unwrap();
        req.headers_mut().insert("authorization", "Bearer s3cret".parse().unwrap());
        Viewer { ws: connect_async(req).await.unwrap().0, unread: String::new() }
    };
    // The `maestro` CLI inside a session must be let in: the session's terminal has the token.
    let s = session(&srv.store, None).await;
    let mut ws = open(s.id.clone()).await;
    ws.input("echo token=[$MAESTRO_TOKEN]\r").await;
    ws.read_until("token=[s3cret]").await;
    // A plain terminal is no Maestro session: it gets no token (nor inherits the server's).
    let mut plain = open("term_tokentest".into()).await;
    plain.input("echo token=[$MAESTRO_TOKEN]\r").await;
    plain.read_until("token=[]").await;
}

/// A process's nice value, from `/proc/PID/stat`.
fn nice_of(stat: &str) -> i32 {
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    // Fields after the name: state is 3rd of stat, nice the 19th.
    after.split_whitespace().nth(16).and_then(|n| n.parse().ok()).expect("a nice value")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_run_at_a_lower_cpu_priority_and_plain_terminals_at_the_servers() {
    // Said once the holder set it up (the test types only after seeing READY).
    let tell = r#"echo READY; read _; echo "NICE=$(cut -d')' -f2 /proc/$$/stat | cut -d' ' -f18)" "GROUP=$(cat /proc/$$/autogroup 2>/dev/null | sed 's/.* nice //')"; read _"#;
    let agent = format!("teller={tell}");
    let env = [("MAESTRO_AGENT_NICE", "7"), ("MAESTRO_TERMINAL_COMMAND", tell)];
    let srv = common::Start { args: &["--agent", &agent], env: &env, ..Default::default() }.run().await;
    let own = nice_of(&std::fs::read_to_string("/proc/self/stat").unwrap());
    let dir = tempfile::tempdir().unwrap();
    let np =
        NewProject { name: "N".into(), base_path: Some(dir.path().to_string_lossy().into()), ..Default::default() };
    let p = srv.client.create_project(&np).await.unwrap();
    let ns = NewSession { project_id: p.id.clone(), agent_id: Some("teller".into()), ..Default::default() };
    let s = srv.client.create_session(&ns).await.unwrap();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", srv.port).parse().unwrap();
    let autogroups = std::path::Path::new("/proc/self/autogroup").exists();
    for (id, want) in [(s.id.as_str(), own.max(7)), ("term_nice", own)] {
        let mut ws = attach_as(addr, id, &srv.token).await;
        ws.read_until("READY").await;
        ws.input("\r").await;
        ws.read_until(&format!("NICE={want} ")).await;
        let group = ws.read_until("\n").await;
        // With autogroups (the kernel shares the CPU between sessions first) the session's
        // group is lowered too; a plain terminal's stays as made.
        if autogroups {
            let want = if id == s.id { want } else { 0 };
            assert!(group.trim_start().starts_with(&format!("GROUP={want}")), "{id}: {group:?}");
        }
    }
}

/// An ordinary account may change scheduling groups' priority about ten times a second
/// (machine-wide; the kernel refuses the rest for a while): agents started at once still
/// each get the lower priority.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_started_at_once_by_an_ordinary_account_each_run_at_the_lower_priority() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { nix::libc::geteuid() } != 0 || !std::path::Path::new("/proc/self/autogroup").exists() {
        eprintln!("skipped: needs root (to run the server as another account) and autogroups");
        return;
    }
    let agent = "still=echo READY; exec sleep 120";
    let srv = common::Start { uid: Some(65534), args: &["--agent", agent], ..Default::default() }.run().await;
    let p = srv.client.create_project(&NewProject { name: "N".into(), ..Default::default() }).await.unwrap();
    let ns = NewSession { project_id: p.id.clone(), agent_id: Some("still".into()), ..Default::default() };
    let started = futures::future::join_all((0..4).map(|_| srv.client.create_session(&ns))).await;
    assert!(started.iter().all(Result::is_ok), "{started:?}");
    let dir = common::data_dir_of(&srv.api).unwrap();
    let groups = || -> Vec<String> {
        let pids = common::terminal_records(&dir).into_iter().filter_map(|r| r["pid"].as_i64());
        pids.map(|pid| std::fs::read_to_string(format!("/proc/{pid}/autogroup")).unwrap_or_default()).collect()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let g = groups();
        if g.len() == 4 && g.iter().all(|g| g.trim_end().ends_with("nice 10")) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "agents' groups: {g:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
