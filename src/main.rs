//! `maestro`: with no arguments (or `serve`) runs the server; see `--help`.

#[cfg(feature = "ssr")]
fn main() -> std::process::ExitCode {
    // A terminal's holder (see `terminal::holder`): before any runtime thread, as it forks.
    if std::env::args().nth(1).as_deref() == Some("__hold") {
        maestro::terminal::holder::run::main();
    }
    // Rendering a page nests deeply (Leptos' views are nested futures); unoptimised builds
    // need more than tokio's default 2 MiB per worker for a long task list.
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().thread_stack_size(16 << 20).build();
    match runtime {
        Ok(rt) => rt.block_on(run()),
        Err(e) => {
            eprintln!("maestro: cannot start the runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "ssr")]
async fn run() -> std::process::ExitCode {
    use clap::Parser;
    use maestro::server::{serve, Limits, ServeConfig};
    use std::path::PathBuf;

    /// Maestro: a real-time command centre for many AI coding agents.
    ///
    /// With no subcommand (or `serve`) it runs the server; every other subcommand is the
    /// command-line client of the server at $MAESTRO_API_URL.
    #[derive(Parser)]
    #[command(name = "maestro", version)]
    struct Cli {
        #[command(subcommand)]
        command: Option<Command>,
        #[command(flatten)]
        serve: ServeArgs,
        #[command(flatten)]
        conn: maestro::cli::Conn,
    }

    #[derive(clap::Subcommand)]
    enum Command {
        /// Run the server (the default).
        Serve(ServeArgs),
        #[command(flatten)]
        Client(maestro::cli::ClientCommand),
        /// Print a shell completion script (e.g. `maestro completions bash > /etc/bash_completion.d/maestro`).
        Completions { shell: clap_complete::Shell },
    }

    #[derive(clap::Args, Clone)]
    struct ServeArgs {
        /// Address to listen on.
        #[arg(long, env = "MAESTRO_ADDR", default_value = "127.0.0.1:3000")]
        addr: std::net::SocketAddr,
        /// Directory of the database file [default: the user's data dir]/maestro.
        #[arg(long, env = "MAESTRO_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// Keep everything in memory (nothing survives a restart); for tests and demos.
        #[arg(long, env = "MAESTRO_IN_MEMORY")]
        in_memory: bool,
        /// Access token every request must carry (at least 32 characters). Prefer the
        /// environment: a command line is visible to every account in `ps`. Without it the
        /// token is DATA_DIR/token, made at first start.
        #[arg(long, env = "MAESTRO_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// Most open connections (WebSockets included); more are refused with a 503.
        #[arg(long, env = "MAESTRO_MAX_CONNECTIONS", default_value_t = Limits::default().max_connections)]
        max_connections: usize,
        /// Seconds a client may take to send a request's header, and the longest an idle
        /// keep-alive connection stays open.
        #[arg(long, env = "MAESTRO_HEADER_TIMEOUT", default_value_t = Limits::default().header_timeout.as_secs_f64())]
        header_timeout: f64,
        /// Seconds a request may take, from its header to its response.
        #[arg(long, env = "MAESTRO_REQUEST_TIMEOUT", default_value_t = Limits::default().request_timeout.as_secs_f64())]
        request_timeout: f64,
        /// An agent "Work on task" offers, as NAME=COMMAND (repeatable; `{prompt}` and
        /// `{prompt_file}` in COMMAND are replaced). More in DATA_DIR/agents.toml.
        #[arg(long = "agent", value_name = "NAME=COMMAND")]
        agents: Vec<String>,
        /// Keep everything in this PostgreSQL database (postgres://user@host:port/db)
        /// instead of the data directory's file.
        #[arg(long, env = "MAESTRO_DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
        /// Where the other servers on the same database reach this one, to relay its
        /// terminals (default: the address it listens on).
        #[arg(long, env = "MAESTRO_NODE_URL", value_name = "URL")]
        node_url: Option<String>,
        /// The most bytes of projects, tasks and sessions (as JSON) the server holds;
        /// past it, creating more is refused (409 `store_full`) until something is deleted.
        /// The server's memory holds about twice this.
        #[arg(long, env = "MAESTRO_MAX_STATE_BYTES", value_name = "BYTES", default_value_t = maestro::store::STATE_BYTES, value_parser = clap::value_parser!(u64).range(1..))]
        max_state_bytes: u64,
    }

    let cli = match parse() {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let args = match cli.command {
        Some(Command::Serve(a)) => a,
        None => cli.serve,
        Some(Command::Client(c)) => return maestro::cli::run(c, cli.conn).await,
        Some(Command::Completions { shell }) => {
            use clap::CommandFactory;
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "maestro", &mut script);
            maestro::cli::output::print_safe(&String::from_utf8_lossy(&script));
            return std::process::ExitCode::SUCCESS;
        }
    };
    /// The command line, refusing the server's flags on a client command and the client's
    /// without one (clap would ignore them, and the person would wonder why).
    fn parse() -> Result<Cli, clap::Error> {
        use clap::{parser::ValueSource, CommandFactory, FromArgMatches};
        let mut cmd = Cli::command();
        let matches = cmd.clone().get_matches();
        let client = matches.subcommand_name().is_some_and(|n| n != "serve" && n != "completions");
        for id in matches.ids() {
            let an_arg = cmd.get_arguments().any(|a| a.get_id() == id);
            if !an_arg || matches.value_source(id.as_str()) != Some(ValueSource::CommandLine) {
                continue;
            }
            let of_client = ["api_url", "json"].contains(&id.as_str());
            if client != of_client && (client || matches.subcommand_name().is_none()) {
                let flag = format!("--{}", id.as_str().replace('_', "-"));
                let whose = if of_client { "the client commands" } else { "`maestro serve`" };
                return Err(cmd.error(clap::error::ErrorKind::ArgumentConflict, format!("{flag} is a flag of {whose}")));
            }
        }
        Cli::from_arg_matches(&matches)
    }

    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .init();
    let data_dir =
        if args.in_memory { None } else { Some(args.data_dir.unwrap_or_else(maestro::auth::token::default_data_dir)) };
    if std::env::args().any(|a| a == "--token" || a.starts_with("--token=")) {
        eprintln!("maestro: warning: --token is visible to every account on this machine (`ps`); set MAESTRO_TOKEN or use DATA_DIR/token instead");
    }
    for (flag, secs) in [("--header-timeout", args.header_timeout), ("--request-timeout", args.request_timeout)] {
        if !(secs > 0.0 && secs < 86_400.0) {
            eprintln!("maestro: {flag} must be between 0 and 86400 seconds");
            return std::process::ExitCode::from(2);
        }
    }
    let config = ServeConfig {
        addr: args.addr,
        data_dir,
        site_root: std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into()),
        token: args.token.filter(|t| !t.is_empty()),
        limits: Limits {
            max_connections: args.max_connections.max(1),
            header_timeout: std::time::Duration::from_secs_f64(args.header_timeout),
            request_timeout: std::time::Duration::from_secs_f64(args.request_timeout),
        },
        agents: args.agents,
        database_url: args.database_url.filter(|u| !u.trim().is_empty()),
        node_url: args.node_url.filter(|u| !u.trim().is_empty()),
        // From the environment only: a command line shows in `ps`.
        node_secret: std::env::var("MAESTRO_NODE_SECRET").ok().filter(|s| !s.is_empty()),
        max_state_bytes: args.max_state_bytes,
    };
    match serve(config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("maestro: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The binary is the server; the browser half is the library built for wasm32.
}
