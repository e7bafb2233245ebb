use std::{borrow::Cow, fmt};

use axum::http::StatusCode;
use sqlx::error::{DatabaseError, ErrorKind};

use super::*;
use crate::http::ApiError;

/// A database error with a chosen SQLSTATE.
#[derive(Debug)]
struct Sqlstate(&'static str);

impl fmt::Display for Sqlstate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "database error {}", self.0)
    }
}
impl Error for Sqlstate {}
impl DatabaseError for Sqlstate {
    fn message(&self) -> &str {
        "database error"
    }
    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(self.0))
    }
    fn as_error(&self) -> &(dyn Error + Send + Sync + 'static) {
        self
    }
    fn as_error_mut(&mut self) -> &mut (dyn Error + Send + Sync + 'static) {
        self
    }
    fn into_error(self: Box<Self>) -> Box<dyn Error + Send + Sync + 'static> {
        self
    }
    fn kind(&self) -> ErrorKind {
        ErrorKind::Other
    }
}

fn io(kind: io::ErrorKind) -> io::Error {
    io::Error::new(kind, "boom")
}

fn status(e: sqlx::Error) -> StatusCode {
    ApiError::from(e).status
}

#[test]
fn pool_and_connection_failures_are_503() {
    for e in [
        sqlx::Error::PoolTimedOut,
        sqlx::Error::PoolClosed,
        sqlx::Error::Io(io(io::ErrorKind::ConnectionRefused)),
        sqlx::Error::Io(io(io::ErrorKind::ConnectionReset)),
        sqlx::Error::Io(io(io::ErrorKind::TimedOut)),
        sqlx::Error::Database(Box::new(Sqlstate("08006"))),
        sqlx::Error::Database(Box::new(Sqlstate("57P03"))),
        sqlx::Error::Database(Box::new(Sqlstate("53300"))),
        sqlx::Error::Database(Box::new(Sqlstate("55000"))),
    ] {
        let text = e.to_string();
        assert_eq!(status(e), StatusCode::SERVICE_UNAVAILABLE, "{text}");
    }
}

#[test]
fn other_database_errors_are_500() {
    for e in [
        sqlx::Error::RowNotFound,
        sqlx::Error::Protocol("connection refused".into()),
        sqlx::Error::Io(io(io::ErrorKind::PermissionDenied)),
        sqlx::Error::Database(Box::new(Sqlstate("23505"))),
        sqlx::Error::Database(Box::new(Sqlstate("2067"))),
    ] {
        let text = e.to_string();
        assert_eq!(status(e), StatusCode::INTERNAL_SERVER_ERROR, "{text}");
    }
}

#[test]
fn anyhow_chains_are_searched() {
    let e = anyhow::Error::new(sqlx::Error::PoolTimedOut).context("loading the catalog");
    assert_eq!(ApiError::from(e).status, StatusCode::SERVICE_UNAVAILABLE);
    let e = anyhow::Error::new(io(io::ErrorKind::ConnectionRefused)).context("fetching");
    assert_eq!(ApiError::from(e).status, StatusCode::SERVICE_UNAVAILABLE);
    let e = anyhow::anyhow!("pool timed out while waiting for an open connection");
    assert_eq!(ApiError::from(e).status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[test]
fn text_alone_is_a_500() {
    assert_eq!(
        ApiError::internal("pool timed out: connection refused").status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
}

#[test]
fn storage_full_is_507() {
    for e in [
        sqlx::Error::Database(Box::new(Sqlstate("13"))),
        sqlx::Error::Database(Box::new(Sqlstate("53100"))),
        sqlx::Error::Io(io(io::ErrorKind::StorageFull)),
    ] {
        let text = e.to_string();
        assert_eq!(status(e), StatusCode::INSUFFICIENT_STORAGE, "{text}");
    }
    let e = anyhow::Error::new(io(io::ErrorKind::StorageFull)).context("writing a note");
    assert_eq!(ApiError::from(e).status, StatusCode::INSUFFICIENT_STORAGE);
}
