//! The light load test of docs/checklist.md §15, built in: like `ab -n N -c C -H "Connection: close"`, N
//! GET requests from C concurrent workers, each on a new connection (TCP and TLS handshake
//! included, as a new visitor pays them).

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::json;

use super::{Verifier, client::Http, progress::Progress, tls_client::build_fresh};

/// Latencies of the successes, the failure count, and the first failure.
type Tally = (Vec<Duration>, usize, Option<String>);

pub struct LoadResult {
    pub requests: usize,
    pub concurrency: usize,
    pub elapsed: Duration,
    /// Latencies of the successful requests, sorted.
    pub latencies: Vec<Duration>,
    pub failures: usize,
    pub first_failure: Option<String>,
}

impl LoadResult {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
    pub fn mean_ms(&self) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        let total: f64 = self.latencies.iter().map(Duration::as_secs_f64).sum();
        total * 1000.0 / self.latencies.len() as f64
    }
    /// The `p`-th percentile (nearest rank) in milliseconds.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        let i = rank.clamp(1, self.latencies.len()) - 1;
        self.latencies[i].as_secs_f64() * 1000.0
    }
}

/// Runs the test; `progress` shows `load test: k/N requests` while it runs.
pub async fn run(
    http: &Http,
    path: &str,
    requests: usize,
    concurrency: usize,
    progress: Progress,
) -> LoadResult {
    let concurrency = concurrency.clamp(1, requests.max(1));
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let results = Arc::new(Mutex::new(Tally::default()));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (http, next, done, results) =
            (http.clone(), next.clone(), done.clone(), results.clone());
        let path = path.to_string();
        workers.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < requests {
                let t = Instant::now();
                let r = http.get(&path).header("connection", "close").send().await;
                let took = t.elapsed();
                let failure = match r {
                    Ok(r) if r.status.is_success() => None,
                    Ok(r) => Some(format!("status {}", r.status)),
                    Err(e) => Some(e),
                };
                if let Ok(mut res) = results.lock() {
                    match failure {
                        None => res.0.push(took),
                        Some(f) => {
                            res.1 += 1;
                            res.2.get_or_insert(f);
                        }
                    }
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let ticker = {
        let done = done.clone();
        tokio::spawn(async move {
            loop {
                progress.show(&format!(
                    "load test: {}/{requests} requests ({concurrency} concurrent)",
                    done.load(Ordering::Relaxed).min(requests)
                ));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    for w in workers {
        let _ = w.await;
    }
    ticker.abort();
    progress.clear();
    let elapsed = started.elapsed();
    let (mut latencies, failures, first_failure) = results
        .lock()
        .map(|mut r| std::mem::take(&mut *r))
        .unwrap_or_default();
    latencies.sort();
    LoadResult {
        requests,
        concurrency,
        elapsed,
        latencies,
        failures,
        first_failure,
    }
}

impl Verifier {
    /// §15: requests/s, mean, p50, p99 and failures on `GET /api/content`.
    pub async fn load_test(&mut self) {
        let http = match build_fresh(&self.target.base, self.tls_verify) {
            Ok(h) => h,
            Err(e) => return self.report.fail("load.content", e),
        };
        let (n, c) = (self.args.requests as usize, self.args.concurrency as usize);
        let r = run(&http, "/api/content", n, c, self.progress).await;
        let seen = format!(
            "{n} requests, {} concurrent, new connection each: {:.1} req/s, mean {:.1} ms, p50 {:.1} ms, p99 {:.1} ms, {} failed",
            r.concurrency,
            r.per_second(),
            r.mean_ms(),
            r.percentile_ms(50.0),
            r.percentile_ms(99.0),
            r.failures
        );
        self.load = Some(json!({
            "path": "/api/content", "requests": n, "concurrency": r.concurrency,
            "seconds": r.elapsed.as_secs_f64(), "requests_per_second": r.per_second(),
            "mean_ms": r.mean_ms(), "p50_ms": r.percentile_ms(50.0), "p99_ms": r.percentile_ms(99.0),
            "failures": r.failures,
        }));
        if r.failures > 0 {
            let first = r.first_failure.unwrap_or_default();
            self.report
                .fail("load.content", format!("{seen}; first failure: {first}"));
        } else if r.per_second() < 10.0 || r.mean_ms() > 500.0 {
            self.report.warn(
                "load.content",
                format!("{seen} — the seed expects > 10 req/s and < 500 ms"),
            );
        } else {
            self.report.pass("load.content", seen);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics() {
        let r = LoadResult {
            requests: 4,
            concurrency: 2,
            elapsed: Duration::from_secs(2),
            latencies: [10, 20, 30, 100].map(Duration::from_millis).to_vec(),
            failures: 0,
            first_failure: None,
        };
        assert_eq!(r.per_second(), 2.0);
        assert!((r.mean_ms() - 40.0).abs() < 1e-9);
        assert!((r.percentile_ms(50.0) - 20.0).abs() < 1e-9);
        assert!((r.percentile_ms(99.0) - 100.0).abs() < 1e-9);
    }
}
