//! What HTML forms carry and send: the hidden CSRF field, and multipart bodies.

/// The value of the hidden `csrf_token` input of an HTML form; it must be there and not
/// be empty.
pub fn form_token(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("no csrf_token input in:\n{html}"));
    let rest = &html[at + marker.len()..];
    let end = rest.find('"').expect("end of csrf_token value");
    let token = rest[..end].to_string();
    assert!(!token.is_empty(), "empty csrf_token in form");
    token
}

/// The boundary of every multipart body built here.
pub const BOUNDARY: &str = "----gleh-test-boundary-5e1c9a";

/// One multipart part; a part with a file name is sent as `application/octet-stream`.
pub struct Part<'a> {
    pub name: &'a str,
    pub filename: Option<&'a str>,
    pub data: &'a [u8],
}

/// A `multipart/form-data` body of `parts`, delimited by `BOUNDARY`.
pub fn multipart(parts: &[Part]) -> Vec<u8> {
    let mut body = Vec::new();
    for p in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match p.filename {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{}\"; filename=\"{f}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n",
                    p.name
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{}\"\r\n\r\n",
                    p.name
                )
                .as_bytes(),
            ),
        }
        body.extend_from_slice(p.data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// The content type that goes with `multipart`.
pub fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}
