//! HTTP plumbing shared by every route: the layer stack (`stack`), the request context
//! (`context`), the outer middleware (`frame`, `security_headers`), the error type, the
//! JSON body extractor and the response helpers, the routes that stream their body
//! (`streamed`), the HTTP/2 early-answer body drain (`drain`), and the last answers of an
//! instance shutting down (`closing`).

pub mod closing;
pub mod context;
pub mod drain;
pub mod error;
pub mod extract;
pub mod frame;
pub mod rejection;
pub mod response;
pub mod security_headers;
pub mod stack;
pub mod streamed;
mod unavailable;

pub use context::Ctx;
pub use error::{ApiError, ApiResult};
pub use extract::{JsonObject, is_json_content_type, read_body, wants_html};
pub use response::{html, json, json_bytes, json_response};
