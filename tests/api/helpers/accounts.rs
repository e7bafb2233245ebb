//! Users created through the CLI, and clients logged in as them.

use reqwest::StatusCode;

use super::{Client, Server};

/// A password that satisfies the policy, for tests that are not about passwords.
pub const PW: &str = "correct-horse-battery-1";

/// A new client logged in as the existing user `user`; the login must answer 200 and set a
/// session cookie.
pub async fn logged_in(s: &Server, user: &str, pw: &str) -> Client {
    let mut c = s.client();
    let r = c.login(user, pw).await;
    assert_eq!(r.status, StatusCode::OK, "login {user}: {}", r.body);
    assert!(c.session().is_some(), "login {user} set no session cookie");
    c
}

/// A user `name` with password `PW`, created through the CLI, and a client logged in as it.
pub async fn new_user(s: &Server, name: &str) -> Client {
    s.create_user(name, PW);
    logged_in(s, name, PW).await
}

/// `new_user`, and a CSRF token for its session.
pub async fn new_user_with_token(s: &Server, name: &str) -> (Client, String) {
    let mut c = new_user(s, name).await;
    let token = c.csrf().await;
    (c, token)
}
