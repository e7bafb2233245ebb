//! Stored avatars' names: generated here (`<32 hex>.png|.jpg`, random, never reused), the
//! only names served, and the Content-Type each one's extension gives. The bytes live in the
//! database (`db::avatars`); nothing the user sends ever becomes part of a name.

/// A new random name: 32 lower-case hex characters and the extension.
pub fn new_name(ext: &str) -> String {
    let mut raw = [0u8; 16];
    rand::fill(&mut raw[..]);
    format!("{}.{ext}", hex::encode(raw))
}

/// Is `name` one this module generates? Only such names are served or moved in from files.
pub fn is_stored_name(name: &str) -> bool {
    let Some((stem, ext)) = name.split_once('.') else {
        return false;
    };
    stem.len() == 32
        && stem.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && matches!(ext, "png" | "jpg")
}

/// The Content-Type of a stored avatar.
pub fn content_type(name: &str) -> &'static str {
    if name.ends_with(".jpg") {
        "image/jpeg"
    } else {
        "image/png"
    }
}

/// The strong `ETag` of the avatar stored as `name`: the name itself, since the bytes under
/// a name never change (a new upload gets a new name).
pub fn etag(name: &str) -> String {
    format!("\"{name}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let n = new_name("png");
        assert!(is_stored_name(&n), "{n}");
        assert_ne!(n, new_name("png"));
        assert!(is_stored_name(&new_name("jpg")));
        for bad in [
            "default_avatar.png",
            "../x.png",
            "0123456789abcdef0123456789abcdef.gif",
            "0123456789ABCDEF0123456789abcdef.png",
            "0123456789abcdef0123456789abcdef.png.png",
            "0123456789abcdef0123456789abcde.png",
            "",
        ] {
            assert!(!is_stored_name(bad), "{bad}");
        }
    }

    #[test]
    fn types_and_tags() {
        let n = new_name("jpg");
        assert_eq!(content_type(&n), "image/jpeg");
        assert_eq!(content_type(&new_name("png")), "image/png");
        assert_eq!(etag(&n), format!("\"{n}\""));
    }
}
