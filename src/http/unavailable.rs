//! Which failures are "try again later" (503) or "out of space" (507) rather than a bug
//! (500): decided from the error's kind, never from its text.

use std::{error::Error, io};

/// Does `cause`, or any error in its source chain, say that the database (or another
/// peer) could not be reached: the pool timed out or is closed, a connection was refused,
/// reset or timed out, or the server refused the connection (SQLSTATE class 08, 53300
/// too many connections, 57P01–57P03 shutting down or starting, 55000 the database not
/// accepting connections — `ALTER DATABASE … ALLOW_CONNECTIONS false`, maintenance; no
/// statement of the hub raises 55000 otherwise)?
pub fn is_unavailable(cause: &(dyn Error + 'static)) -> bool {
    any_in_chain(cause, sqlx_unavailable, io_unavailable)
}

/// Walks `cause` and its sources: true when a database error satisfies `on_sqlx` or an
/// I/O error's kind satisfies `on_io`.
fn any_in_chain(
    cause: &(dyn Error + 'static),
    on_sqlx: fn(&sqlx::Error) -> bool,
    on_io: fn(io::ErrorKind) -> bool,
) -> bool {
    let mut next = Some(cause);
    while let Some(e) = next {
        if let Some(e) = e.downcast_ref::<sqlx::Error>()
            && on_sqlx(e)
        {
            return true;
        }
        if let Some(e) = e.downcast_ref::<io::Error>()
            && on_io(e.kind())
        {
            return true;
        }
        next = e.source();
    }
    false
}

/// Does `cause`, or any error in its source chain, say that the storage is full: SQLite's
/// `SQLITE_FULL` (13), PostgreSQL's `disk_full` (53100), or `ENOSPC`/`EDQUOT` from the
/// file system under the database?
pub fn is_storage_full(cause: &(dyn Error + 'static)) -> bool {
    any_in_chain(cause, sqlx_full, io_full)
}

fn sqlx_full(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(io) => io_full(io.kind()),
        sqlx::Error::Database(db) => db.code().is_some_and(|c| matches!(&*c, "13" | "53100")),
        _ => false,
    }
}

fn io_full(kind: io::ErrorKind) -> bool {
    matches!(
        kind,
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

fn sqlx_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Io(io) => io_unavailable(io.kind()),
        sqlx::Error::Database(db) => db.code().is_some_and(|c| {
            c.starts_with("08") || matches!(&*c, "53300" | "57P01" | "57P02" | "57P03" | "55000")
        }),
        _ => false,
    }
}

fn io_unavailable(kind: io::ErrorKind) -> bool {
    use io::ErrorKind::*;
    matches!(
        kind,
        ConnectionRefused
            | ConnectionReset
            | ConnectionAborted
            | NotConnected
            | BrokenPipe
            | TimedOut
            | AddrNotAvailable
            | HostUnreachable
            | NetworkUnreachable
            | NetworkDown
    )
}

#[cfg(test)]
mod tests;
