//! `maestro`: with no arguments (or `serve`) runs the server; see `--help`.

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    use clap::Parser;
    use maestro::server::{serve, ServeConfig};
    use std::path::PathBuf;

    /// Maestro: a real-time command centre for many AI coding agents.
    #[derive(Parser)]
    #[command(name = "maestro", version)]
    struct Cli {
        #[command(subcommand)]
        command: Option<Command>,
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[derive(clap::Subcommand)]
    enum Command {
        /// Run the server (the default).
        Serve(ServeArgs),
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
        /// Access token every request must carry; required (and generated if absent)
        /// when listening on anything but loopback.
        #[arg(long, env = "MAESTRO_TOKEN", hide_env_values = true)]
        token: Option<String>,
    }

    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Serve(a)) => a,
        None => cli.serve,
    };
    let data_dir = if args.in_memory {
        None
    } else {
        Some(args.data_dir.unwrap_or_else(|| dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("maestro")))
    };
    let config = ServeConfig {
        addr: args.addr,
        data_dir,
        site_root: std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into()),
        token: args.token,
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
