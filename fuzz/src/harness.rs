//! What the targets need around the included code: a `block_on` for futures that never
//! wait (every body here is in memory) and `multer` as `avatar::multipart::Form`, the way
//! src/avatar/upload.rs adapts axum's extractor (which is `multer` inside).

use std::{
    future::Future,
    pin::pin,
    task::{Context, Poll, Waker},
};

use bytes::Bytes;

use crate::avatar::{
    limits::UPLOAD_BODY_LIMIT,
    multipart::{Failure, Form, Part},
};

/// Runs a future whose every poll is ready or, at worst, wakes itself at once.
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1_000_000 {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
    panic!("an in-memory future did not finish");
}

/// A multipart body held in memory, limited as the upload routes limit theirs.
pub struct Multer(multer::Multipart<'static>);

impl Multer {
    pub fn new(body: Vec<u8>, boundary: &str) -> Multer {
        let stream =
            futures_util::stream::iter([Ok::<_, std::convert::Infallible>(Bytes::from(body))]);
        let constraints = multer::Constraints::new()
            .size_limit(multer::SizeLimit::new().whole_stream(UPLOAD_BODY_LIMIT as u64));
        Multer(multer::Multipart::with_constraints(
            stream,
            boundary.to_string(),
            constraints,
        ))
    }
}

fn failure(e: multer::Error) -> Failure {
    match e {
        multer::Error::FieldSizeExceeded { .. } | multer::Error::StreamSizeExceeded { .. } => {
            Failure::TooLarge
        }
        _ => Failure::Malformed,
    }
}

impl Form for Multer {
    type Part<'a> = multer::Field<'static>;
    async fn next_part(&mut self) -> Result<Option<multer::Field<'static>>, Failure> {
        self.0.next_field().await.map_err(failure)
    }
}

impl Part for multer::Field<'static> {
    type Chunk = Bytes;
    fn name(&self) -> Option<&str> {
        multer::Field::name(self)
    }
    fn file_name(&self) -> Option<&str> {
        multer::Field::file_name(self)
    }
    async fn chunk(&mut self) -> Result<Option<Bytes>, Failure> {
        multer::Field::chunk(self).await.map_err(failure)
    }
}
