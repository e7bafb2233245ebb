//! Password hashing: Argon2id with OWASP parameters, PHC strings. (The policy a new
//! password must meet is `domain::NewPassword`.)
//!
//! Hashing runs on its own pool of one thread per CPU (rayon's), behind a semaphore of the
//! same size, so a flood of logins queues here instead of stalling the async workers that
//! serve everything else. The pool's threads run at the lowest CPU priority (Linux's
//! `SCHED_IDLE` policy, and nice 19 where that is refused, see `lower_priority`): when the
//! CPUs are idle a login gets them all, and when reads and writes are waiting too, they go
//! first — a login flood costs logins time, not every
//! other request's latency (docs/reliability.md "Load held"). The same pool verifies the
//! original GLEH's Werkzeug hashes (`werkzeug`), which an import brings along and the first
//! successful login replaces with Argon2id.

mod werkzeug;

use std::sync::{Arc, Mutex};

use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::phc::{Output, ParamsString, PasswordHash, Salt},
};
use subtle::ConstantTimeEq as _;
use tokio::sync::{OnceCell, Semaphore};

/// OWASP Password Storage Cheat Sheet: m = 19 MiB, t = 2, p = 1.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Argon2 working memory (19 MiB per hash). While logins keep coming the buffers are
/// reused — otherwise every hash allocates and frees 19 MiB and a login flood leaves the
/// process at hundreds of MiB; once no other hash is running, the buffer is freed, so an
/// idle server holds none (see `release_memory_to_os`).
#[derive(Default)]
struct MemoryPool(Mutex<Vec<Vec<Block>>>);

/// Makes large allocations (the argon2 buffers) come straight from `mmap`, so freeing one
/// returns it to the OS at once. glibc otherwise raises its mmap threshold after the first
/// such free and keeps later buffers in the heap, where they are never given back.
pub fn release_memory_to_os() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator tuning; called once at start-up, before any
    // argon2 buffer exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        // Fewer per-thread heaps: SQLite's worker threads and the hashing threads would each
        // get one and keep freed memory in it.
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

impl MemoryPool {
    fn with<T>(&self, blocks: usize, busy: bool, f: impl FnOnce(&mut [Block]) -> T) -> T {
        let reused = self.0.lock().ok().and_then(|mut p| p.pop());
        let mut buf = reused
            .filter(|b| b.len() >= blocks)
            .unwrap_or_else(|| vec![Block::new(); blocks]);
        let out = f(&mut buf[..blocks]);
        // Keep standard-size buffers while other hashes are running; else free them.
        if busy && buf.len() == STANDARD_BLOCKS {
            if let Ok(mut p) = self.0.lock() {
                p.push(buf);
            }
        } else if let Ok(mut p) = self.0.lock() {
            p.clear();
        }
        out
    }
}

const STANDARD_BLOCKS: usize = 19_456;

/// How much lower than the server's own threads the hashing threads run (a nice value).
const HASH_NICENESS: libc::c_int = 19;

/// Lowers the calling thread's CPU priority (Linux keeps a policy and a nice value per
/// thread). Only ever lowered, never restored: that needs a privilege the service does not
/// have, which is why hashing has threads of its own. Nice 19 alone still let a login flood
/// take a quarter of a CPU from a saturated server (docs/reliability.md "Load held"):
/// under `SCHED_IDLE` a thread runs only when no ordinary thread wants the CPU.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority and sched_setscheduler on the calling thread's own id only change
    // its scheduling weight and policy; the parameter is a valid, initialised struct.
    unsafe {
        let tid = libc::gettid() as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, HASH_NICENESS);
        let param = libc::sched_param { sched_priority: 0 };
        libc::sched_setscheduler(0, libc::SCHED_IDLE, &param);
    }
}

/// The hashing threads, made on first use and shared by every `Hasher`.
fn pool() -> anyhow::Result<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Result<rayon::ThreadPool, String>> =
        std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(cpus())
            .thread_name(|i| format!("gleh-hash-{i}"))
            .start_handler(|_| lower_priority())
            // A panicking job must not take the process down (rayon aborts by default):
            // its caller gets an error when the job's sender is dropped.
            .panic_handler(|_| tracing::error!(event = "hash_job_panicked"))
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| anyhow::anyhow!("cannot start the hashing threads: {e}"))
}

fn cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    total: usize,
    memory: Arc<MemoryPool>,
    dummy: Arc<OnceCell<String>>,
}

impl Default for Hasher {
    fn default() -> Self {
        Self::new()
    }
}

impl Hasher {
    pub fn new() -> Self {
        let cpus = cpus();
        Hasher {
            permits: Arc::new(Semaphore::new(cpus)),
            total: cpus,
            memory: Arc::new(MemoryPool::default()),
            dummy: Arc::new(OnceCell::new()),
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&MemoryPool, bool) -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let _permit = self.permits.acquire().await?;
        let memory = self.memory.clone();
        let permits = self.permits.clone();
        let total = self.total;
        // "busy": another hash is running or waiting for a permit right now.
        let busy = move || permits.available_permits() + 1 < total;
        let (tx, rx) = tokio::sync::oneshot::channel();
        pool()?.spawn(move || {
            // The receiver is gone only when the request was abandoned.
            let _ = tx.send(f(&memory, busy()));
        });
        Ok(rx.await?)
    }

    /// Hashes a password into a PHC string `$argon2id$v=19$m=19456,t=2,p=1$…`.
    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        self.blocking(move |mem, busy| hash_with(mem, busy, &password))
            .await?
    }

    /// Verifies against a stored hash: an Argon2 PHC string, or a Werkzeug hash within its
    /// bounds (`werkzeug`). Anything else is no usable password: it fails, after the same
    /// work as a wrong password (the dummy verification).
    pub async fn verify(&self, password: String, stored: String) -> anyhow::Result<bool> {
        match Format::of(&stored) {
            Format::Argon2 => self.verify_argon2(password, stored).await,
            Format::Werkzeug => {
                self.blocking(move |_, _| {
                    werkzeug::parse(&stored).is_some_and(|h| werkzeug::verify(&password, &h))
                })
                .await
            }
            Format::Unusable => {
                self.verify_dummy(password).await?;
                Ok(false)
            }
        }
    }

    async fn verify_argon2(&self, password: String, stored: String) -> anyhow::Result<bool> {
        self.blocking(move |mem, busy| verify_with(mem, busy, &password, &stored))
            .await
    }

    /// Burns the same time as a real verification, for unknown usernames.
    pub async fn verify_dummy(&self, password: String) -> anyhow::Result<()> {
        let dummy = self
            .dummy
            .get_or_try_init(|| async {
                let mut random = [0u8; 24];
                rand::fill(&mut random[..]);
                self.hash(hex::encode(random)).await
            })
            .await?
            .clone();
        self.verify_argon2(password, dummy).await?;
        Ok(())
    }
}

/// What kind of stored hash a string is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A PHC string of Argon2 (`$argon2id$…`): this hub's own.
    Argon2,
    /// A Werkzeug hash of the original within the bounds this hub verifies.
    Werkzeug,
    /// Anything else (another format, hostile parameters, the import's `!` marker): no
    /// password can log in with it until an admin or `gleh user set-password` sets one.
    Unusable,
}

impl Format {
    pub fn of(stored: &str) -> Format {
        if stored.starts_with("$argon2") {
            Format::Argon2
        } else if werkzeug::parse(stored).is_some() {
            Format::Werkzeug
        } else {
            Format::Unusable
        }
    }
}

/// What the import stores for an account whose original hash nobody can verify.
pub const UNUSABLE_HASH: &str = "!";

fn hash_with(mem: &MemoryPool, busy: bool, password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    rand::fill(&mut salt[..]);
    let argon = argon2();
    let params = argon.params().clone();
    let mut out = [0u8; 32];
    mem.with(params.block_count(), busy, |blocks| {
        argon.hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, blocks)
    })
    .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("argon2: {e}"))?,
        salt: Some(Salt::new(&salt).map_err(|e| anyhow::anyhow!("argon2: {e}"))?),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("argon2: {e}"))?),
    };
    Ok(phc.to_string())
}

/// Verifies `password` against a PHC string with the parameters it names, in constant time.
fn verify_with(mem: &MemoryPool, busy: bool, password: &str, stored: &str) -> bool {
    let Ok(phc) = PasswordHash::new(stored) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(phc.algorithm.as_str()),
        Params::try_from(&phc),
        phc.salt,
        phc.hash,
    ) else {
        return false;
    };
    let version = match phc.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    // Refuse absurd stored parameters rather than allocate for them.
    if params.m_cost() > 1 << 20 || params.t_cost() > 16 {
        return false;
    }
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    let ok = mem.with(params.block_count(), busy, |blocks| {
        argon.hash_password_into_with_memory(password.as_bytes(), salt.as_ref(), &mut out, blocks)
    });
    ok.is_ok() && bool::from(out.as_slice().ct_eq(expected.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_runs_below_the_servers_priority() {
        let h = Hasher::new();
        let (nice, policy) = h
            .blocking(|_, _| {
                // SAFETY: reads the calling thread's own nice value and policy.
                unsafe {
                    (
                        libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t),
                        libc::sched_getscheduler(0),
                    )
                }
            })
            .await
            .unwrap();
        assert_eq!(nice, HASH_NICENESS);
        assert_eq!(policy, libc::SCHED_IDLE);
        let stored = h.hash("correct horse battery staple".into()).await.unwrap();
        assert!(
            h.verify("correct horse battery staple".into(), stored)
                .await
                .unwrap()
        );
    }

    #[test]
    fn phc_string_has_owasp_parameters() {
        let h = hash_with(
            &MemoryPool::default(),
            false,
            "correct horse battery staple",
        )
        .unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        let mem = MemoryPool::default();
        assert!(verify_with(&mem, true, "correct horse battery staple", &h));
        assert!(!verify_with(&mem, true, "correct horse battery stapl", &h));
        assert!(!verify_with(&mem, true, "x", "not a hash"));
        // Interoperable with the argon2 crate's own PHC API, both ways.
        use argon2::{PasswordHasher as _, PasswordVerifier as _};
        let theirs = argon2().hash_password(b"pw-123456").unwrap().to_string();
        assert!(verify_with(&mem, true, "pw-123456", &theirs));
        assert!(
            argon2()
                .verify_password(b"correct horse battery staple", h.as_str())
                .is_ok()
        );
    }
}
