//! A TCP relay on a loopback port in front of another address (the test's PostgreSQL),
//! which the test can cut: every relayed connection is reset and new ones are reset as
//! soon as they are accepted, as a server sees it when the network to its database goes
//! away; `restore` lets connections through again.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, Ordering},
};

use tokio::{
    net::{TcpListener, TcpStream},
    task::{AbortHandle, JoinHandle},
};

pub struct Relay {
    pub port: u16,
    cut: Arc<AtomicBool>,
    live: Arc<Mutex<Vec<AbortHandle>>>,
    accept: JoinHandle<()>,
}

/// Closing a socket with linger 0 sends a reset, not an orderly end of stream.
fn reset_on_close(s: &TcpStream) {
    let _ = s.set_zero_linger();
}

impl Relay {
    /// A relay to `target` (`host:port`).
    pub async fn to(target: &str) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind relay");
        let port = listener.local_addr().expect("relay address").port();
        let cut = Arc::new(AtomicBool::new(false));
        let live: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let target = target.to_string();
        let accept = {
            let (cut, live) = (cut.clone(), live.clone());
            tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    reset_on_close(&inbound);
                    if cut.load(Ordering::Acquire) {
                        continue;
                    }
                    let Ok(mut outbound) = TcpStream::connect(&target).await else {
                        continue;
                    };
                    reset_on_close(&outbound);
                    let relay = tokio::spawn(async move {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    });
                    if let Ok(mut l) = live.lock() {
                        l.retain(|h| !h.is_finished());
                        l.push(relay.abort_handle());
                    }
                }
            })
        };
        Relay {
            port,
            cut,
            live,
            accept,
        }
    }

    /// Resets every relayed connection and every new one, until `restore`.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::Release);
        if let Ok(mut l) = self.live.lock() {
            for h in l.drain(..) {
                h.abort();
            }
        }
    }

    pub fn restore(&self) {
        self.cut.store(false, Ordering::Release);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}
