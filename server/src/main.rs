//! The `natter-server` binary: parses settings, binds, serves until Ctrl-C
//! or SIGTERM; or, with `admin …`, moderates the server that runs on the
//! same data directory.

use clap::Parser;
use natter_server::config::{Command, Config};
use natter_server::logs::Tagged;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = Config::parse();
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    tracing_subscriber::fmt()
        .with_ansi(ansi)
        .event_format(Tagged::new(
            config.node,
            tracing_subscriber::fmt::format().with_ansi(ansi),
        ))
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    if let Some(Command::Admin(command)) = config.command {
        return match natter_server::admin::cli::run(&config.data_dir, command).await {
            Ok(text) => {
                println!("{text}");
                std::process::ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("natter-server admin: {err}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    let listener = match TcpListener::bind(config.addr).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("natter-server: cannot listen on {}: {err}", config.addr);
            return std::process::ExitCode::FAILURE;
        }
    };
    let url = match listener.local_addr() {
        Ok(addr) => format!("http://{addr}"),
        Err(_) => config.addr.to_string(),
    };
    tracing::info!(data = %config.data_dir.display(), "Natter is listening on {url}");
    println!("Natter is running at {url}  (Ctrl-C stops it)");
    match natter_server::run(listener, config, shutdown_signal()).await {
        Ok(()) => {
            tracing::info!("stopped cleanly");
            std::process::ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("natter-server: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down: finishing in-flight work");
}
