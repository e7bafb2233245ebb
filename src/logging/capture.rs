//! Test support: JSON log lines written to a buffer instead of stderr.

use std::{
    io,
    sync::{Arc, Mutex},
};

use tracing_subscriber::{fmt::MakeWriter, layer::SubscriberExt as _};

/// Captures what a layer writes.
#[derive(Clone, Default)]
pub(crate) struct Buf(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buf {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buf {
    type Writer = Buf;
    fn make_writer(&'a self) -> Buf {
        self.clone()
    }
}

impl Buf {
    pub(crate) fn lines(&self) -> Vec<String> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// Runs `f` with JSON logs going to the returned buffer (this thread only).
pub(crate) fn capture<T>(f: impl FnOnce() -> T) -> (T, Buf) {
    let buf = Buf::default();
    let subscriber = tracing_subscriber::registry().with(crate::logging::json_layer(buf.clone()));
    let out = tracing::subscriber::with_default(subscriber, f);
    (out, buf)
}

/// Awaits `f` with JSON logs going to the returned buffer (single-threaded runtimes).
pub(crate) async fn capture_async<F: Future>(f: F) -> (F::Output, Buf) {
    let buf = Buf::default();
    let subscriber = tracing_subscriber::registry().with(crate::logging::json_layer(buf.clone()));
    let _guard = tracing::subscriber::set_default(subscriber);
    let out = f.await;
    (out, buf)
}
