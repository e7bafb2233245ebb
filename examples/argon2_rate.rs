//! Baseline for `bench/run.sh`: raw Argon2id verifications per second with GLEH's
//! parameters (m = 19456 KiB, t = 2, p = 1), one thread per CPU, for about 5 seconds.
//! Prints a single number (verifications/s) on stdout.
//!
//! Usage: `cargo run --release --example argon2_rate -- [SECONDS]` (default 5).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};

fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);
    let password = "bench-password-123";
    let stored = argon2()
        .hash_password(password.as_bytes())
        .expect("hash")
        .to_string();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);

    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (stop, count, stored) = (stop.clone(), count.clone(), stored.clone());
            std::thread::spawn(move || {
                let a = argon2();
                while !stop.load(Ordering::Relaxed) {
                    assert!(
                        a.verify_password(password.as_bytes(), stored.as_str())
                            .is_ok()
                    );
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().expect("worker thread");
    }
    // Every verification counted finished before the join; divide by the real elapsed time.
    let elapsed = start.elapsed().as_secs_f64();
    let rate = count.load(Ordering::Relaxed) as f64 / elapsed;
    eprintln!(
        "argon2_rate: {} verifications on {threads} threads in {elapsed:.2} s",
        count.load(Ordering::Relaxed)
    );
    println!("{rate:.1}");
}
