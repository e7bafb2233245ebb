//! Shared application state handed to every handler.

use std::sync::Arc;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::{auth::password::Hasher, config::Config, db::Db};

/// Keys derived from `SECRET_KEY` (or a random per-run key in development), one per purpose.
pub struct Keys {
    pub csrf: [u8; 32],
}

impl Keys {
    pub fn derive(secret: Option<&str>) -> Keys {
        let secret: Vec<u8> = match secret {
            Some(s) => s.as_bytes().to_vec(),
            None => {
                let mut random = [0u8; 32];
                rand::fill(&mut random[..]);
                random.to_vec()
            }
        };
        let derive = |label: &[u8]| -> [u8; 32] {
            let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&secret)
                .expect("HMAC accepts keys of any length");
            mac.update(label);
            mac.finalize().into_bytes().into()
        };
        Keys {
            csrf: derive(b"gleh/csrf/v1"),
        }
    }
}

/// The catalog's JSON for `/api/content`, built once and shared for a short while, cut
/// where each caller's own values go (`routes/api/content.rs` fills them in).
pub struct CatalogJson {
    /// Per course, in catalog order: its uid and its object up to, not including, the
    /// caller's `user_progress` and `user_note` (so: `{"type":"course",…,"thumbnail":"…",`).
    pub courses: Vec<(String, Vec<u8>)>,
    /// The e-books' objects, comma-separated, after the courses.
    pub books: Vec<u8>,
    /// The whole body for an anonymous caller.
    pub anonymous: axum::body::Bytes,
}

/// A short-lived shared value (`ttl` at each read), forgotten at once by `clear`.
pub struct Cached<T>(std::sync::RwLock<Option<(std::time::Instant, Arc<T>)>>);

impl<T> Default for Cached<T> {
    fn default() -> Self {
        Cached(std::sync::RwLock::new(None))
    }
}

impl<T> Cached<T> {
    pub fn get(&self, ttl: std::time::Duration) -> Option<Arc<T>> {
        let guard = self.0.read().ok()?;
        let (at, value) = guard.as_ref()?;
        (at.elapsed() < ttl).then(|| value.clone())
    }
    /// Forgets the value (what it was made from changed).
    pub fn clear(&self) {
        if let Ok(mut guard) = self.0.write() {
            *guard = None;
        }
    }
    pub fn put(&self, value: Arc<T>) {
        if let Ok(mut guard) = self.0.write() {
            *guard = Some((std::time::Instant::now(), value));
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub hasher: Hasher,
    pub keys: Arc<Keys>,
    /// The catalog's JSON for `/api/content`.
    pub content_cache: Arc<Cached<CatalogJson>>,
    /// The Calibre-Web library: its client and the state of its synchronisation.
    pub ebooks: Arc<crate::ebooks::Library>,
}

/// A state for unit tests of the stack and the routers: the default configuration without
/// TLS, an in-memory SQLite database (not migrated), no e-book library.
#[cfg(test)]
pub(crate) async fn for_tests() -> AppState {
    let mut config = Config::from_env().expect("default configuration");
    config.tls = None;
    AppState {
        config: Arc::new(config),
        db: Db::connect("sqlite::memory:")
            .await
            .expect("in-memory database"),
        hasher: Hasher::new(),
        keys: Arc::new(Keys::derive(None)),
        content_cache: Arc::default(),
        ebooks: Arc::new(crate::ebooks::Library::new(None).expect("no e-books")),
    }
}
