//! The ways in: the REST API (for scripts and the CLI) and the Leptos server functions
//! (for the UI). Both are thin: they parse, call one store operation, and render.

pub mod functions;

#[cfg(feature = "ssr")]
pub mod rest;
