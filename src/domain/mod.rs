//! Domain types that are valid by construction ("parse, don't validate"): each has a
//! private field and a `parse` that returns the value or the reason it was refused, with
//! unit tests beside it. Handlers and the CLI parse what a client sent into these before
//! anything is stored.

mod password;
mod progress;
mod username;

pub use password::{MAX_PASSWORD_BYTES, NewPassword, is_weak as is_weak_password};
pub use progress::ProgressStatus;
pub use username::{MAX_USERNAME, Username, key_of as username_key};
