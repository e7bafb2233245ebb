//! Early answers: when a request is answered before its body has been read to the end (a
//! 413 at the body limit, a 400/403 from the CSRF guard, a 401, 415 or 429), the rest of
//! the body is read and thrown away in the background, within bounds, so that the client
//! can finish sending and read the answer (docs/reliability.md "HTTP/2 early answers").
//!
//! Why: a body dropped unread ends the exchange abruptly. On HTTP/2 the h2 crate resets
//! the stream with RST_STREAM(NO_ERROR) right after the answer (RFC 9113 §8.1 allows it);
//! curl 7.88 (Debian 12) then fails the transfer with exit 92 when its next write finds
//! the stream closed, and a browser may show a network error instead of the message. On
//! HTTP/1.1 hyper closes the connection with the body still arriving, so the kernel resets
//! it and the client gets a broken pipe (curl exit 55), often before it has read the
//! answer. nginx in front reads and discards the rest, which is what this module does.
//!
//! Neither hyper nor h2 has a setting for this (the reset is h2's `maybe_cancel`, taken
//! whenever the last handle on a half-closed stream goes away; the close is hyper's
//! `poll_drain_or_close_read`), so it is done here: the layer lends the inner layers a
//! body that, when dropped with a remainder, hands it to a background task. The task
//! reads (which gives the client flow-control credit on HTTP/2, and keeps hyper reading on
//! HTTP/1.1) at most `MAX_BYTES`, for at most `MAX_TIME` and `IDLE` between frames; past
//! a bound it drops the body and the reset or close happens after all. A client still
//! waiting for `100 Continue` (nothing of the body was asked for) is not invited to send:
//! its body is dropped as before, and hyper answers without the 100.

use std::{
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    body::{Body, Bytes, HttpBody},
    extract::Request,
    http::header,
};
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt as _;
use tokio::time::{Instant, timeout_at};
use tracing::Instrument as _;

/// Most bytes read and discarded after an early answer.
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;
/// Longest a discarded body is read.
pub const MAX_TIME: Duration = Duration::from_secs(10);
/// Longest wait for the client's next frame while discarding.
pub const IDLE: Duration = Duration::from_secs(5);

/// The first step of `http::stack`: a request whose body is not over yet gets a `Lent`
/// body; anything else passes untouched.
pub fn early_answers(req: Request) -> Request {
    if req.body().is_end_stream() {
        return req;
    }
    let expects_continue = req
        .headers()
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    req.map(|body| Body::new(Lent::new(body, expects_continue)))
}

/// The request body as the inner layers see it. `body` is `None` once it has ended or
/// failed; dropped with a remainder, it hands that to `discard` — unless the client is
/// still waiting for `100 Continue`.
struct Lent {
    body: Option<Body>,
    expects_continue: bool,
    polled: bool,
}

impl Lent {
    fn new(body: Body, expects_continue: bool) -> Lent {
        Lent {
            body: Some(body),
            expects_continue,
            polled: false,
        }
    }
}

impl HttpBody for Lent {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        self.polled = true;
        let Some(body) = self.body.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(body).poll_frame(cx);
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) {
            self.body = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.body
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        let Some(body) = self.body.take() else {
            return;
        };
        // Polling the body would send the `100 Continue` the client waits for.
        if body.is_end_stream() || (self.expects_continue && !self.polled) {
            return;
        }
        // Dropped while the request is being served, so the current span is the request's.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(discard(body).instrument(tracing::Span::current()));
        }
    }
}

/// Why `discard` stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// The client ended the body: the stream closed cleanly.
    End,
    /// The client reset the stream, or the body failed.
    Error,
    /// `MAX_BYTES` read.
    Size,
    /// `MAX_TIME` or `IDLE` passed.
    Time,
}

impl Stop {
    fn as_str(self) -> &'static str {
        match self {
            Stop::End => "end",
            Stop::Error => "error",
            Stop::Size => "size",
            Stop::Time => "time",
        }
    }
}

/// Reads `body` to its end within the bounds, keeping nothing; returns why it stopped and
/// how many bytes it read.
async fn read_out<B>(mut body: B, max_bytes: u64, max_time: Duration, idle: Duration) -> (Stop, u64)
where
    B: HttpBody<Data = Bytes> + Unpin,
{
    let deadline = Instant::now() + max_time;
    let mut read = 0u64;
    loop {
        let next = timeout_at(deadline.min(Instant::now() + idle), body.frame()).await;
        match next {
            Err(_) => return (Stop::Time, read),
            Ok(None) => return (Stop::End, read),
            Ok(Some(Err(_))) => return (Stop::Error, read),
            Ok(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    read += data.len() as u64;
                    if read >= max_bytes && !body.is_end_stream() {
                        return (Stop::Size, read);
                    }
                }
            }
        }
    }
}

async fn discard(body: Body) {
    let (stop, bytes) = read_out(body, MAX_BYTES, MAX_TIME, IDLE).await;
    tracing::debug!(
        event = "early_answer_body_discarded",
        stop = stop.as_str(),
        bytes
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt as _;
    use http_body_util::StreamBody;

    type Chunk = Result<Frame<Bytes>, std::io::Error>;

    fn chunks(n: usize, size: usize) -> Vec<Chunk> {
        (0..n)
            .map(|_| Ok(Frame::data(Bytes::from(vec![b'a'; size]))))
            .collect()
    }

    #[tokio::test]
    async fn reads_to_the_end() {
        let body = StreamBody::new(futures_util::stream::iter(chunks(4, 1000)));
        let got = read_out(body, 1 << 20, MAX_TIME, IDLE).await;
        assert_eq!(got, (Stop::End, 4000));
    }

    #[tokio::test]
    async fn stops_at_the_size_bound() {
        let body = StreamBody::new(futures_util::stream::iter(chunks(10, 1000)));
        assert_eq!(
            read_out(body, 2500, MAX_TIME, IDLE).await,
            (Stop::Size, 3000)
        );
    }

    #[tokio::test]
    async fn stops_on_an_error() {
        let mut items = chunks(1, 10);
        items.push(Err(std::io::Error::other("reset")));
        let body = StreamBody::new(futures_util::stream::iter(items));
        assert_eq!(
            read_out(body, 1 << 20, MAX_TIME, IDLE).await,
            (Stop::Error, 10)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn stops_when_idle_or_late() {
        let stalled =
            futures_util::stream::iter(chunks(1, 10)).chain(futures_util::stream::pending());
        let got = read_out(StreamBody::new(stalled), 1 << 20, MAX_TIME, IDLE).await;
        assert_eq!(got, (Stop::Time, 10));
        // A trickle that is never idle for long still stops at the overall bound.
        let trickle = futures_util::stream::unfold((), |()| async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Some((
                Ok::<_, std::io::Error>(Frame::data(Bytes::from_static(b"a"))),
                (),
            ))
        });
        let started = Instant::now();
        let got = read_out(StreamBody::new(Box::pin(trickle)), 1 << 20, MAX_TIME, IDLE).await;
        assert_eq!(got.0, Stop::Time);
        assert!(started.elapsed() <= MAX_TIME + Duration::from_secs(1));
    }

    #[tokio::test]
    async fn a_lent_body_reads_through() {
        let mut lent = Lent::new(Body::from("hello"), false);
        let bytes = (&mut lent).collect().await.map(|c| c.to_bytes());
        assert_eq!(bytes.ok().as_deref(), Some(&b"hello"[..]));
        assert!(lent.is_end_stream());
        assert!(lent.body.is_none());
    }
}
