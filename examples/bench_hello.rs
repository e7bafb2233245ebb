//! Baseline for `bench/run.sh`: the smallest axum server on the same runtime GLEH uses
//! (tokio multi-thread, one worker per CPU), answering `GET /` with a small JSON body.
//!
//! Usage: `cargo run --release --example bench_hello -- [PORT]` (default 18100, loopback only).

use axum::{Json, Router, routing::get};
use serde_json::{Value, json};

async fn hello() -> Json<Value> {
    Json(json!({"message": "hello, world"}))
}

fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(18100);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind 127.0.0.1");
        eprintln!("bench_hello listening on http://127.0.0.1:{port}");
        let app = Router::new().route("/", get(hello));
        axum::serve(listener, app).await.expect("serve");
    });
}
