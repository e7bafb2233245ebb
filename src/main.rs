//! GLEH, the Gammons Landing Educational Hub: one binary, `gleh`.

mod catalog;
mod cli;
mod config;
mod csrf;
mod db;
mod doctor;
mod http;
mod import;
mod logging;
mod password;
mod ratelimit;
mod routes;
mod server;
mod session;
mod state;
mod users;

fn main() {
    std::process::exit(cli::run());
}
