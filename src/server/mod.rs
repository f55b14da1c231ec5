//! The HTTP server: one [`app`] that builds the whole router, and [`serve`] that runs it
//! until Ctrl-C or SIGTERM (or until the store can no longer write); accepting connections
//! (`listener`) and the built site's files (`site`) beside them.

pub mod listener;
pub mod node;
pub mod site;

use crate::agents::Agents;
use crate::auth::node::NodeKey;
use crate::auth::Guard;
use crate::hub::{ws_handler, Hub};
use crate::model::SessionStatus;
use crate::store::{Store, StoreConfig};
use crate::terminal::{terminal_delete, terminal_ws, Terminals};
use crate::ui::shell;
use crate::workspace::Workspaces;
use axum::extract::FromRef;
use axum::Router;
use leptos::prelude::LeptosOptions;
use leptos_axum::{AxumRouteListing, LeptosRoutes};
pub use listener::Limits;
pub use site::leptos_options;
use std::net::SocketAddr;
use std::path::PathBuf;
use tokio::sync::watch;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

/// What every handler and server function can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub store: Store,
    pub hub: Hub,
    pub leptos_options: LeptosOptions,
    pub guard: Guard,
    pub terminals: Terminals,
    /// The same agents the terminals start (one shared copy).
    pub agents: Agents,
    /// Tasks' git worktrees (SPEC §8).
    pub workspaces: Workspaces,
}

impl AppState {
    /// State around `store`; flipping `shutdown` to true closes every WebSocket.
    pub fn new(store: Store, leptos_options: LeptosOptions, shutdown: watch::Receiver<bool>) -> Self {
        let hub = Hub::start(store.clone(), shutdown.clone());
        let workspaces = Workspaces::new(store.clone(), None);
        let terminals = Terminals::new(store.clone())
            .with_closing(shutdown.clone())
            .with_api_url(format!("http://{}/api", leptos_options.site_addr))
            .with_workspaces(workspaces.clone());
        let guard = Guard::new(leptos_options.site_addr, None);
        AppState { store, hub, leptos_options, guard, terminals, agents: Agents::default(), workspaces }
    }

    /// Requires `token` on every request (see `auth`); sessions' terminals get it too.
    pub fn with_token(mut self, token: Option<String>) -> Self {
        self.guard = Guard::new(self.leptos_options.site_addr, token.clone());
        self.terminals = self.terminals.with_token(token);
        self
    }

    /// Admits the other nodes of a cluster by their proofs, and relays with this key.
    pub fn with_node_key(mut self, key: Option<NodeKey>) -> Self {
        self.guard = self.guard.with_node_key(key.clone());
        self.terminals = self.terminals.with_node_key(key.clone());
        self.workspaces = self.workspaces.with_node_key(key);
        self
    }

    /// Makes workspaces with `workspaces`, and starts sessions in their worktrees.
    pub fn with_workspaces(mut self, workspaces: Workspaces) -> Self {
        self.terminals = self.terminals.with_workspaces(workspaces.clone());
        self.workspaces = workspaces;
        self
    }

    /// Offers these agents and starts them in sessions' terminals.
    pub fn with_agents(mut self, agents: Agents) -> Self {
        self.terminals = self.terminals.with_agents(agents.clone());
        self.agents = agents;
        self
    }
}

/// How to run the server.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub addr: SocketAddr,
    /// Where the database file lives; `None` keeps everything in memory.
    pub data_dir: Option<PathBuf>,
    /// The built site (wasm, js, css), as `scripts/build-site.sh` or cargo-leptos lays it out.
    pub site_root: String,
    /// The access token (`MAESTRO_TOKEN`); else the data directory's token file, made at
    /// first start (a server in memory makes one for its run).
    pub token: Option<String>,
    /// Connection cap and header timeout.
    pub limits: Limits,
    /// `--agent NAME=COMMAND` flags (the data directory's `agents.toml` adds to them).
    pub agents: Vec<String>,
    /// Keep everything in this PostgreSQL database instead of the data directory's file.
    pub database_url: Option<String>,
    /// Where the other nodes on that database reach this one (default: `http://ADDR`).
    pub node_url: Option<String>,
    /// What the nodes on that database prove themselves with (`MAESTRO_NODE_SECRET`).
    pub node_secret: Option<String>,
    /// The byte budget of what the store holds (see `StoreConfig::max_state_bytes`).
    pub max_state_bytes: u64,
}

/// The whole application: REST API, server functions, pages and static files.
pub fn app(state: AppState) -> Router {
    let routes = crate::ui::route::PAGES
        .map(|path| AxumRouteListing::new(path.into(), Default::default(), [leptos_router::Method::Get], vec![]))
        .to_vec();
    Router::new()
        // The API's JSON goes compressed (brotli or gzip) to a client that accepts it; the
        // site's files are for precompressing at build time, not on every request.
        .nest("/api", crate::api::rest::router().layer(CompressionLayer::new()))
        .route("/ws", axum::routing::get(ws_handler))
        .route("/terminals/{id}/ws", axum::routing::get(terminal_ws))
        .route("/terminals/{id}", axum::routing::delete(terminal_delete))
        .merge(site::files(&state.leptos_options))
        .leptos_routes_with_context(
            &state,
            routes,
            {
                // What server functions reach for: only the parts they need.
                let (store, terminals, agents) = (state.store.clone(), state.terminals.clone(), state.agents.clone());
                let workspaces = state.workspaces.clone();
                move || {
                    leptos::prelude::provide_context(store.clone());
                    leptos::prelude::provide_context(terminals.clone());
                    leptos::prelude::provide_context(agents.clone());
                    leptos::prelude::provide_context(workspaces.clone());
                }
            },
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn(crate::api::functions::limits))
        .layer(axum::middleware::from_fn_with_state(state.guard.clone(), crate::auth::guard))
        .layer(CatchPanicLayer::custom(panicked))
        .layer(axum::middleware::from_fn(crate::http::log_failures))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// A panic in a handler answers 500 (never a dropped connection) and is logged; what it
/// held is released as its stack unwinds.
fn panicked(err: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let what = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("a panic");
    use axum::response::IntoResponse;
    crate::http::AppError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
        .because(format_args!("a handler panicked: {what}"))
        .into_response()
}

/// Opens the store, serves until a shutdown signal, then lets in-flight requests finish
/// and the store flush before returning.
pub async fn serve(config: ServeConfig) -> Result<(), Box<dyn std::error::Error>> {
    raise_descriptor_limit();
    let agents = Agents::load(&config.agents, config.data_dir.as_ref().map(|d| d.join("agents.toml")))?;
    let path = config.data_dir.as_ref().map(|d| d.join("maestro.db"));
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    let addr = listener.local_addr()?;
    let token = access_token(&config)?;
    let node_secret = match &config.database_url {
        Some(_) => Some(node_secret(&config, addr, &token)?),
        None => None,
    };
    // Held (locked) while the server runs.
    let node_id = match (&config.database_url, &config.data_dir) {
        (None, _) => None,
        (Some(_), Some(d)) => Some(node::NodeId::kept(d)?),
        (Some(_), None) => Some(node::NodeId::fresh()),
    };
    let node = node_id.as_ref().map(|n| crate::store::backend::NodeInfo {
        id: n.id.clone(),
        url: config.node_url.clone().unwrap_or_else(|| format!("http://{addr}")).trim_end_matches('/').to_string(),
    });
    let store = Store::open(StoreConfig {
        path: path.clone(),
        api_url: format!("http://{addr}/api"),
        retain_events: 100_000,
        retain_bytes: crate::store::RETAIN_BYTES,
        max_file_bytes: None,
        max_state_bytes: config.max_state_bytes,
        database_url: config.database_url.clone(),
        node,
        // Every node on a database holds the node secret; a lone server, its token.
        setup_key: crate::mac::Secret::derive(node_secret.as_deref().unwrap_or(&token), "maestro setup key v1"),
    })?;
    if let (Some(url), Some(secret), Some(me)) = (&config.database_url, &node_secret, store.node_id()) {
        crate::store::agree::access_settings(url, secret, &token, me)?;
    }
    match (&path, &config.database_url) {
        (_, Some(_)) => tracing::info!(seq = store.last_seq(), node = store.node_id(), "store opened on PostgreSQL"),
        (Some(p), None) => tracing::info!(file = %p.display(), seq = store.last_seq(), "store opened"),
        (None, None) => tracing::warn!("store is in memory: nothing survives a restart"),
    }
    // Before anything says the server is up (see `shutdown_signal`).
    let shutdown = shutdown_signal();
    // The link a person opens once (a wildcard address is reached through loopback here).
    let shown = match addr.ip() {
        ip if ip.is_unspecified() => SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port()),
        _ => addr,
    };
    eprintln!("maestro: open http://{shown}/?token={token} once in your browser");
    match &config.data_dir {
        Some(d) if config.token.is_none() => {
            eprintln!("maestro: the token is kept in {}", crate::auth::token::path(d).display())
        }
        _ => {}
    }
    let (stop, stopped) = watch::channel(false);
    let node_key = store.node_id().zip(node_secret).map(|(me, secret)| NodeKey::new(&secret, me));
    let mut state = AppState::new(store.clone(), leptos_options(addr, &config.site_root), stopped)
        .with_token(Some(token))
        .with_node_key(node_key.clone())
        .with_agents(agents);
    // Prompt files, output and worktrees beside the data; in memory, temporary directories.
    if let Some(d) = &config.data_dir {
        // Prompt files of sessions still running stay: their holders may have outlived a
        // server before this one.
        let running = |id: &str| store.read(|s| s.sessions.get(id).is_some_and(|s| s.status == SessionStatus::Running));
        state.terminals = state.terminals.with_prompt_dir(&d.join("prompts"), running)?;
        // Terminals outlive the server: a node on a shared database keeps its id in the data
        // directory, so a restart (within the others' timeout) re-adopts them as its own.
        state.terminals = state.terminals.with_holder_dir(&d.join("terminals"))?;
        // Sessions' output (SPEC §9), but that of sessions deleted meanwhile.
        let exists = |id: &str| store.read(|s| s.sessions.contains_key(id));
        state.terminals = state.terminals.with_output_dir(&d.join("output"), exists)?;
    }
    state = state.with_workspaces(
        Workspaces::new(store.clone(), config.data_dir.as_ref().map(|d| d.join("worktrees"))).with_node_key(node_key),
    );
    state.workspaces.start();
    // What an earlier run's terminals printed meanwhile is kept before anyone can attach.
    state.terminals.adopt().await;
    tracing::info!("Maestro listening on http://{addr}");
    let terminals = state.terminals.clone();
    let reaper = terminals.clone();
    let failed = store.clone();
    let (why_tx, mut why) = watch::channel(None::<String>);
    let signal = async move {
        let reason = tokio::select! {
            () = shutdown => None,
            e = failed.failed() => Some(e),
        };
        let _ = why_tx.send(reason);
        // Close event and terminal sockets (graceful shutdown waits for every connection);
        // terminals outlive the server where a next start can re-adopt them.
        let _ = stop.send(true);
        if !terminals.outlive() {
            terminals.kill_all();
        }
    };
    listener::run(listener, app(state), config.limits, signal).await;
    reaper.shutdown(std::time::Duration::from_secs(5)).await;
    if let Some(e) = why.borrow_and_update().clone() {
        // A server that cannot write must not look healthy: exit, so a supervisor restarts it.
        return Err(format!("stopped: {e}").into());
    }
    tracing::info!("shut down cleanly");
    Ok(())
}

/// The secret the nodes on one database prove themselves with: `MAESTRO_NODE_SECRET`;
/// on loopback, where every node is on this machine, one derived from the token when unset.
/// A node reachable from elsewhere needs a real one, and an address the others can use.
fn node_secret(config: &ServeConfig, addr: SocketAddr, token: &str) -> Result<String, String> {
    if config.node_url.is_none() && addr.ip().is_unspecified() {
        return Err(format!(
            "--node-url is needed with --database-url on {addr}: the other nodes cannot reach \"{addr}\" (it means themselves); give the address they reach this node at, e.g. --node-url http://10.0.0.1:{}",
            addr.port()
        ));
    }
    match &config.node_secret {
        Some(s) => crate::auth::token::check(s, "MAESTRO_NODE_SECRET").map(|()| s.clone()),
        None if addr.ip().is_loopback() => Ok(NodeKey::derive_secret(token)),
        None => Err("MAESTRO_NODE_SECRET is needed with --database-url off loopback: the nodes prove themselves to each other with it (the same on every node, at least 32 characters; not the access token)".into()),
    }
}

/// The token every request needs (SPEC §6): the configured one, checked; else the data
/// directory's; else (in memory) a new one for this run.
fn access_token(config: &ServeConfig) -> Result<String, String> {
    use crate::auth::token;
    match (&config.token, &config.data_dir) {
        (Some(t), _) => token::check(t, "MAESTRO_TOKEN").map(|()| t.clone()),
        (None, Some(dir)) => token::load_or_create(dir),
        (None, None) => Ok(token::generate()),
    }
}

/// Every connection and terminal is a descriptor: take the most the system allows.
fn raise_descriptor_limit() {
    #[cfg(unix)]
    {
        use nix::sys::resource::{getrlimit, setrlimit, Resource};
        if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
            if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_err() {
                tracing::debug!(soft, hard, "cannot raise the descriptor limit");
            }
        }
    }
}

/// Resolves on Ctrl-C, SIGTERM or a hang-up (the terminal it ran in closed). The handlers
/// are installed when this is called, not when the future is first polled: a SIGTERM that
/// comes as soon as the server answers must stop it cleanly, not kill it.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (mut int, mut term, mut hup) = {
        use tokio::signal::unix::{signal, SignalKind};
        let on = |k| signal(k).ok();
        (on(SignalKind::interrupt()), on(SignalKind::terminate()), on(SignalKind::hangup()))
    };
    async move {
        #[cfg(unix)]
        {
            let one = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! { _ = one(int.take()) => {}, _ = one(term.take()) => {}, _ = one(hup.take()) => {} }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown signal received");
    }
}
