//! Who the caller is and whether their request may act: server-side sessions
//! (`session`), CSRF tokens (`csrf`) and the layer that checks them with the cross-origin
//! rule (`guard`, `origin`, `token_source`), password hashing (`password`), the
//! brute-force limits (`rate_limit`), the extractors handlers name (`CurrentUser`,
//! `MaybeUser`; `admin::AdminUser` with the admins' re-authentication), and the account
//! operations both the JSON API and the pages call (`account`). The rules are
//! docs/design.md "Sessions", "CSRF", "Passwords and accounts" and "Admin panel".

pub mod account;
pub mod admin;
pub mod csrf;
mod extract;
pub mod guard;
mod origin;
pub mod password;
pub mod rate_limit;
pub mod session;
mod token_source;

pub use extract::{CurrentUser, MaybeUser};
pub use session::Session;

use crate::{http::Ctx, state::AppState, time::now};

/// A CSRF token for this caller: bound to their session, or (anonymous) to their IP and
/// user agent for an hour.
pub fn csrf_token(state: &AppState, ctx: &Ctx, s: Option<&Session>) -> String {
    csrf::issue(
        &state.keys.csrf,
        s.map(|s| s.id_hash.as_slice()),
        ctx.ip,
        &ctx.user_agent,
        now(),
    )
}
