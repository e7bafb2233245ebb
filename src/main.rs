//! GLEH, the Gammons Landing Educational Hub: one binary, `gleh`.

mod avatar;
mod catalog;
mod cli;
mod config;
mod csrf;
mod db;
mod doctor;
mod http;
mod import;
mod logging;
mod metrics;
mod password;
mod ratelimit;
mod routes;
mod server;
mod session;
mod state;
mod tls;
mod users;
mod verify;

fn main() {
    // One process-wide TLS provider, before anything can ask for one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    password::release_memory_to_os();
    std::process::exit(cli::run());
}
