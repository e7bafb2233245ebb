//! GLEH, the Gammons Landing Educational Hub: one binary, `gleh`.

mod admin;
mod auth;
mod avatar;
mod catalog;
mod cli;
mod config;
mod db;
mod doctor;
mod domain;
mod ebooks;
mod http;
mod import;
mod learning;
mod logging;
mod markdown;
mod metrics;
mod profile;
mod routes;
mod server;
mod state;
mod time;
mod tls;
mod verify;

fn main() {
    // One process-wide TLS provider, before anything can ask for one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    auth::password::release_memory_to_os();
    std::process::exit(cli::run());
}
