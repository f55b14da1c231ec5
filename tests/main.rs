//! Every integration test, in one test binary: nine binaries each linked the server and
//! compiled the same generic code (tokio, reqwest, axum, serde) again, which made their
//! release build three times as long. Each file stays a module of its own.

mod common;

mod access;
mod agents;
mod api;
mod cli;
mod client;
mod cluster;
mod crash;
mod hardening;
mod holders;
mod postgres;
mod projects;
mod serve;
mod sessions_pane;
mod site;
mod terminal;
mod terminal_stream;
mod unattended;
mod workspace;
mod ws;
