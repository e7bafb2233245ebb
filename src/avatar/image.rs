//! Decoding an upload under memory limits and re-encoding it (docs/original.md "Avatar
//! upload checks": the checks run in that order, with those messages).

use std::io::Cursor;

use image::{
    DynamicImage, ImageDecoder as _, ImageFormat, ImageReader, Limits,
    codecs::{jpeg::JpegEncoder, png::PngEncoder},
};

use super::limits::{MAX_ALLOC, MAX_DIMENSION};

/// JPEG quality used when re-encoding.
const JPEG_QUALITY: u8 = 90;

/// Why an upload was refused; `message()` is what the client is told (always a 400).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invalid {
    NoFile,
    NoFileSelected,
    FileType,
    TooLarge,
    Corrupt,
    Mismatch,
    Dimensions,
}

impl Invalid {
    pub fn message(self) -> &'static str {
        match self {
            Invalid::NoFile => "No file uploaded",
            Invalid::NoFileSelected => "No file selected",
            Invalid::FileType => "Invalid file type. Allowed: png, jpg, jpeg, gif",
            Invalid::TooLarge => "File too large. Maximum size is 5MB",
            Invalid::Corrupt => "Invalid or corrupted image file",
            Invalid::Mismatch => "File extension does not match image format",
            Invalid::Dimensions => "Image dimensions too large. Maximum: 4096x4096 pixels",
        }
    }

    /// The `reason` logged with `image_upload_rejected`.
    pub fn reason(self) -> &'static str {
        match self {
            Invalid::NoFile => "no_file",
            Invalid::NoFileSelected => "no_file_selected",
            Invalid::FileType => "invalid_file_type",
            Invalid::TooLarge => "exceeds_size_limit",
            Invalid::Corrupt => "invalid_image",
            Invalid::Mismatch => "extension_mismatch",
            Invalid::Dimensions => "dimensions_too_large",
        }
    }
}

/// The image formats an avatar may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Png,
    Jpeg,
    Gif,
}

impl Kind {
    /// From the uploaded file name: the extension after the last `.`, case-insensitive.
    pub fn from_filename(name: &str) -> Option<Kind> {
        let (_, ext) = name.rsplit_once('.')?;
        match ext.to_ascii_lowercase().as_str() {
            "png" => Some(Kind::Png),
            "jpg" | "jpeg" => Some(Kind::Jpeg),
            "gif" => Some(Kind::Gif),
            _ => None,
        }
    }

    fn format(self) -> ImageFormat {
        match self {
            Kind::Png => ImageFormat::Png,
            Kind::Jpeg => ImageFormat::Jpeg,
            Kind::Gif => ImageFormat::Gif,
        }
    }
}

/// A re-encoded avatar, ready to store.
#[derive(Debug)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    /// `png` or `jpg`: the format of `bytes`.
    pub ext: &'static str,
    pub width: u32,
    pub height: u32,
}

fn reader(bytes: &[u8], limits: Limits) -> Result<ImageReader<Cursor<&[u8]>>, Invalid> {
    let mut r = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| Invalid::Corrupt)?;
    r.limits(limits);
    Ok(r)
}

fn strict_limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_ALLOC);
    limits
}

/// Checks steps 4–6 of docs/original.md "Avatar upload checks" on the uploaded bytes
/// (whose extension said `kind`), then decodes and re-encodes them. CPU-bound: run it on the blocking pool.
pub fn process(bytes: &[u8], kind: Kind) -> Result<Encoded, Invalid> {
    // 4. The content must be an image we can read the header of.
    let format = reader(bytes, Limits::default())?
        .format()
        .ok_or(Invalid::Corrupt)?;
    if !matches!(
        format,
        ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Gif
    ) {
        // An image of another kind (BMP, WebP, …) named .png/.jpg/.gif.
        return Err(Invalid::Mismatch);
    }
    // The header alone, without limits on size, so that a too-large image is reported as
    // such rather than as corrupt. No pixel buffer is allocated here.
    let (width, height) = reader(bytes, Limits::default())?
        .into_dimensions()
        .map_err(|_| Invalid::Corrupt)?;
    // 5. The content's format must be the one the extension names.
    if format != kind.format() {
        return Err(Invalid::Mismatch);
    }
    // 6. Dimensions.
    if width > MAX_DIMENSION || height > MAX_DIMENSION {
        return Err(Invalid::Dimensions);
    }
    // Decode the whole image, under the strict limits.
    let mut decoder = reader(bytes, strict_limits())?
        .into_decoder()
        .map_err(|e| match e {
            image::ImageError::Limits(_) => Invalid::Dimensions,
            _ => Invalid::Corrupt,
        })?;
    if decoder.total_bytes() > MAX_ALLOC {
        return Err(Invalid::Dimensions);
    }
    let orientation = decoder.orientation().ok();
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        image::ImageError::Limits(_) => Invalid::Dimensions,
        _ => Invalid::Corrupt,
    })?;
    if let Some(o) = orientation {
        img.apply_orientation(o);
    }
    encode(&img, kind).map_err(|e| {
        tracing::warn!(event = "avatar_encode_failed", error = %e);
        Invalid::Corrupt
    })
}

fn encode(img: &DynamicImage, kind: Kind) -> image::ImageResult<Encoded> {
    let mut out = Vec::new();
    let ext = match kind {
        Kind::Png | Kind::Gif => {
            img.write_with_encoder(PngEncoder::new(&mut out))?;
            "png"
        }
        Kind::Jpeg => {
            let encoder = JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
            match img {
                DynamicImage::ImageLuma8(_) => img.write_with_encoder(encoder)?,
                _ => DynamicImage::ImageRgb8(img.to_rgb8()).write_with_encoder(encoder)?,
            }
            "jpg"
        }
    };
    Ok(Encoded {
        bytes: out,
        ext,
        width: img.width(),
        height: img.height(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Rgb, Rgba};

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = ImageBuffer::from_fn(w, h, |x, y| Rgba([x as u8, y as u8, 7, 255]));
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgba8(img)
            .write_to(&mut out, ImageFormat::Png)
            .unwrap();
        out.into_inner()
    }

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = ImageBuffer::from_fn(w, h, |x, y| Rgb([x as u8, y as u8, 7]));
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(img)
            .write_to(&mut out, ImageFormat::Jpeg)
            .unwrap();
        out.into_inner()
    }

    #[test]
    fn extensions() {
        assert_eq!(Kind::from_filename("a.PNG"), Some(Kind::Png));
        assert_eq!(Kind::from_filename("a.b.jpeg"), Some(Kind::Jpeg));
        assert_eq!(Kind::from_filename("x.JpG"), Some(Kind::Jpeg));
        assert_eq!(Kind::from_filename("a.gif"), Some(Kind::Gif));
        for bad in ["png", "a.svg", "a.exe", "a.png.exe", "a.", "", "a.webp"] {
            assert_eq!(Kind::from_filename(bad), None, "{bad}");
        }
    }

    #[test]
    fn checks_in_order() {
        assert_eq!(
            process(b"hello, world", Kind::Png).unwrap_err(),
            Invalid::Corrupt
        );
        assert_eq!(process(b"", Kind::Png).unwrap_err(), Invalid::Corrupt);
        assert_eq!(
            process(&png(10, 10), Kind::Jpeg).unwrap_err(),
            Invalid::Mismatch
        );
        assert_eq!(
            process(&jpeg(10, 10), Kind::Png).unwrap_err(),
            Invalid::Mismatch
        );
        assert_eq!(
            process(&png(4097, 1), Kind::Png).unwrap_err(),
            Invalid::Dimensions
        );
        let mut truncated = png(64, 64);
        truncated.truncate(50);
        assert_eq!(
            process(&truncated, Kind::Png).unwrap_err(),
            Invalid::Corrupt
        );
    }

    #[test]
    fn reencodes_without_trailing_bytes() {
        let mut bytes = png(20, 10);
        bytes.extend_from_slice(b"<?php echo 'polyglot'; ?>");
        let out = process(&bytes, Kind::Png).unwrap();
        assert_eq!((out.ext, out.width, out.height), ("png", 20, 10));
        assert!(
            out.bytes.ends_with(&[0xAE, 0x42, 0x60, 0x82]),
            "ends with IEND"
        );
        let out = process(&jpeg(16, 8), Kind::Jpeg).unwrap();
        assert_eq!((out.ext, out.width, out.height), ("jpg", 16, 8));
        assert!(out.bytes.starts_with(&[0xFF, 0xD8]));
    }
}
