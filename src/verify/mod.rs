//! `gleh verify URL`: the deployment checklist's post-deployment checks (§10–§16, mapped in
//! docs/deploy.md "7. After the start") as one command, against any GLEH deployment (or
//! anything that claims to be one). A client only: it needs no server configuration.
//!
//! Each check prints `PASS|FAIL|WARN|SKIP <id> <what> (<what was seen>)`, in the checklist's
//! section order (§10, TLS, §11, §14, §13, logout, §12, §15, hygiene, cleanup), then a
//! summary; exit 0 when nothing FAILs, 1 when something does, 2 when the checks could not
//! run (invalid or unreachable URL). `--json` prints one document instead.
//!
//! The checks run in a different order than they print: the throwaway account is
//! registered first, so that the plain-HTTP probe (§11) can try a real login. Login and
//! registration requests are counted, and the sequence is built to stay within the
//! server's default auth rate limit (5 a minute per IP): register 1, plain-HTTP probe 1
//! (only if it reaches the app instead of a redirect), login 1 (reused for the session
//! and CSRF checks), 1 more for `--session-timeout`, 1 for the cleanup.
//!
//! Choices where the contract leaves room:
//! - a chain that does not validate is a FAIL, and the remaining checks still run (over a
//!   client that accepts the certificate) so the operator sees everything at once; with
//!   `--insecure` an invalid chain is a SKIP that names the reason;
//! - TLS 1.0/1.1 are probed with a hand-built ClientHello (no dependency on an installed
//!   `openssl` and its security level): anything but a ServerHello for the offered
//!   version counts as refused;
//! - with `--username/--password` the account is not modified: the profile update sends
//!   back the current `about_me`, and the plain-HTTP probe uses a random unknown user, so
//!   the real password never travels without TLS;
//! - a derived plain-HTTP address (port 80) that refuses connections is a WARN (nobody can
//!   log in over HTTP, but visitors typing http:// get no redirect); an explicit
//!   `--http-url` that refuses connections is a FAIL.

mod account;
mod args;
mod body_limit;
mod checklist;
mod client;
mod cookies;
mod csrf;
mod health;
mod hygiene;
mod leaks;
mod load;
mod progress;
mod report;
mod session;
mod target;
mod tls;
mod tls_client;
mod tls_legacy;
mod tls_probe;
mod transport;

use std::{io::IsTerminal as _, time::Duration};

use serde_json::json;

pub use args::Args;
use client::{Http, Resp};
use cookies::Jar;
use progress::Progress;
use report::Report;
use target::Target;

/// Connection and handshake timeout for probes.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The state of one run, shared by the checks (`tls.rs`, `health.rs`, `transport.rs`,
/// `account.rs`, `session.rs`, `csrf.rs`, `load.rs`, `hygiene.rs`).
pub struct Verifier {
    pub args: Args,
    pub target: Target,
    pub report: Report,
    pub progress: Progress,
    /// The client for every request but the load test's; `None` until TLS is probed.
    pub http: Option<Http>,
    /// The TLS configuration the clients use (verifying or not).
    pub tls_verify: bool,
    /// Credentials in use; `throwaway` when registered by this run.
    pub username: String,
    pub password: String,
    pub throwaway: bool,
    pub registered: bool,
    /// The session of the main login.
    pub jar: Jar,
    /// A live session left over by the timeout check, reused for the cleanup.
    pub spare: Option<Jar>,
    /// A CSRF token the server accepted for `jar`'s session.
    pub token: Option<String>,
    /// Error responses collected for the leak check: (what was asked, response).
    pub errors: Vec<(String, Resp)>,
    /// Responses whose security headers are checked: (path, response).
    pub pages: Vec<(String, Resp)>,
    pub load: Option<serde_json::Value>,
}

impl Verifier {
    pub fn http(&self) -> &Http {
        self.http
            .as_ref()
            .expect("the HTTP client is built after the TLS probe")
    }
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::fill(&mut b[..]);
    hex::encode(b)
}

/// Builds its own runtime (verify runs without the server's configuration).
pub fn main(args: Args) -> i32 {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(run(args)),
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            2
        }
    }
}

fn could_not_run(args: &Args, why: &str) -> i32 {
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"url": args.url, "result": "error", "exit_code": 2, "error": why})
            )
            .unwrap_or_default()
        );
    } else {
        eprintln!("gleh verify: could not run: {why}");
    }
    2
}

/// Runs every check and prints the report; returns the exit status.
pub async fn run(args: Args) -> i32 {
    let target = match Target::parse(&args).await {
        Ok(t) => t,
        Err(e) => return could_not_run(&args, &e),
    };
    let addrs = target.addrs.clone();
    match tokio::task::spawn_blocking(move || tls_probe::connect(&addrs, TIMEOUT)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            return could_not_run(&args, &format!("cannot connect to {}: {e}", target.base));
        }
        Err(e) => return could_not_run(&args, &e.to_string()),
    }
    let colour = !args.no_color
        && !args.json
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    let (username, password, throwaway) = match (&args.username, &args.password) {
        (Some(u), Some(p)) => (u.clone(), p.clone(), false),
        _ => (format!("verify_{}", random_hex(6)), random_hex(18), true),
    };
    let mut v = Verifier {
        args,
        target,
        report: Report::default(),
        progress: Progress::new(),
        http: None,
        tls_verify: false,
        username,
        password,
        throwaway,
        registered: false,
        jar: Jar::default(),
        spare: None,
        token: None,
        errors: Vec::new(),
        pages: Vec::new(),
        load: None,
    };
    if let Err(e) = v.run_all().await {
        v.progress.clear();
        return could_not_run(&v.args, &e);
    }
    v.progress.clear();
    let checks = v.report.checks();
    let extra = json!({
        "http_url": v.target.http_base,
        "username": v.username,
        "auth_requests": v.http.as_ref().map(Http::auth_calls).unwrap_or(0),
        "load": v.load,
    });
    report::print(&v.target.base, &checks, v.args.json, colour, extra);
    report::exit_code(&checks)
}

impl Verifier {
    async fn run_all(&mut self) -> Result<(), String> {
        self.progress
            .show("TLS: probing the handshake and old protocol versions…");
        self.tls().await?;
        self.progress.show("§10: connectivity and health…");
        if !self.health().await {
            for p in [
                "https.", "cookie.", "auth.", "csrf.", "logout.", "session.", "load.", "headers.",
                "leak.", "body.", "cleanup.",
            ] {
                self.report
                    .skip_all(p, "not run: the server gives no HTTP answer");
            }
            return Ok(());
        }
        self.front_page().await;
        self.progress.show("§14: registering a throwaway account…");
        self.register().await;
        self.progress.show("§11: plain-HTTP login probe…");
        self.http_redirect().await;
        self.progress.show("§14: logging in…");
        let logged_in = self.login().await;
        if logged_in {
            self.session_checks().await;
            self.progress.show("§13: CSRF checks…");
            self.csrf_checks().await;
            self.body_limit().await;
        } else {
            let why = "not run: no session (login failed)";
            for p in ["cookie.", "auth.", "csrf.", "logout.", "session.", "body."] {
                self.report.skip_all(p, why);
            }
        }
        self.load_test().await;
        if logged_in {
            self.progress.show("logout checks…");
            self.logout_checks().await;
            self.session_timeout().await;
        }
        self.progress.show("cleanup…");
        self.cleanup().await;
        self.hygiene();
        Ok(())
    }
}
