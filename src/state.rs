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

/// A short-lived copy of a response body that is the same for every anonymous caller.
#[derive(Default)]
pub struct BodyCache(std::sync::RwLock<Option<(std::time::Instant, axum::body::Bytes)>>);

impl BodyCache {
    pub fn get(&self, ttl: std::time::Duration) -> Option<axum::body::Bytes> {
        let guard = self.0.read().ok()?;
        let (at, body) = guard.as_ref()?;
        (at.elapsed() < ttl).then(|| body.clone())
    }
    /// Forgets the copy (the catalog changed).
    pub fn clear(&self) {
        if let Ok(mut guard) = self.0.write() {
            *guard = None;
        }
    }
    pub fn put(&self, body: axum::body::Bytes) {
        if let Ok(mut guard) = self.0.write() {
            *guard = Some((std::time::Instant::now(), body));
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub hasher: Hasher,
    pub keys: Arc<Keys>,
    /// `/api/content` for anonymous callers.
    pub content_cache: Arc<BodyCache>,
    /// The Calibre-Web library: its client and the state of its synchronisation.
    pub ebooks: Arc<crate::ebooks::Library>,
}
