//! A read cache of session rows (`sessions::find`), kept exact under revocation
//! (docs/security.md "The session cache").
//!
//! Every row that decides who a session is — a session's deletion or its re-authentication
//! time, an account's name, admin flag or disabled flag, an account's deletion — bumps
//! `auth_epoch.value` in the same transaction, through triggers (the migration
//! `20261206000001_auth_epoch`), whoever writes it: this instance, another instance, or a
//! `gleh` command. So the cache needs to know only two things:
//!
//! - **This instance's own writes**: each `db::` function that writes such a row calls
//!   `invalidate` once it has committed, before the request that made it answers.
//! - **Everyone else's**: `poll` (run every `POLL_EVERY` by the server) reads the epoch; a
//!   new value empties the cache. An entry is served only while the last successful poll
//!   *started* less than `FRESH_FOR` ago, so a failed, slow or stopped poller (a lost
//!   database connection) turns the cache off, and empties it, instead of serving stale
//!   rows. A revocation committed at T is seen by every poll that starts after T, so no
//!   instance serves the revoked row after T + `FRESH_FOR` + one poll's duration.
//!
//! A `Db` whose poller is not running (every CLI command) never serves from the cache.
//! Unknown ids are not cached: a guessed cookie costs a query, as before.
//!
//! Hand-written: a general cache crate (moka, quick_cache) would add expiry and eviction
//! policies but not the one rule that matters here, the generation check that keeps a row
//! read before an invalidation out of the cache after it.

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use super::sessions::Found;

/// How often the server reads the epoch.
pub const POLL_EVERY: Duration = Duration::from_millis(100);
/// How long one successful poll vouches for the cache.
pub const FRESH_FOR: Duration = Duration::from_millis(500);
/// Beyond this many sessions the cache starts over (one entry is about 150 bytes).
const MAX_ENTRIES: usize = 50_000;

pub struct SessionCache {
    start: Instant,
    inner: Mutex<Inner>,
    /// Milliseconds since `start` at which the last successful poll began; -1 for never.
    verified_at: AtomicI64,
    /// Bumped by every invalidation; a row read before a bump is not cached after it.
    generation: AtomicU64,
}

struct Inner {
    epoch: Option<i64>,
    rows: HashMap<Vec<u8>, Found>,
}

impl Default for SessionCache {
    fn default() -> Self {
        SessionCache {
            start: Instant::now(),
            inner: Mutex::new(Inner {
                epoch: None,
                rows: HashMap::new(),
            }),
            verified_at: AtomicI64::new(-1),
            generation: AtomicU64::new(0),
        }
    }
}

impl SessionCache {
    fn now_ms(&self) -> i64 {
        self.start.elapsed().as_millis() as i64
    }

    fn fresh(&self) -> bool {
        let at = self.verified_at.load(Ordering::Acquire);
        at >= 0 && self.now_ms() - at < FRESH_FOR.as_millis() as i64
    }

    /// The cached row for `id_hash`, if the cache may be trusted now.
    pub fn get(&self, id_hash: &[u8]) -> Option<Found> {
        if !self.fresh() {
            return None;
        }
        let inner = self.inner.lock().ok()?;
        inner.rows.get(id_hash).cloned()
    }

    /// The generation to pass to `put` for a row about to be read.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Caches a row read from the database, unless an invalidation happened since
    /// `generation` was taken (the row may predate it).
    pub fn put(&self, generation: u64, id_hash: &[u8], row: &Found) {
        if !self.fresh() {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if inner.rows.len() >= MAX_ENTRIES {
            inner.rows.clear();
        }
        inner.rows.insert(id_hash.to_vec(), row.clone());
    }

    /// Records a write of `last_seen_at` (which no other rule depends on).
    pub fn touched(&self, id_hash: &[u8], now: i64) {
        if let Ok(mut inner) = self.inner.lock()
            && let Some(row) = inner.rows.get_mut(id_hash)
        {
            row.last_seen_at = now;
        }
    }

    /// Forgets every row: something that decides who a session is has changed.
    pub fn invalidate(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            inner.rows.clear();
        } else {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// The start of a poll: returns the time to hand to `polled`.
    pub fn poll_started(&self) -> i64 {
        self.now_ms()
    }

    /// The result of a poll begun at `started`: the epoch read, or `None` when the
    /// database could not be read (the cache is emptied and stays off until a poll works).
    pub fn polled(&self, started: i64, epoch: Option<i64>) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        match epoch {
            Some(e) => {
                if inner.epoch != Some(e) {
                    self.generation.fetch_add(1, Ordering::AcqRel);
                    inner.rows.clear();
                    inner.epoch = Some(e);
                }
                self.verified_at.store(started, Ordering::Release);
            }
            None => {
                self.generation.fetch_add(1, Ordering::AcqRel);
                inner.rows.clear();
                inner.epoch = None;
                self.verified_at.store(-1, Ordering::Release);
            }
        }
    }

    /// Entries held now.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.inner.lock().map(|i| i.rows.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str) -> Found {
        Found {
            user_id: 1,
            created_at: 0,
            last_seen_at: 0,
            username: name.into(),
            is_admin: 0,
            disabled: 0,
            reauth_at: 0,
            password_change_required: 0,
        }
    }

    #[test]
    fn serves_nothing_until_a_poll_succeeds() {
        let c = SessionCache::default();
        let g = c.generation();
        c.put(g, b"k", &row("a"));
        assert!(c.get(b"k").is_none());
        c.polled(c.poll_started(), Some(1));
        c.put(c.generation(), b"k", &row("a"));
        assert_eq!(c.get(b"k").map(|r| r.username), Some("a".into()));
    }

    #[test]
    fn a_new_epoch_or_a_failed_poll_empties_it() {
        let c = SessionCache::default();
        c.polled(c.poll_started(), Some(1));
        c.put(c.generation(), b"k", &row("a"));
        c.polled(c.poll_started(), Some(1));
        assert!(c.get(b"k").is_some(), "same epoch keeps rows");
        c.polled(c.poll_started(), Some(2));
        assert!(c.get(b"k").is_none(), "new epoch empties");
        c.put(c.generation(), b"k", &row("a"));
        c.polled(c.poll_started(), None);
        assert!(c.get(b"k").is_none(), "failed poll empties and turns off");
        c.put(c.generation(), b"k", &row("a"));
        assert_eq!(c.len(), 0, "nothing is cached while off");
    }

    #[test]
    fn a_row_read_before_an_invalidation_is_not_cached_after_it() {
        let c = SessionCache::default();
        c.polled(c.poll_started(), Some(1));
        let g = c.generation();
        c.invalidate();
        c.put(g, b"k", &row("stale"));
        assert!(c.get(b"k").is_none());
    }

    #[test]
    fn a_poll_older_than_fresh_for_vouches_for_nothing() {
        let c = SessionCache::default();
        c.polled(c.poll_started() - FRESH_FOR.as_millis() as i64 - 1, Some(1));
        c.put(c.generation(), b"k", &row("a"));
        assert!(c.get(b"k").is_none());
    }
}
