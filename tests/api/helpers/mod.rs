//! The test harness: `Server::start` runs the real `gleh` binary on a random port with a
//! fresh database (`db`), `Client` talks to it over HTTP with an explicit cookie jar
//! (`client`), `Cluster::start` runs several of them on one database (`cluster`), `Relay`
//! stands between a server and PostgreSQL and can be cut (`relay`), and
//! `both_backends!` runs one test on SQLite and on PostgreSQL.

mod accounts;
mod client;
mod cluster;
mod db;
mod forms;
mod host;
mod relay;
mod server;
mod tls;

pub use accounts::{PW, logged_in, new_user, new_user_with_token};
pub use client::{Client, Req, Resp, assert_error};
pub use cluster::{Cluster, refused_within_a_second};
pub use db::{Backend, TestDb, postgres_available};
pub use forms::{BOUNDARY, Part, form_token, multipart, multipart_type};
pub use host::{free_port, tool};
pub use relay::Relay;
pub use server::{SECRET, Server, command, env_vec, production_env, run, start};
pub use tls::{make_cert, prod_tls_env, write_cert};

/// Generates `mod NAME { sqlite, postgres }` running `async fn NAME(Backend)` on both.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use $crate::helpers::Backend;
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(Backend::Sqlite).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if $crate::helpers::postgres_available().await {
                        super::$name(Backend::Postgres).await;
                    }
                }
            }
        )*
    };
}
