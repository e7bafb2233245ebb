//! Covers: `/api/calibre/cover/<n>` for a book of the stored library, fetched once from
//! `<CALIBRE_WEB_URL>/opds/cover/<n>` with the server's credentials and kept in
//! `ebook_covers` (so every instance shares them and a page of books makes no Calibre
//! call once warm). Only a JPEG, PNG, GIF or WebP image, by declared type and by its first
//! bytes, of at most [`COVER_MAX_BYTES`], is kept; anything else (an HTML error page, a
//! huge body) is no cover. A cover older than [`COVER_TTL`] is fetched again, and the old
//! one served when that fails.

use sha2::{Digest, Sha256};

use super::{Library, sync::read_capped};
use crate::{
    db::{
        Db,
        ebooks::{self, Cover},
    },
    http::ApiResult,
    time::now,
};

/// Largest cover accepted.
pub const COVER_MAX_BYTES: usize = 5 * 1024 * 1024;
/// How long a stored cover is served before it is fetched again (seconds).
pub const COVER_TTL: i64 = 7 * 86_400;

/// The image type of `body`, when its first bytes and the declared type agree.
pub fn image_type(declared: &str, body: &[u8]) -> Option<&'static str> {
    let sniffed = if body.starts_with(&[0xff, 0xd8, 0xff]) {
        "image/jpeg"
    } else if body.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if body.starts_with(b"GIF87a") || body.starts_with(b"GIF89a") {
        "image/gif"
    } else if body.len() >= 12 && &body[..4] == b"RIFF" && &body[8..12] == b"WEBP" {
        "image/webp"
    } else {
        return None;
    };
    let declared = declared
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let agrees = declared == sniffed || (declared == "image/jpg" && sniffed == "image/jpeg");
    agrees.then_some(sniffed)
}

impl Library {
    async fn fetch_cover(&self, n: i64) -> Option<Cover> {
        let cfg = self.config.as_ref()?;
        let url = super::sync::feed_url(&cfg.url, &format!("opds/cover/{n}"))?;
        let resp = self.get(url)?.send().await.ok()?;
        if resp.status() != reqwest::StatusCode::OK {
            return None;
        }
        let declared = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let data = read_capped(resp, COVER_MAX_BYTES).await.ok()?;
        let content_type = image_type(&declared, &data)?;
        let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&data))[..32]);
        Some(Cover {
            content_type: content_type.to_string(),
            etag,
            data,
            fetched_at: now(),
        })
    }

    /// The cover of book `n`: `None` when the book is not in the library, has no cover, or
    /// Calibre-Web gave no usable image (and none is stored).
    pub async fn cover(&self, db: &Db, n: i64) -> ApiResult<Option<Cover>> {
        if !self.enabled() {
            return Ok(None);
        }
        let Some(book) = ebooks::find(db, n).await? else {
            return Ok(None);
        };
        if book.has_cover == 0 {
            return Ok(None);
        }
        let stored = ebooks::cover(db, n).await?;
        if let Some(c) = &stored
            && now() - c.fetched_at < COVER_TTL
        {
            return Ok(stored);
        }
        match self.fetch_cover(n).await {
            Some(fresh) => {
                ebooks::put_cover(db, n, &fresh).await?;
                Ok(Some(fresh))
            }
            None => Ok(stored),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_images_that_say_so() {
        let png = b"\x89PNG\r\n\x1a\n....";
        assert_eq!(image_type("image/png", png), Some("image/png"));
        assert_eq!(image_type("image/jpeg", png), None);
        assert_eq!(
            image_type("image/jpg", b"\xff\xd8\xff\xe0"),
            Some("image/jpeg")
        );
        assert_eq!(image_type("text/html", b"<html>"), None);
        assert_eq!(image_type("image/png", b"<html>"), None);
        assert_eq!(image_type("image/svg+xml", b"<svg/>"), None);
        assert_eq!(
            image_type("image/webp", b"RIFF\0\0\0\0WEBPVP8 "),
            Some("image/webp")
        );
    }
}
