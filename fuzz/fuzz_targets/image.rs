//! Avatar decoding under the limits (src/avatar/image.rs): any bytes named as any of the
//! three kinds. What it accepts is within the dimensions, and its re-encoding is accepted
//! again with the same size.
#![no_main]

use gleh_fuzz::avatar::{
    image::{Kind, process},
    limits::MAX_DIMENSION,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&k, bytes)) = data.split_first() else {
        return;
    };
    let kind = match k % 3 {
        0 => Kind::Png,
        1 => Kind::Jpeg,
        _ => Kind::Gif,
    };
    let Ok(out) = process(bytes, kind) else {
        return;
    };
    assert!(out.width <= MAX_DIMENSION && out.height <= MAX_DIMENSION);
    let (again_kind, ext) = match kind {
        Kind::Jpeg => (Kind::Jpeg, "jpg"),
        _ => (Kind::Png, "png"),
    };
    assert_eq!(out.ext, ext);
    let again = process(&out.bytes, again_kind).expect("its own re-encoding is refused");
    assert_eq!((again.width, again.height), (out.width, out.height));
});
