//! Which failures are "try again later" (503) rather than a bug (500): decided from the
//! error's kind, never from its text.

use std::{error::Error, io};

/// Does `cause`, or any error in its source chain, say that the database (or another
/// peer) could not be reached: the pool timed out or is closed, a connection was refused,
/// reset or timed out, or the server refused the connection (SQLSTATE class 08, 53300
/// too many connections, 57P01–57P03 shutting down or starting)?
pub fn is_unavailable(cause: &(dyn Error + 'static)) -> bool {
    let mut next = Some(cause);
    while let Some(e) = next {
        if let Some(e) = e.downcast_ref::<sqlx::Error>()
            && sqlx_unavailable(e)
        {
            return true;
        }
        if let Some(e) = e.downcast_ref::<io::Error>()
            && io_unavailable(e.kind())
        {
            return true;
        }
        next = e.source();
    }
    false
}

fn sqlx_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Io(io) => io_unavailable(io.kind()),
        sqlx::Error::Database(db) => db.code().is_some_and(|c| {
            c.starts_with("08") || matches!(&*c, "53300" | "57P01" | "57P02" | "57P03")
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
