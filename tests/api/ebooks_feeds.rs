//! Hostile and broken Calibre-Web answers (issue 10 point 7), from the fake Calibre-Web of
//! `ebooks.rs`: a feed that never ends, a 100 MiB feed (chunked and declared, generated
//! while it is sent), a server that trickles a byte every half second, an HTML page where
//! the feed should be. Each synchronisation fails with its fixed reason within its cap or
//! deadline, the last good copy is served meanwhile, and the next good answer recovers.
//! Then the OpenSearch client: doctor's search check is in `doctor.rs`.

use std::{
    sync::atomic::Ordering,
    time::{Duration, Instant},
};

use reqwest::StatusCode;

use crate::ebooks::{
    ENDLESS, HTML, HUGE, HUGE_DECLARED, TRICKLE, UP, admin, ebooks, fake_calibre, hub, sync_now,
    wait_for,
};
use crate::helpers::Backend;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_feeds_fail_within_their_limits() {
    let (fake, url) = fake_calibre(12, 5).await;
    let s = hub(Backend::Sqlite, &url, &[]).await;
    wait_for(&s, "healthy").await;
    let mut a = admin(&s).await;

    for (mode, reason, within) in [
        (ENDLESS, "larger than 8 MiB", 15),
        (HUGE, "larger than 8 MiB", 15),
        (HUGE_DECLARED, "larger than 8 MiB", 5),
        (HTML, "unusable feed", 5),
        (TRICKLE, "did not answer in time", 40),
    ] {
        fake.mode.store(mode, Ordering::SeqCst);
        let started = Instant::now();
        let r = sync_now(&mut a).await;
        let took = started.elapsed();
        assert_eq!(r.status, StatusCode::BAD_GATEWAY, "mode {mode}: {}", r.body);
        let error = r.json()["error"].as_str().unwrap_or_default().to_string();
        assert!(error.contains(reason), "mode {mode}: {error}");
        assert!(took < Duration::from_secs(within), "mode {mode}: {took:?}");
        if mode == TRICKLE {
            // The whole-request timeout (20 s), not the first byte, ends it.
            assert!(took >= Duration::from_secs(19), "{took:?}");
        }
        let content = s.client().get("/api/content").send().await.json();
        assert_eq!(
            ebooks(&content).len(),
            12,
            "mode {mode}: the last good copy"
        );
        let h = s.client().get("/health/deep").send().await;
        assert_eq!(h.json()["components"]["calibre_web"]["status"], "degraded");
    }

    fake.mode.store(UP, Ordering::SeqCst);
    let r = sync_now(&mut a).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    wait_for(&s, "healthy").await;
}
