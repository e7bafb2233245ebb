//! Avatar upload and serving (docs/original.md "Avatar upload checks", and
//! test_image_validation in its "Original tests"; issue 5 point 4): every case of the
//! original's image-validation suite, plus what the port adds — decompression bombs refused
//! from the header, re-encoding that drops metadata and bytes appended after the image,
//! generated names, the bytes kept in the database (the old picture deleted on replacement
//! and with the account, the files of an older version moved in), and the served picture's
//! type, `ETag` and caching. Every test runs on SQLite and on PostgreSQL.

use std::{
    io::Cursor,
    path::PathBuf,
    time::{Duration, Instant},
};

use image::{DynamicImage, ImageBuffer, ImageFormat, Rgb, Rgba};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{
    BOUNDARY, Backend, Client, PW, Part, Resp, Server, multipart, multipart_type,
    new_user_with_token, start,
};

const NO_FILE: &str = "No file uploaded";
const NOT_SELECTED: &str = "No file selected";
const BAD_TYPE: &str = "Invalid file type. Allowed: png, jpg, jpeg, gif";
const TOO_LARGE: &str = "File too large. Maximum size is 5MB";
const CORRUPT: &str = "Invalid or corrupted image file";
const MISMATCH: &str = "File extension does not match image format";
const TOO_BIG: &str = "Image dimensions too large. Maximum: 4096x4096 pixels";

both_backends!(
    valid_png_updates_profile_and_is_served,
    png_jpeg_gif_with_matching_extensions,
    wrong_file_types_rejected,
    extension_must_match_content,
    files_that_are_not_images,
    file_sizes,
    image_dimensions_and_bombs,
    missing_or_unnamed_file,
    hostile_file_names,
    login_and_csrf_required,
    reencoding_strips_metadata_and_trailing_bytes,
    replacing_deletes_the_old_picture,
    serving_only_generated_names,
    etag_and_not_modified,
    deleting_the_account_deletes_the_picture,
    files_of_an_older_version_are_moved_in,
);

// ---------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------

struct Ctx {
    s: Server,
    data: tempfile::TempDir,
    c: Client,
    token: String,
}

impl Ctx {
    /// A development server with `DATA_DIR` in a folder of the test's own, and a logged-in
    /// user.
    async fn start(backend: Backend) -> Ctx {
        let data = tempfile::tempdir().expect("tempdir");
        let dir = data.path().to_string_lossy().into_owned();
        let s = start(backend, &[("DATA_DIR", &dir)]).await;
        let (c, token) = new_user_with_token(&s, "alice").await;
        Ctx { s, data, c, token }
    }

    /// The avatars folder of an older version (only ever read, to move files in).
    fn avatars(&self) -> PathBuf {
        self.data.path().join("avatars")
    }

    /// Names of the pictures stored in the database, sorted.
    async fn stored(&self) -> Vec<String> {
        stored_names(&self.s).await
    }

    async fn upload(&mut self, filename: &str, bytes: &[u8]) -> Resp {
        let token = self.token.clone();
        upload(&mut self.c, &token, filename, bytes).await
    }
}

async fn upload_parts(c: &mut Client, token: &str, parts: &[Part<'_>]) -> Resp {
    c.post("/api/profile/avatar")
        .header("X-CSRFToken", token)
        .body(&multipart_type(), multipart(parts))
        .send()
        .await
}

async fn upload(c: &mut Client, token: &str, filename: &str, bytes: &[u8]) -> Resp {
    upload_parts(
        c,
        token,
        &[Part {
            name: "avatar",
            filename: Some(filename),
            data: bytes,
        }],
    )
    .await
}

/// Asserts a 200 upload and returns its `avatar_url`, which must be a generated name.
fn accepted(r: &Resp, what: &str) -> String {
    assert_eq!(r.status, StatusCode::OK, "{what}: {}", r.body);
    let v = r.json();
    assert_eq!(v["message"], "Avatar uploaded successfully", "{what}");
    let url = v["avatar_url"].as_str().expect("avatar_url").to_string();
    assert!(
        is_generated_url(&url),
        "{what}: unexpected avatar_url {url}"
    );
    url
}

fn is_generated_url(url: &str) -> bool {
    let Some(name) = url.strip_prefix("/avatars/") else {
        return false;
    };
    let Some((stem, ext)) = name.split_once('.') else {
        return false;
    };
    stem.len() == 32
        && stem
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && (ext == "png" || ext == "jpg")
}

fn rejected(r: &Resp, message: &str, what: &str) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{what}: {}", r.body);
    assert_eq!(r.json(), json!({"error": message}), "{what}");
}

async fn profile_avatar(c: &mut Client) -> String {
    let r = c.get("/api/profile").send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["user"]["avatar"]
        .as_str()
        .expect("avatar")
        .to_string()
}

/// GETs `url` and returns status, headers and raw bytes.
pub(crate) async fn fetch(
    base: &str,
    url: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(format!("{base}{url}"))
        .send()
        .await
        .expect("request");
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.bytes().await.expect("body").to_vec();
    (status, headers, body)
}

/// GETs `url` with `If-None-Match: tag`; returns status and headers.
async fn revalidate(base: &str, url: &str, tag: &str) -> (StatusCode, reqwest::header::HeaderMap) {
    let res = reqwest::Client::new()
        .get(format!("{base}{url}"))
        .header("If-None-Match", tag)
        .send()
        .await
        .expect("request");
    (res.status(), res.headers().clone())
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Names of the pictures in the `avatars` table, sorted.
pub(crate) async fn stored_names(s: &Server) -> Vec<String> {
    let pool = s.db.pool().await;
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM avatars ORDER BY name")
        .fetch_all(&pool)
        .await
        .expect("avatar names");
    pool.close().await;
    names
}

/// The bytes stored under `name`.
async fn stored_bytes(s: &Server, name: &str) -> Vec<u8> {
    let pool = s.db.pool().await;
    let bytes: Vec<u8> = sqlx::query_scalar("SELECT bytes FROM avatars WHERE name = $1")
        .bind(name)
        .fetch_one(&pool)
        .await
        .expect("avatar bytes");
    pool.close().await;
    bytes
}

/// The cache rule of a served avatar (src/routes/api/avatar.rs).
const CACHE: &str = "public, max-age=3600, immutable";

// ---------------------------------------------------------------------------------------
// Test images
// ---------------------------------------------------------------------------------------

fn encode(img: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode test image");
    out.into_inner()
}

fn rgba(w: u32, h: u32) -> DynamicImage {
    DynamicImage::ImageRgba8(ImageBuffer::from_fn(w, h, |x, y| {
        Rgba([
            (x % 251) as u8,
            (y % 241) as u8,
            ((x + y) % 7 * 30) as u8,
            255,
        ])
    }))
}

fn rgb(w: u32, h: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(ImageBuffer::from_fn(w, h, |x, y| {
        Rgb([(x % 251) as u8, (y % 241) as u8, 90])
    }))
}

pub(crate) fn png(w: u32, h: u32) -> Vec<u8> {
    encode(rgba(w, h), ImageFormat::Png)
}

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    encode(rgb(w, h), ImageFormat::Jpeg)
}

fn gif(w: u32, h: u32) -> Vec<u8> {
    encode(rgba(w, h), ImageFormat::Gif)
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
    out
}

/// Inserts a PNG chunk right after IHDR (signature 8 bytes + IHDR 25 bytes).
fn insert_chunk(png: &[u8], kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = png[..33].to_vec();
    out.extend_from_slice(&chunk(kind, data));
    out.extend_from_slice(&png[33..]);
    out
}

/// LSB-first bit writer for DEFLATE.
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn put(&mut self, value: u64, count: u32) {
        self.acc |= value << self.n;
        self.n += count;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }
    /// A Huffman code, which DEFLATE stores most-significant bit first.
    fn code(&mut self, code: u64, len: u32) {
        let mut rev = 0;
        for i in 0..len {
            rev |= ((code >> i) & 1) << (len - 1 - i);
        }
        self.put(rev, len);
    }
}

/// A zlib stream of `n` zero bytes: one fixed-Huffman block of a literal 0 followed by
/// length-258/distance-1 copies (13 bits per 258 bytes).
fn zlib_zeros(n: usize) -> Vec<u8> {
    let mut bits = Bits {
        out: vec![0x78, 0x01],
        acc: 0,
        n: 0,
    };
    bits.put(1, 1); // BFINAL
    bits.put(1, 2); // BTYPE = fixed Huffman
    let literal_zero = |b: &mut Bits| b.code(0x30, 8);
    literal_zero(&mut bits);
    let mut left = n - 1;
    while left >= 258 {
        bits.code(0xC5, 8); // length code 285 = 258
        bits.code(0, 5); // distance code 0 = 1
        left -= 258;
    }
    for _ in 0..left {
        literal_zero(&mut bits);
    }
    bits.code(0, 7); // end of block
    if bits.n > 0 {
        bits.out.push(bits.acc as u8);
    }
    let adler = ((n % 65521) as u32) << 16 | 1;
    bits.out.extend_from_slice(&adler.to_be_bytes());
    bits.out
}

/// A 1-bit greyscale PNG of `w`×`h` black pixels, built by hand: the file is tiny, the
/// decoded image is not (a decompression bomb when large).
fn png_bomb(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[1, 0, 0, 0, 0]); // depth 1, greyscale, no interlace
    out.extend_from_slice(&chunk(b"IHDR", &ihdr));
    let row = 1 + (w as usize).div_ceil(8);
    out.extend_from_slice(&chunk(b"IDAT", &zlib_zeros(row * h as usize)));
    out.extend_from_slice(&chunk(b"IEND", b""));
    out
}

/// A JPEG with an EXIF segment: orientation 6 (rotate 90° clockwise) and a marker string.
fn jpeg_with_exif(w: u32, h: u32, marker: &[u8]) -> Vec<u8> {
    let plain = jpeg(w, h);
    let mut tiff = b"II\x2a\x00\x08\x00\x00\x00".to_vec();
    tiff.extend_from_slice(&1u16.to_le_bytes()); // one IFD entry
    tiff.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_le_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_le_bytes()); // count
    tiff.extend_from_slice(&[6, 0, 0, 0]); // value 6
    tiff.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    tiff.extend_from_slice(marker);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = plain[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn decode(bytes: &[u8]) -> DynamicImage {
    image::load_from_memory(bytes).expect("served avatar decodes")
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

async fn valid_png_updates_profile_and_is_served(backend: Backend) {
    let mut t = Ctx::start(backend).await;
    assert_eq!(profile_avatar(&mut t.c).await, "/static/default-avatar.svg");

    let r = t.upload("avatar.png", &png(200, 200)).await;
    let url = accepted(&r, "200x200 png");
    assert!(url.ends_with(".png"));
    assert!(
        r.json()["message"]
            .as_str()
            .is_some_and(|m| m.to_lowercase().contains("uploaded successfully"))
    );
    assert_eq!(profile_avatar(&mut t.c).await, url);
    let name = url.trim_start_matches("/avatars/").to_string();
    assert_eq!(t.stored().await, vec![name.clone()]);

    // Served to anyone (an <img> needs no session), with its type and caching.
    let (status, h, body) = fetch(&t.s.base, &url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&h, "content-type"), "image/png");
    assert_eq!(header(&h, "cache-control"), CACHE);
    assert_eq!(header(&h, "etag"), format!("\"{name}\""));
    assert_eq!(header(&h, "x-content-type-options"), "nosniff");
    assert_eq!(body, stored_bytes(&t.s, &name).await);
    let img = decode(&body);
    assert_eq!((img.width(), img.height()), (200, 200));
    assert_eq!(
        img.to_rgba8(),
        rgba(200, 200).to_rgba8(),
        "PNG stays lossless"
    );

    // A plain browser form post (asking for HTML) goes back to the profile page.
    let tok = t.token.clone();
    let image = png(32, 32);
    let r =
        t.c.post("/api/profile/avatar")
            .header("X-CSRFToken", &tok)
            .header("Accept", "text/html,application/xhtml+xml")
            .body(
                &multipart_type(),
                multipart(&[Part {
                    name: "avatar",
                    filename: Some("from-a-form.png"),
                    data: &image,
                }]),
            )
            .send()
            .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.header("location").as_deref(), Some("/profile?saved=1"));
    let newer = profile_avatar(&mut t.c).await;
    assert!(is_generated_url(&newer) && newer != url, "{newer}");
}

async fn png_jpeg_gif_with_matching_extensions(backend: Backend) {
    let mut t = Ctx::start(backend).await;
    for (filename, bytes, ext, content_type) in [
        ("photo.png", png(64, 48), "png", "image/png"),
        ("PHOTO.PNG", png(64, 48), "png", "image/png"),
        ("photo.jpg", jpeg(64, 48), "jpg", "image/jpeg"),
        ("photo.jpeg", jpeg(64, 48), "jpg", "image/jpeg"),
        ("photo.JPG", jpeg(64, 48), "jpg", "image/jpeg"),
        // GIFs are stored as PNG (their first frame).
        ("anim.gif", gif(64, 48), "png", "image/png"),
    ] {
        let r = t.upload(filename, &bytes).await;
        let url = accepted(&r, filename);
        assert!(url.ends_with(&format!(".{ext}")), "{filename}: {url}");
        let (status, h, body) = fetch(&t.s.base, &url).await;
        assert_eq!(status, StatusCode::OK, "{filename}");
        assert_eq!(header(&h, "content-type"), content_type, "{filename}");
        let img = decode(&body);
        assert_eq!((img.width(), img.height()), (64, 48), "{filename}");
        assert_eq!(profile_avatar(&mut t.c).await, url);
    }
    // Each upload replaced the one before.
    let stored = t.stored().await;
    assert_eq!(stored.len(), 1, "{stored:?}");
}

async fn wrong_file_types_rejected(backend: Backend) {
    let mut t = Ctx::start(backend).await;
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
    for (filename, bytes) in [
        ("malware.exe", b"MZ\x90\x00 not really".to_vec()),
        ("avatar.exe", png(10, 10)),
        ("avatar.svg", svg.to_vec()),
        ("notes.txt", b"just text".to_vec()),
        ("avatar.png.exe", png(10, 10)),
        ("avatar", png(10, 10)),
        ("avatar.webp", png(10, 10)),
        ("avatar.", png(10, 10)),
    ] {
        let r = t.upload(filename, &bytes).await;
        rejected(&r, BAD_TYPE, filename);
        let e = r.json()["error"].as_str().unwrap_or("").to_lowercase();
        assert!(e.contains("invalid file type"), "{filename}");
    }
    // A large refused file is still read to its end: the client gets the 400, and its
    // connection goes on working.
    let r = t.upload("big.exe", &vec![b'x'; 6 * 1024 * 1024]).await;
    rejected(&r, BAD_TYPE, "6 MiB .exe");
    assert!(t.stored().await.is_empty());
    assert_eq!(profile_avatar(&mut t.c).await, "/static/default-avatar.svg");
}

async fn extension_must_match_content(backend: Backend) {
    let mut t = Ctx::start(backend).await;
    for (filename, bytes) in [
        ("png-as.jpg", png(20, 20)),
        ("png-as.jpeg", png(20, 20)),
        ("png-as.gif", png(20, 20)),
        ("jpeg-as.png", jpeg(20, 20)),
        ("jpeg-as.gif", jpeg(20, 20)),
        ("gif-as.png", gif(20, 20)),
        ("gif-as.jpg", gif(20, 20)),
    ] {
        let r = t.upload(filename, &bytes).await;
        rejected(&r, MISMATCH, filename);
        assert!(r.body.to_lowercase().contains("does not match"));
    }
    assert!(t.stored().await.is_empty());
}

async fn files_that_are_not_images(backend: Backend) {
    let mut t = Ctx::start(backend).await;
    let mut bad_signature = png(30, 30);
    bad_signature[1] = b'X';
    let mut bad_ihdr = png(30, 30);
    for b in &mut bad_ihdr[12..29] {
        *b = 0xFF;
    }
    for (filename, bytes) in [
        (
            "text.png",
            b"This is not an image, just some text.".to_vec(),
        ),
        ("empty.png", Vec::new()),
        ("corrupt-signature.png", bad_signature),
        ("corrupt-header.png", bad_ihdr),
        (
            "garbage.jpg",
            b"\xFF\xD8\xFF\xE0 then nothing useful".to_vec(),
        ),
        // A valid 16×16 GIF header followed by markup: passes the header, fails the decode.
        (
            "html.gif",
            b"GIF89a\x10\x00\x10\x00<script>alert(1)</script>".to_vec(),
        ),
    ] {
        let r = t.upload(filename, &bytes).await;
        rejected(&r, CORRUPT, filename);
        let e = r.json()["error"].as_str().unwrap_or("").to_lowercase();
        assert!(
            e.contains("invalid") || e.contains("corrupted"),
            "{filename}"
        );
    }
    // Truncated after 50 bytes: the original accepted 200 or 400; here the full decode fails.
    let mut truncated = png(100, 100);
    truncated.truncate(50);
    let r = t.upload("truncated.png", &truncated).await;
    assert!(
        r.status == StatusCode::OK || r.status == StatusCode::BAD_REQUEST,
        "truncated: {}",
        r.body
    );
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(t.stored().await.is_empty());
}

async fn file_sizes(backend: Backend) {
    let mut t = Ctx::start(backend).await;
    accepted(&t.upload("medium.png", &png(500, 500)).await, "500x500");
    accepted(&t.upload("hd.png", &png(1920, 1080)).await, "1920x1080");

    // 6 MiB named .png: too large (checked before the content is looked at).
    let mut six = b"\x89PNG\r\n\x1a\n".to_vec();
    six.resize(6 * 1024 * 1024, b'x');
    let r = t.upload("large.png", &six).await;
    rejected(&r, TOO_LARGE, "6 MiB");
    let e = r.json()["error"].as_str().unwrap_or("").to_lowercase();
    assert!(e.contains("too large") || e.contains("size"));
    // The limit is 5 MiB exactly: at the limit the content is checked, one byte over is not.
    let r = t.upload("at-limit.png", &vec![b'x'; 5 * 1024 * 1024]).await;
    rejected(&r, CORRUPT, "5 MiB of text");
    let r = t
        .upload("over-limit.png", &vec![b'x'; 5 * 1024 * 1024 + 1])
        .await;
    rejected(&r, TOO_LARGE, "5 MiB + 1");
    // Still working on the same connection, and still the 1920x1080 avatar.
    let url = profile_avatar(&mut t.c).await;
    let (status, _, body) = fetch(&t.s.base, &url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(decode(&body).width(), 1920);

    // A body far over the limit is a 413 (the server stops reading, so a fresh client).
    let mut throwaway = t.s.client();
    throwaway.cookies = t.c.cookies.clone();
    let r = upload(
        &mut throwaway,
        &t.token,
        "huge.png",
        &vec![0u8; 9 * 1024 * 1024],
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(r.json()["error"].is_string());
    assert_eq!(t.stored().await.len(), 1);
}

async fn image_dimensions_and_bombs(backend: Backend) {
    let mut t = Ctx::start(backend).await;
    for (w, h) in [(5000, 100), (100, 5000), (4097, 1), (1, 4097)] {
        let r = t.upload("wide.png", &png_bomb(w, h)).await;
        rejected(&r, TOO_BIG, &format!("{w}x{h}"));
    }
    let r = t.upload("real.png", &png(5000, 100)).await;
    rejected(&r, TOO_BIG, "5000x100 (image crate)");
    let r = t.upload("real.png", &png(100, 5000)).await;
    rejected(&r, TOO_BIG, "100x5000 (image crate)");
    let r = t.upload("wide.jpg", &jpeg(4100, 8)).await;
    rejected(&r, TOO_BIG, "4100x8 jpeg");

    // 10000×10000: 100 million pixels in a file of a few dozen kilobytes. Refused from its
    // header, quickly, without decoding.
    let bomb = png_bomb(10_000, 10_000);
    assert!(bomb.len() < 200 * 1024, "bomb is {} bytes", bomb.len());
    let started = Instant::now();
    let r = t.upload("bomb.png", &bomb).await;
    rejected(&r, TOO_BIG, "10000x10000 bomb");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "bomb took {:?}",
        started.elapsed()
    );
    assert!(t.stored().await.is_empty());

    // 4096×4096 itself is allowed.
    let url = accepted(
        &t.upload("edge.png", &png_bomb(4096, 4096)).await,
        "4096x4096",
    );
    let (_, _, body) = fetch(&t.s.base, &url).await;
    let img = decode(&body);
    assert_eq!((img.width(), img.height()), (4096, 4096));

    // The server is still healthy.
    let (status, _, _) = fetch(&t.s.base, "/health").await;
    assert_eq!(status, StatusCode::OK);
}

async fn missing_or_unnamed_file(backend: Backend) {
    let mut t = Ctx::start(backend).await;
    let tok = t.token.clone();
    let image = png(10, 10);
    // A multipart body without an `avatar` part.
    let r = upload_parts(
        &mut t.c,
        &tok,
        &[Part {
            name: "picture",
            filename: Some("a.png"),
            data: &image,
        }],
    )
    .await;
    rejected(&r, NO_FILE, "no avatar part");
    assert!(r.body.to_lowercase().contains("no file"));
    // An empty multipart body.
    let r = upload_parts(&mut t.c, &tok, &[]).await;
    rejected(&r, NO_FILE, "empty multipart");
    // An `avatar` field that is not a file.
    let r = upload_parts(
        &mut t.c,
        &tok,
        &[Part {
            name: "avatar",
            filename: None,
            data: b"text",
        }],
    )
    .await;
    rejected(&r, NO_FILE, "avatar as a text field");
    // Not multipart at all.
    let r =
        t.c.post("/api/profile/avatar")
            .header("X-CSRFToken", &tok)
            .json(&json!({"avatar": "a.png"}))
            .send()
            .await;
    rejected(&r, NO_FILE, "JSON body");
    // The browser's "no file chosen": an empty filename.
    let r = upload_parts(
        &mut t.c,
        &tok,
        &[Part {
            name: "avatar",
            filename: Some(""),
            data: b"",
        }],
    )
    .await;
    rejected(&r, NOT_SELECTED, "empty filename");
    // A malformed multipart body.
    let r = t
        .c
        .post("/api/profile/avatar")
        .header("X-CSRFToken", &tok)
        .body(
            &multipart_type(),
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"a.png\"\r\n\r\nunterminated"),
        )
        .send()
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    // Other fields before the file are skipped.
    let r = upload_parts(
        &mut t.c,
        &tok,
        &[
            Part {
                name: "note",
                filename: None,
                data: b"hello",
            },
            Part {
                name: "avatar",
                filename: Some("a.png"),
                data: &image,
            },
        ],
    )
    .await;
    accepted(&r, "avatar after another field");
}

async fn hostile_file_names(backend: Backend) {
    let mut t = Ctx::start(backend).await;
    for filename in [
        "../../../etc/passwd.png",
        "..\\..\\windows\\win.png",
        "/etc/shadow.png",
        "test-special_chars.png",
        "naïve ünïcödé.png",
        "semi;colon.png",
    ] {
        let r = t.upload(filename, &png(16, 16)).await;
        let url = accepted(&r, filename);
        assert!(!url.contains(".."), "{filename}: {url}");
    }
    // Nothing was written to disk at all, and only the latest picture is kept.
    let top: Vec<String> = std::fs::read_dir(t.data.path())
        .expect("data dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(top.is_empty(), "{top:?}");
    assert_eq!(t.stored().await.len(), 1);
}

async fn login_and_csrf_required(backend: Backend) {
    let mut t = Ctx::start(backend).await;
    let image = png(20, 20);

    // Anonymous, with a valid anonymous CSRF token: 401.
    let mut anon = t.s.client();
    let at = anon.csrf().await;
    let r = upload(&mut anon, &at, "a.png", &image).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    assert_eq!(r.json(), json!({"error": "Authentication required."}));

    // Logged in without a token, or with a wrong one: the CSRF 400.
    let r =
        t.c.post("/api/profile/avatar")
            .body(
                &multipart_type(),
                multipart(&[Part {
                    name: "avatar",
                    filename: Some("a.png"),
                    data: &image,
                }]),
            )
            .send()
            .await;
    rejected(&r, "The CSRF token is missing.", "no token");
    let r = upload(&mut t.c, "forged", "a.png", &image).await;
    rejected(&r, "The CSRF token is invalid.", "bad token");
    // A cross-site upload is blocked even with the token.
    let tok = t.token.clone();
    let r =
        t.c.post("/api/profile/avatar")
            .header("X-CSRFToken", &tok)
            .header("Sec-Fetch-Site", "cross-site")
            .body(
                &multipart_type(),
                multipart(&[Part {
                    name: "avatar",
                    filename: Some("a.png"),
                    data: &image,
                }]),
            )
            .send()
            .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    assert!(t.stored().await.is_empty());
    assert_eq!(profile_avatar(&mut t.c).await, "/static/default-avatar.svg");
    accepted(&t.upload("a.png", &image).await, "with token");
}

async fn reencoding_strips_metadata_and_trailing_bytes(backend: Backend) {
    let mut t = Ctx::start(backend).await;

    // A PNG with a text chunk and 1 KiB of junk (a script, as in a polyglot) after IEND.
    let original = png(40, 30);
    let mut sent = insert_chunk(&original, b"tEXt", b"Comment\0SECRET-PNG-COMMENT");
    let mut junk = b"<script>alert('polyglot')</script>".to_vec();
    junk.resize(1024, b'J');
    sent.extend_from_slice(&junk);
    let url = accepted(&t.upload("polyglot.png", &sent).await, "png with junk");
    let (status, h, body) = fetch(&t.s.base, &url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&h, "content-type"), "image/png");
    assert!(body.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert!(
        body.ends_with(&chunk(b"IEND", b"")),
        "the served file ends at IEND"
    );
    assert!(!contains(&body, b"<script>"), "junk removed");
    assert!(
        !contains(&body, b"SECRET-PNG-COMMENT"),
        "text chunk removed"
    );
    assert!(!contains(&body, &junk[..64]));
    let img = decode(&body);
    assert_eq!(img.to_rgba8(), rgba(40, 30).to_rgba8(), "same pixels");

    // A JPEG with EXIF (orientation 6 and a GPS-like secret) and trailing bytes: the EXIF is
    // gone, its rotation applied to the pixels.
    let mut sent = jpeg_with_exif(40, 20, b"GPS-SECRET-MARKER");
    sent.extend_from_slice(&junk);
    let url = accepted(&t.upload("photo.jpg", &sent).await, "jpeg with exif");
    let (status, h, body) = fetch(&t.s.base, &url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&h, "content-type"), "image/jpeg");
    assert!(body.starts_with(&[0xFF, 0xD8]));
    assert!(body.ends_with(&[0xFF, 0xD9]), "the served file ends at EOI");
    assert!(!contains(&body, b"Exif\0\0"), "EXIF removed");
    assert!(!contains(&body, b"GPS-SECRET-MARKER"));
    assert!(!contains(&body, b"<script>"));
    let img = decode(&body);
    assert_eq!((img.width(), img.height()), (20, 40), "orientation applied");
}

async fn replacing_deletes_the_old_picture(backend: Backend) {
    let mut t = Ctx::start(backend).await;
    let (mut bob, bob_token) = new_user_with_token(&t.s, "bob").await;
    let bob_url = accepted(
        &upload(&mut bob, &bob_token, "bob.png", &png(12, 12)).await,
        "bob",
    );

    let first = accepted(&t.upload("one.png", &png(10, 10)).await, "first");
    let (status, h, _) = fetch(&t.s.base, &first).await;
    assert_eq!(status, StatusCode::OK);
    let first_tag = header(&h, "etag").to_string();

    let second = accepted(&t.upload("two.jpg", &jpeg(10, 10)).await, "second");
    assert_ne!(first, second);
    assert_eq!(profile_avatar(&mut t.c).await, second);
    // The old picture was deleted in the upload's transaction: its name is a 404, also to
    // a cache revalidating its copy.
    let (status, _, body) = fetch(&t.s.base, &first).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).expect("json"),
        json!({"error": "Not found."})
    );
    let (status, _) = revalidate(&t.s.base, &first, &first_tag).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Bob's avatar is untouched; the table holds exactly the two current pictures.
    assert_eq!(profile_avatar(&mut bob).await, bob_url);
    let (status, _, _) = fetch(&t.s.base, &bob_url).await;
    assert_eq!(status, StatusCode::OK);
    let mut expected = vec![
        bob_url.trim_start_matches("/avatars/").to_string(),
        second.trim_start_matches("/avatars/").to_string(),
    ];
    expected.sort();
    assert_eq!(t.stored().await, expected);

    // A failed upload keeps the current avatar.
    rejected(&t.upload("bad.png", b"nope").await, CORRUPT, "bad");
    assert_eq!(profile_avatar(&mut t.c).await, second);
    assert_eq!(t.stored().await, expected);
}

async fn serving_only_generated_names(backend: Backend) {
    let t = Ctx::start(backend).await;
    // A file that exists in the folder but was not generated is never served.
    std::fs::create_dir_all(t.avatars()).expect("mkdir");
    std::fs::write(t.avatars().join("planted.png"), png(5, 5)).expect("plant");
    std::fs::write(t.data.path().join("secret.txt"), b"secret").expect("plant");
    for url in [
        "/avatars/planted.png",
        "/avatars/default_avatar.png",
        "/avatars/..%2fsecret.txt",
        "/avatars/..%2F..%2Fetc%2Fpasswd",
        "/avatars/0123456789ABCDEF0123456789ABCDEF.png",
        "/avatars/0123456789abcdef0123456789abcdef.gif",
        "/avatars/0123456789abcdef0123456789abcdef.png.png",
        "/avatars/",
    ] {
        let (status, _, body) = fetch(&t.s.base, url).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{url}");
        assert!(!contains(&body, b"secret"), "{url}");
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        assert!(v["error"].is_string(), "{url}");
    }
    // A generated-looking name no picture is stored under: a 404, even with a file of that
    // name in the folder (files are never served).
    let ghost = "0123456789abcdef0123456789abcdef.png";
    std::fs::write(t.avatars().join(ghost), png(5, 5)).expect("plant");
    let (status, _, body) = fetch(&t.s.base, &format!("/avatars/{ghost}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).expect("json"),
        json!({"error": "Not found."})
    );
    let (status, _) = revalidate(&t.s.base, &format!("/avatars/{ghost}"), "*").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A stored value that is not a generated name (e.g. the original's placeholder) shows
    // the default avatar in the profile.
    let pool = t.s.db.pool().await;
    sqlx::query("UPDATE users SET avatar = 'default_avatar.png'")
        .execute(&pool)
        .await
        .expect("update");
    pool.close().await;
    let mut c = t.c;
    assert_eq!(profile_avatar(&mut c).await, "/static/default-avatar.svg");
}

async fn etag_and_not_modified(backend: Backend) {
    let mut t = Ctx::start(backend).await;
    let url = accepted(&t.upload("me.jpg", &jpeg(30, 20)).await, "jpeg");
    let (status, h, body) = fetch(&t.s.base, &url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&h, "content-type"), "image/jpeg");
    let tag = header(&h, "etag").to_string();
    assert!(
        tag.starts_with('"') && tag.ends_with('"') && tag.len() > 2,
        "strong: {tag}"
    );
    assert_eq!(
        header(&h, "content-length"),
        body.len().to_string(),
        "{h:?}"
    );
    // The same tag, alone, weak-prefixed, in a list or as `*`: 304 with the tag and the
    // cache rule, no body.
    for sent in [
        tag.clone(),
        format!("W/{tag}"),
        format!("\"other\", {tag}"),
        "*".to_string(),
    ] {
        let (status, h) = revalidate(&t.s.base, &url, &sent).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{sent}");
        assert_eq!(header(&h, "etag"), tag, "{sent}");
        assert_eq!(header(&h, "cache-control"), CACHE, "{sent}");
    }
    // Another tag: the picture again.
    let (status, h) = revalidate(&t.s.base, &url, "\"something-else\"").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&h, "etag"), tag);
    // A new upload is a new name with a new tag; the old tag no longer answers 304.
    let newer = accepted(&t.upload("me.png", &png(8, 8)).await, "png");
    let (status, h, _) = fetch(&t.s.base, &newer).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(header(&h, "etag"), tag);
    let (status, _) = revalidate(&t.s.base, &newer, &tag).await;
    assert_eq!(status, StatusCode::OK);
}

async fn deleting_the_account_deletes_the_picture(backend: Backend) {
    let mut t = Ctx::start(backend).await;
    let (mut bob, bob_token) = new_user_with_token(&t.s, "bob").await;
    let bob_url = accepted(
        &upload(&mut bob, &bob_token, "bob.png", &png(12, 12)).await,
        "bob",
    );
    let (mut carol, carol_token) = new_user_with_token(&t.s, "carol").await;
    let carol_url = accepted(
        &upload(&mut carol, &carol_token, "carol.png", &png(14, 14)).await,
        "carol",
    );
    let url = accepted(&t.upload("alice.png", &png(10, 10)).await, "alice");
    assert_eq!(t.stored().await.len(), 3);

    // Deleting one's own account (`db::users::delete`).
    let tok = t.token.clone();
    let r =
        t.c.req(reqwest::Method::DELETE, "/api/account")
            .header("X-CSRFToken", &tok)
            .json(&json!({"password": PW}))
            .send()
            .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (status, _, _) = fetch(&t.s.base, &url).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // An account deleted by an operator (`db::users::apply`, as the admin panel does).
    let out = t.s.cli(&["user", "delete", "bob"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, _, _) = fetch(&t.s.base, &bob_url).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Only carol's picture is left.
    assert_eq!(
        t.stored().await,
        vec![carol_url.trim_start_matches("/avatars/").to_string()]
    );
    let (status, _, _) = fetch(&t.s.base, &carol_url).await;
    assert_eq!(status, StatusCode::OK);
}

/// An operator upgrading from a version that kept avatars as files in `DATA_DIR/avatars`:
/// `gleh migrate` and the start of `gleh serve` move every file an account names into the
/// database (src/avatar/adopt.rs); a named file that is missing is reported and left named;
/// files nobody names are left alone; running again changes nothing.
async fn files_of_an_older_version_are_moved_in(backend: Backend) {
    let t = Ctx::start(backend).await;
    let (mut bob, _) = new_user_with_token(&t.s, "bob").await;
    let (mut carol, _) = new_user_with_token(&t.s, "carol").await;
    let (alice_pic, bob_pic) = (png(21, 13), jpeg(9, 7));
    let alice_name = "0123456789abcdef0123456789abcdef.png";
    let bob_name = "fedcba9876543210fedcba9876543210.jpg";
    let carol_name = "00000000000000000000000000000000.png";
    let stray = "11111111111111111111111111111111.png";
    std::fs::create_dir_all(t.avatars()).expect("mkdir");
    std::fs::write(t.avatars().join(alice_name), &alice_pic).expect("alice's file");
    std::fs::write(t.avatars().join(bob_name), &bob_pic).expect("bob's file");
    std::fs::write(t.avatars().join(stray), png(3, 3)).expect("a file nobody names");
    // The rows as the older version left them (its `users.avatar`, no `avatars` row).
    let pool = t.s.db.pool().await;
    for (user, name) in [
        ("alice", alice_name),
        ("bob", bob_name),
        ("carol", carol_name),
    ] {
        sqlx::query("UPDATE users SET avatar = $1 WHERE username = $2")
            .bind(name)
            .bind(user)
            .execute(&pool)
            .await
            .expect("name the file");
    }
    pool.close().await;

    // `gleh migrate` moves alice's and bob's files in and reports carol's as missing.
    let out = t.s.cli(&["migrate"], None);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("avatars: 2 moved") && stdout.contains("1 named but not there"),
        "{stdout}"
    );
    let mut expected = vec![alice_name.to_string(), bob_name.to_string()];
    expected.sort();
    assert_eq!(t.stored().await, expected);
    assert_eq!(stored_bytes(&t.s, alice_name).await, alice_pic);
    let (status, h, body) = fetch(&t.s.base, &format!("/avatars/{alice_name}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&h, "content-type"), "image/png");
    assert_eq!(body, alice_pic);
    assert_eq!(
        profile_avatar(&mut bob).await,
        format!("/avatars/{bob_name}")
    );
    // Carol's picture is still named, and a 404 until its file comes back.
    assert_eq!(
        profile_avatar(&mut carol).await,
        format!("/avatars/{carol_name}")
    );
    let (status, _, _) = fetch(&t.s.base, &format!("/avatars/{carol_name}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Again: nothing moved, the missing file still reported, nothing else changed.
    let out = t.s.cli(&["migrate"], None);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        stdout.contains("avatars: 0 moved") && stdout.contains("1 named but not there"),
        "{stdout}"
    );
    assert_eq!(t.stored().await, expected);

    // Carol's file put back: the next start of the server moves it in.
    let carol_pic = png(6, 6);
    std::fs::write(t.avatars().join(carol_name), &carol_pic).expect("carol's file");
    let dir = t.data.path().to_string_lossy().into_owned();
    let db = t.s.stop();
    let s = Server::start_on(db, &[("DATA_DIR", &dir), ("AUTH_RATE_LIMIT", "1000")]).await;
    let moved = s.wait_event("avatar_files_moved").await;
    assert_eq!(moved["moved"], 1, "{moved}");
    assert_eq!(moved["missing"], 0, "{moved}");
    let (status, _, body) = fetch(&s.base, &format!("/avatars/{carol_name}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, carol_pic);
    // The files are left where they were; the stray one was never moved.
    assert!(t.data.path().join("avatars").join(alice_name).exists());
    assert!(!stored_names(&s).await.contains(&stray.to_string()));
}
