//! `gleh doctor`: the pre-deployment checks of the seed's §1–§6 that a program can make, in
//! the spirit of Django's `manage.py check --deploy` (reference/security-anchors.md §2).
//!
//! Each check prints one line `PASS|WARN|FAIL <id> <what> — <reason>`, then a summary line;
//! the exit status is 1 when any check FAILs. `--json` prints
//! `{"checks": [{"id", "status", "message"}], "summary": {"pass", "warn", "fail"}}` instead
//! (`status` is `pass`, `warn` or `fail`; `message` is the text after the id).
//!
//! Doctor only looks: it never creates the database (a missing SQLite file is a FAIL) or the
//! log directory, and writes nothing but a probe file in `LOG_DIR` (or, when that does not
//! exist yet, in its parent) that it deletes at once — and sqlx's migration table, if a
//! reachable database lacks it, as `gleh migrate --check` does. It never prints the secret key.
//!
//! Choices the checklist leaves open:
//! - certificate lifetime: FAIL when any certificate in `TLS_CERT` expires within 30 days (the
//!   seed's "> 30 days"); no WARN tier above that, because a 90-day ACME certificate would
//!   otherwise warn for a third of its life;
//! - chain: every certificate must be issued (name and signature) by the next one in the file;
//!   a chain ending at a Mozilla root (webpki-roots) passes, one ending at a self-signed
//!   certificate that is not a Mozilla root (a private CA, or a self-signed leaf) is complete but
//!   WARNs "not publicly trusted", and a last certificate whose issuer is neither in the file nor
//!   a known root FAILs ("intermediate missing");
//! - the secret is looked for in the working-tree content of every git-tracked file and in
//!   every object reachable from any ref (history), since a key once committed is leaked.

use std::{
    collections::HashMap,
    fs,
    io::{BufRead as _, BufReader, IsTerminal as _, Read as _, Write as _},
    net::IpAddr,
    os::unix::fs::{MetadataExt as _, PermissionsExt as _},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, UNIX_EPOCH},
};

use rustls::{
    crypto::ring::sign::any_supported_type,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject as _},
    sign::CertifiedKey,
};
use serde_json::json;
use sqlx::Connection as _;
use x509_parser::{certificate::X509Certificate, extensions::GeneralName, prelude::FromDer as _};

use crate::{
    config::{Config, redact_url},
    db::{Backend, Db},
};

/// The example key printed in the seed checklist (§3).
const SEED_EXAMPLE_KEY: &str = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1";
/// How long the database gets to answer.
const DB_TIMEOUT: Duration = Duration::from_secs(5);
/// The seed's "Certificate validity: > 30 days".
const CERT_MIN_DAYS: i64 = 30;
/// The seed's "Disk space: at least 10GB" for logs.
const LOG_MIN_FREE_BYTES: u64 = 10_000_000_000;
/// The seed's §7 idle lifetime, and DESIGN.md's production absolute lifetime.
const MAX_IDLE_SECS: u64 = 3600;
const MAX_ABSOLUTE_SECS: u64 = 43_200;
/// NIST SP 800-63B-4 / ASVS 5 6.2.1: 15 characters for single-factor passwords.
const ADVISED_MIN_PASSWORD: usize = 15;
/// Above this many login/registration attempts per minute per IP, the limit barely slows a guesser.
const MAX_AUTH_RATE: u32 = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Pass,
    Warn,
    Fail,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        }
    }
    fn colour(self) -> &'static str {
        match self {
            Status::Pass => "\x1b[32m",
            Status::Warn => "\x1b[33m",
            Status::Fail => "\x1b[1;31m",
        }
    }
}

struct Check {
    id: &'static str,
    status: Status,
    message: String,
}

#[derive(Default)]
struct Report {
    checks: Vec<Check>,
}

impl Report {
    fn add(&mut self, id: &'static str, status: Status, what: &str, reason: impl AsRef<str>) {
        self.checks.push(Check {
            id,
            status,
            message: format!("{what} — {}", reason.as_ref()),
        });
    }
    fn pass(&mut self, id: &'static str, what: &str, reason: impl AsRef<str>) {
        self.add(id, Status::Pass, what, reason);
    }
    fn warn(&mut self, id: &'static str, what: &str, reason: impl AsRef<str>) {
        self.add(id, Status::Warn, what, reason);
    }
    fn fail(&mut self, id: &'static str, what: &str, reason: impl AsRef<str>) {
        self.add(id, Status::Fail, what, reason);
    }
    fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    fn print(&self, json: bool) {
        let (pass, warn, fail) = (
            self.count(Status::Pass),
            self.count(Status::Warn),
            self.count(Status::Fail),
        );
        let mut out = std::io::stdout().lock();
        // Write errors (a closed pipe) are ignored: the exit status still tells the story.
        if json {
            let checks: Vec<_> = self
                .checks
                .iter()
                .map(|c| {
                    json!({
                        "id": c.id,
                        "status": c.status.word().to_ascii_lowercase(),
                        "message": c.message,
                    })
                })
                .collect();
            let doc = json!({
                "checks": checks,
                "summary": {"pass": pass, "warn": warn, "fail": fail},
            });
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            );
            return;
        }
        let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        for c in &self.checks {
            let word = if colour {
                format!("{}{}\x1b[0m", c.status.colour(), c.status.word())
            } else {
                c.status.word().to_string()
            };
            let _ = writeln!(out, "{word} {} {}", c.id, c.message);
        }
        let _ = writeln!(out, "{pass} passed, {warn} warnings, {fail} failed");
    }
}

/// Runs every check, prints them, and returns the exit code (1 on any FAIL).
pub async fn run(config: &Config, json: bool) -> anyhow::Result<i32> {
    let mut r = Report::default();
    check_env(config, &mut r);
    check_secret(config, &mut r);
    check_secret_git(config, &mut r);
    check_env_file(&mut r);
    check_database(config, &mut r).await;
    check_tls(&mut r);
    check_public_url(&mut r);
    check_logs(config, &mut r);
    check_session(config, &mut r);
    check_passwords(config, &mut r);
    check_proxies(config, &mut r);
    r.print(json);
    Ok(if r.count(Status::Fail) > 0 { 1 } else { 0 })
}

/// A non-blank environment variable (the way `Config` reads them).
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn now_unix() -> i64 {
    crate::db::now()
}

fn iso_date(unix: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_secs(unix.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// "a, b, c and 2 more".
fn short_list(items: &[String], max: usize) -> String {
    let mut s = items
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > max {
        s.push_str(&format!(" and {} more", items.len() - max));
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Environment and secret key

fn check_env(config: &Config, r: &mut Report) {
    if config.is_production() {
        r.pass("env.production", "GLEH_ENV", "production");
    } else {
        r.warn(
            "env.production",
            "GLEH_ENV",
            format!(
                "{}: doctor checks a deployment, which runs with GLEH_ENV=production",
                config.env.as_str()
            ),
        );
    }
}

fn distinct_chars(s: &str) -> usize {
    let mut seen: Vec<char> = s.chars().collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}

fn check_secret(config: &Config, r: &mut Report) {
    const WHAT: &str = "SECRET_KEY strength";
    let Some(key) = &config.secret_key else {
        r.fail(
            "secret.strength",
            WHAT,
            "SECRET_KEY is not set (a random key per start ends every session at restart): generate one with `gleh gen-secret`",
        );
        return;
    };
    let problem = if key.trim() == SEED_EXAMPLE_KEY {
        Some("it is the example value from the deployment checklist".to_string())
    } else if key.len() < 32 {
        Some(format!("{} bytes, at least 32 required", key.len()))
    } else if distinct_chars(key) < 8 {
        Some(format!(
            "only {} distinct characters: not random",
            distinct_chars(key)
        ))
    } else {
        None
    };
    match problem {
        Some(p) => r.fail(
            "secret.strength",
            WHAT,
            format!("{p}: generate a new one with `gleh gen-secret`"),
        ),
        None => r.pass(
            "secret.strength",
            WHAT,
            format!(
                "{} bytes, {} distinct characters, not the checklist's example",
                key.len(),
                distinct_chars(key)
            ),
        ),
    }
}

fn git(dir: &Path, args: &[&str]) -> std::io::Result<std::process::Output> {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack.len() >= needle.len()
        && haystack
            .windows(needle.len())
            .any(|w| w[0] == needle[0] && w == needle)
}

fn check_secret_git(config: &Config, r: &mut Report) {
    const WHAT: &str = "SECRET_KEY not in git";
    let Some(key) = config.secret_key.as_deref().filter(|k| !k.is_empty()) else {
        return;
    };
    let Ok(cwd) = std::env::current_dir() else {
        r.warn(
            "secret.git",
            WHAT,
            "the working directory cannot be read: not checked",
        );
        return;
    };
    let top = match git(&cwd, &["rev-parse", "--show-toplevel"]) {
        Err(_) => {
            r.pass(
                "secret.git",
                WHAT,
                "git is not installed: no work tree to check",
            );
            return;
        }
        Ok(out) if out.status.success() => {
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim_end_matches(['\n', '\r']))
        }
        Ok(out) => {
            let err = String::from_utf8_lossy(&out.stderr);
            if err.contains("not a git repository") {
                r.pass("secret.git", WHAT, "not a git work tree");
            } else {
                r.warn(
                    "secret.git",
                    WHAT,
                    format!(
                        "git cannot read this work tree ({}): not checked",
                        err.lines().next().unwrap_or("").trim()
                    ),
                );
            }
            return;
        }
    };
    match search_git(&top, key.as_bytes()) {
        Ok(found) if found.is_empty() => r.pass(
            "secret.git",
            WHAT,
            format!(
                "not in any tracked file of {} nor in its history",
                top.display()
            ),
        ),
        Ok(found) => r.fail(
            "secret.git",
            WHAT,
            format!(
                "found in {} (in {}): remove it, purge it from history, and rotate the key with `gleh gen-secret`",
                short_list(&found, 5),
                top.display()
            ),
        ),
        Err(e) => r.warn(
            "secret.git",
            WHAT,
            format!("could not search {}: {e}", top.display()),
        ),
    }
}

/// Where `key` occurs: tracked files in the work tree (their current content), then objects
/// reachable from any ref (`history: PATH` for file contents, `history: a commit message`).
fn search_git(top: &Path, key: &[u8]) -> anyhow::Result<Vec<String>> {
    let mut found = Vec::new();
    let out = git(top, &["ls-files", "-z"])?;
    anyhow::ensure!(out.status.success(), "git ls-files failed");
    for name in out.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = String::from_utf8_lossy(name).into_owned();
        let path = top.join(&name);
        // A tracked symlink stores only its target's name; a submodule is a directory.
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() => {}
            _ => continue,
        }
        if let Ok(content) = fs::read(&path)
            && contains(&content, key)
        {
            found.push(name);
        }
    }

    // History: every object reachable from a ref, each read once.
    let out = git(top, &["rev-list", "--all", "--objects"])?;
    anyhow::ensure!(out.status.success(), "git rev-list failed");
    let listing = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut paths: HashMap<String, String> = HashMap::new();
    let mut ids = String::new();
    for line in listing.lines() {
        let (id, path) = line.split_once(' ').unwrap_or((line, ""));
        if id.is_empty() {
            continue;
        }
        paths.insert(id.to_string(), path.to_string());
        ids.push_str(id);
        ids.push('\n');
    }
    if ids.is_empty() {
        return Ok(found);
    }
    let mut child = Command::new("git")
        .arg("-C")
        .arg(top)
        .args(["cat-file", "--batch"])
        .env("LC_ALL", "C")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdin"))?;
    let writer = std::thread::spawn(move || stdin.write_all(ids.as_bytes()));
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut reader = BufReader::new(stdout);
    let mut header = String::new();
    let mut history = Vec::new();
    loop {
        header.clear();
        if reader.read_line(&mut header)? == 0 {
            break;
        }
        let mut parts = header.split_whitespace();
        let (Some(id), Some(kind), Some(size)) = (parts.next(), parts.next(), parts.next()) else {
            continue; // "<id> missing"
        };
        let size: usize = size.parse()?;
        let mut content = vec![0u8; size + 1];
        reader.read_exact(&mut content)?;
        if (kind == "blob" || kind == "commit" || kind == "tag") && contains(&content, key) {
            let what = match paths.get(id).map(String::as_str) {
                Some(p) if !p.is_empty() && kind == "blob" => format!("history: {p}"),
                _ => format!("history: a {kind} message"),
            };
            if !history.contains(&what) {
                history.push(what);
            }
        }
    }
    let _ = writer.join();
    let _ = child.wait();
    found.extend(history);
    Ok(found)
}

/// A `.env` in the working directory usually holds SECRET_KEY and the database password.
fn check_env_file(r: &mut Report) {
    let Ok(meta) = fs::metadata(".env") else {
        return;
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        r.pass(
            "secret.env-file",
            ".env permissions",
            format!("mode {mode:04o}"),
        );
    } else {
        r.warn(
            "secret.env-file",
            ".env permissions",
            format!("mode {mode:04o}: group or others may read the secrets in it — chmod 600 .env"),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Database

/// For SQLite, the file path of `url` (`None` for in-memory databases).
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path.starts_with(":memory:") {
        None
    } else {
        Some(PathBuf::from(path))
    }
}

async fn check_database(config: &Config, r: &mut Report) {
    const WHAT: &str = "database reachable";
    if env_var("DATABASE_URL").is_none() {
        r.fail(
            "db.reachable",
            WHAT,
            "DATABASE_URL is not set (the default sqlite://gleh.db is for development): set it to postgres://… or sqlite://PATH",
        );
        return;
    }
    let shown = redact_url(&config.database_url);
    let mut url = config.database_url.clone();
    let backend = if url.starts_with("sqlite:") {
        Backend::Sqlite
    } else {
        Backend::Postgres
    };
    if backend == Backend::Sqlite {
        if let Some(path) = sqlite_path(&url)
            && !path.exists()
        {
            r.fail(
                "db.reachable",
                WHAT,
                format!(
                    "the SQLite file {} does not exist: run `gleh migrate`",
                    path.display()
                ),
            );
            return;
        }
        // Never create the file: doctor only looks.
        if !url.contains("mode=") {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str("mode=rw");
        }
    }
    // One plain connection first: a pool retries a refused connection until its timeout and
    // then reports only the timeout, while this gives the server's (or the OS's) reason.
    sqlx::any::install_default_drivers();
    match tokio::time::timeout(DB_TIMEOUT, sqlx::AnyConnection::connect(&url)).await {
        Err(_) => {
            r.fail(
                "db.reachable",
                WHAT,
                format!("{shown} did not answer within {} s", DB_TIMEOUT.as_secs()),
            );
            return;
        }
        Ok(Err(e)) => {
            r.fail(
                "db.reachable",
                WHAT,
                format!("cannot connect to {shown}: {e}"),
            );
            return;
        }
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
        }
    }
    let db = match tokio::time::timeout(DB_TIMEOUT, Db::connect(&url)).await {
        Err(_) => {
            r.fail(
                "db.reachable",
                WHAT,
                format!("{shown} did not answer within {} s", DB_TIMEOUT.as_secs()),
            );
            return;
        }
        Ok(Err(e)) => {
            r.fail("db.reachable", WHAT, format!("{e:#}"));
            return;
        }
        Ok(Ok(db)) => db,
    };
    r.pass("db.reachable", WHAT, format!("connected to {shown}"));
    const MIGRATED: &str = "database migrations";
    match tokio::time::timeout(DB_TIMEOUT, db.pending()).await {
        Err(_) => r.fail(
            "db.migrated",
            MIGRATED,
            format!(
                "the migration table did not answer within {} s",
                DB_TIMEOUT.as_secs()
            ),
        ),
        Ok(Err(e)) => r.fail(
            "db.migrated",
            MIGRATED,
            format!("cannot read the migration table: {e:#}"),
        ),
        Ok(Ok(pending)) if pending.is_empty() => {
            r.pass("db.migrated", MIGRATED, "every migration is applied")
        }
        Ok(Ok(pending)) => r.fail(
            "db.migrated",
            MIGRATED,
            format!(
                "{} pending: {} — run `gleh migrate`",
                pending.len(),
                short_list(&pending, 10)
            ),
        ),
    }
    db.pool.close().await;
}

// ---------------------------------------------------------------------------------------------
// TLS

/// The certificate file, parsed.
struct Loaded {
    cert_path: String,
    key_path: String,
    ders: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

fn check_tls(r: &mut Report) {
    const FILES: &str = "TLS certificate and key";
    let (cert_path, key_path) = match (env_var("TLS_CERT"), env_var("TLS_KEY")) {
        (None, None) => {
            r.warn(
                "tls.files",
                FILES,
                "TLS_CERT and TLS_KEY are not set: no direct TLS — make sure a TLS proxy sits in front",
            );
            return;
        }
        (Some(_), None) => {
            r.fail("tls.files", FILES, "TLS_CERT is set but TLS_KEY is not");
            return;
        }
        (None, Some(_)) => {
            r.fail("tls.files", FILES, "TLS_KEY is set but TLS_CERT is not");
            return;
        }
        (Some(c), Some(k)) => (c, k),
    };
    let loaded = match load_tls(&cert_path, &key_path) {
        Ok(l) => l,
        Err(e) => {
            r.fail("tls.files", FILES, e);
            return;
        }
    };
    let mut parsed = Vec::new();
    for (i, der) in loaded.ders.iter().enumerate() {
        match X509Certificate::from_der(der) {
            Ok((_, c)) => parsed.push(c),
            Err(e) => {
                r.fail(
                    "tls.files",
                    FILES,
                    format!(
                        "certificate {} in {} does not parse: {e}",
                        i + 1,
                        loaded.cert_path
                    ),
                );
                return;
            }
        }
    }
    let signing_key = match any_supported_type(&loaded.key) {
        Ok(k) => k,
        Err(e) => {
            r.fail(
                "tls.files",
                FILES,
                format!("the key in {} cannot be used: {e}", loaded.key_path),
            );
            return;
        }
    };
    r.pass(
        "tls.files",
        FILES,
        format!(
            "{} certificate(s) in {}, the {:?} private key in {}",
            parsed.len(),
            loaded.cert_path,
            signing_key.algorithm(),
            loaded.key_path
        ),
    );

    const MATCH: &str = "key matches certificate";
    match CertifiedKey::new(loaded.ders.clone(), signing_key).keys_match() {
        Ok(()) => r.pass(
            "tls.key-match",
            MATCH,
            "the key's public key is the leaf certificate's",
        ),
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => r.fail(
            "tls.key-match",
            MATCH,
            format!(
                "the key in {} does not belong to the first certificate in {}",
                loaded.key_path, loaded.cert_path
            ),
        ),
        Err(e) => r.warn("tls.key-match", MATCH, format!("cannot be compared: {e}")),
    }

    check_key_file(&loaded.key_path, r);
    check_expiry(&parsed, r);
    check_chain(&loaded.ders, &parsed, r);
    check_names(&parsed[0], r);
}

fn load_tls(cert_path: &str, key_path: &str) -> Result<Loaded, String> {
    for (var, path) in [("TLS_CERT", cert_path), ("TLS_KEY", key_path)] {
        match fs::metadata(path) {
            Ok(m) if m.is_file() => {}
            Ok(_) => return Err(format!("{var} {path} is not a file")),
            Err(e) => return Err(format!("{var} {path} cannot be read: {e}")),
        }
    }
    let ders = CertificateDer::pem_file_iter(cert_path)
        .map_err(|e| format!("TLS_CERT {cert_path}: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("TLS_CERT {cert_path} is not valid PEM: {e}"))?;
    if ders.is_empty() {
        return Err(format!(
            "TLS_CERT {cert_path} holds no PEM CERTIFICATE block"
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => {
            format!("TLS_KEY {key_path} holds no PEM private key")
        }
        e => format!("TLS_KEY {key_path} is not a valid PEM private key: {e}"),
    })?;
    Ok(Loaded {
        cert_path: cert_path.to_string(),
        key_path: key_path.to_string(),
        ders,
        key,
    })
}

/// The effective uid of this process.
fn running_uid() -> Option<u32> {
    if let Ok(status) = fs::read_to_string("/proc/self/status") {
        for line in status.lines() {
            if let Some(rest) = line.strip_prefix("Uid:") {
                // real, effective, saved, filesystem
                if let Some(uid) = rest.split_whitespace().nth(1).and_then(|u| u.parse().ok()) {
                    return Some(uid);
                }
            }
        }
    }
    // Elsewhere: a file we create is owned by us.
    let probe = std::env::temp_dir().join(format!("gleh-doctor-uid-{}", std::process::id()));
    let uid = fs::File::create(&probe)
        .and_then(|f| f.metadata())
        .map(|m| m.uid())
        .ok();
    let _ = fs::remove_file(&probe);
    uid
}

fn check_key_file(key_path: &str, r: &mut Report) {
    let Ok(meta) = fs::metadata(key_path) else {
        return;
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        r.pass(
            "tls.key-perms",
            "key file permissions",
            format!("mode {mode:04o}"),
        );
    } else {
        r.fail(
            "tls.key-perms",
            "key file permissions",
            format!(
                "{key_path} has mode {mode:04o}: group or others have access — chmod 400 {key_path}"
            ),
        );
    }
    const OWNER: &str = "key file owner";
    match running_uid() {
        None => r.warn(
            "tls.key-owner",
            OWNER,
            "cannot tell which user runs doctor",
        ),
        Some(uid) if uid == meta.uid() => {
            r.pass("tls.key-owner", OWNER, format!("owned by uid {uid}, the running user"))
        }
        Some(uid) => r.fail(
            "tls.key-owner",
            OWNER,
            format!(
                "{key_path} is owned by uid {}, not by the running user (uid {uid}): run doctor as the service's user, and make that user own the key",
                meta.uid()
            ),
        ),
    }
}

fn subject_of(c: &X509Certificate<'_>) -> String {
    let s = c.subject().to_string();
    if s.is_empty() {
        "(empty subject)".to_string()
    } else {
        s
    }
}

fn check_expiry(parsed: &[X509Certificate<'_>], r: &mut Report) {
    const WHAT: &str = "certificate validity";
    let now = now_unix();
    for (i, c) in parsed.iter().enumerate() {
        let from = c.validity().not_before.timestamp();
        if from > now {
            r.fail(
                "tls.expiry",
                WHAT,
                format!(
                    "certificate {} ({}) is not valid before {}",
                    i + 1,
                    subject_of(c),
                    iso_date(from)
                ),
            );
            return;
        }
    }
    let Some((i, soonest)) = parsed
        .iter()
        .enumerate()
        .min_by_key(|(_, c)| c.validity().not_after.timestamp())
    else {
        return;
    };
    let until = soonest.validity().not_after.timestamp();
    let days = (until - now).div_euclid(86_400);
    let which = if i == 0 {
        "the certificate".to_string()
    } else {
        format!("certificate {} ({})", i + 1, subject_of(soonest))
    };
    if until <= now {
        r.fail(
            "tls.expiry",
            WHAT,
            format!("{which} expired on {}", iso_date(until)),
        );
    } else if days < CERT_MIN_DAYS {
        r.fail(
            "tls.expiry",
            WHAT,
            format!(
                "{which} expires on {} ({days} days left; renew when fewer than {CERT_MIN_DAYS} remain)",
                iso_date(until)
            ),
        );
    } else {
        r.pass(
            "tls.expiry",
            WHAT,
            format!("valid until {} ({days} days left)", iso_date(until)),
        );
    }
}

/// One DER TLV, and what follows it.
#[derive(Debug, PartialEq)]
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    /// Tag, length and content.
    whole: &'a [u8],
    rest: &'a [u8],
}

/// Reads one DER TLV (low tag numbers, definite lengths).
fn tlv(input: &[u8]) -> Option<Tlv<'_>> {
    let tag = *input.first()?;
    let first = *input.get(1)? as usize;
    let (len, header) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for b in input.get(2..2 + n)? {
            len = (len << 8) | *b as usize;
        }
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    let whole = input.get(..end)?;
    Some(Tlv {
        tag,
        content: &whole[header..],
        whole,
        rest: &input[end..],
    })
}

/// The parts of a signed certificate: (to-be-signed TLV, signature AlgorithmIdentifier content,
/// signature bytes).
fn signed_parts(der: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let tbs = tlv(tlv(der)?.content)?;
    let alg = tlv(tbs.rest)?;
    let sig = tlv(alg.rest)?;
    if sig.tag != 0x03 || sig.content.first() != Some(&0) {
        return None;
    }
    Some((tbs.whole, alg.content, &sig.content[1..]))
}

/// Does `signer_spki` (a SubjectPublicKeyInfo's content, without its SEQUENCE header) verify
/// the signature on `der`? `None` when the key's or the signature's algorithm is not supported.
fn signature_ok(der: &[u8], signer_spki: &[u8]) -> Option<bool> {
    let Some((tbs, sig_alg, sig)) = signed_parts(der) else {
        return Some(false);
    };
    let alg = tlv(signer_spki)?;
    let key_alg = alg.content;
    let bits = tlv(alg.rest)?;
    if bits.tag != 0x03 || bits.content.first() != Some(&0) {
        return Some(false);
    }
    let public_key = &bits.content[1..];
    let provider = rustls::crypto::ring::default_provider();
    let (mut key_known, mut sig_known) = (false, false);
    for alg in provider.signature_verification_algorithms.all {
        let key_match = alg.public_key_alg_id().as_ref() == key_alg;
        let sig_match = alg.signature_alg_id().as_ref() == sig_alg;
        key_known |= key_match;
        sig_known |= sig_match;
        if key_match && sig_match && alg.verify_signature(public_key, tbs, sig).is_ok() {
            return Some(true);
        }
    }
    // Both known but not verified (a wrong key, or a key of another type): a mismatch.
    if key_known && sig_known {
        Some(false)
    } else {
        None
    }
}

/// The content of a DER SEQUENCE (a Name or SubjectPublicKeyInfo without its header), the form
/// webpki-roots stores.
fn inner(der: &[u8]) -> &[u8] {
    tlv(der).map(|t| t.content).unwrap_or(der)
}

fn check_chain(ders: &[CertificateDer<'_>], parsed: &[X509Certificate<'_>], r: &mut Report) {
    const WHAT: &str = "certificate chain";
    let n = parsed.len();
    let mut unverified = Vec::new();
    for i in 0..n.saturating_sub(1) {
        let (cert, next) = (&parsed[i], &parsed[i + 1]);
        if cert.issuer().as_raw() != next.subject().as_raw() {
            r.fail(
                "tls.chain",
                WHAT,
                format!(
                    "certificate {} ({}) is issued by {}, but the next certificate in the file is {}: put the leaf first, then each intermediate in order",
                    i + 1,
                    subject_of(cert),
                    cert.issuer(),
                    subject_of(next)
                ),
            );
            return;
        }
        if !next.is_ca() {
            r.fail(
                "tls.chain",
                WHAT,
                format!(
                    "certificate {} ({}) is not a CA certificate, yet it issued certificate {}",
                    i + 2,
                    subject_of(next),
                    i + 1
                ),
            );
            return;
        }
        match signature_ok(&ders[i], inner(next.public_key().raw)) {
            Some(true) => {}
            Some(false) => {
                r.fail(
                    "tls.chain",
                    WHAT,
                    format!(
                        "certificate {} ({}) names {} as its issuer, but its signature does not verify with that certificate's key (a different certificate of the same name?)",
                        i + 1,
                        subject_of(cert),
                        subject_of(next)
                    ),
                );
                return;
            }
            None => unverified.push(i + 1),
        }
    }
    let last = &parsed[n - 1];
    let last_der = &ders[n - 1];
    let issuer = inner(last.issuer().as_raw());
    let note = if unverified.is_empty() {
        String::new()
    } else {
        format!(
            " (signature algorithm not supported, signature not checked: certificate {:?})",
            unverified
        )
    };
    if last.issuer().as_raw() == last.subject().as_raw() {
        // Self-signed: a root (or a self-signed leaf).
        if signature_ok(last_der, inner(last.public_key().raw)) == Some(false) {
            r.fail(
                "tls.chain",
                WHAT,
                format!(
                    "certificate {n} ({}) looks self-signed but its signature does not verify",
                    subject_of(last)
                ),
            );
            return;
        }
        let spki = inner(last.public_key().raw);
        let public = webpki_roots::TLS_SERVER_ROOTS
            .iter()
            .any(|ta| ta.subject.as_ref() == issuer && ta.subject_public_key_info.as_ref() == spki);
        if public {
            r.pass(
                "tls.chain",
                WHAT,
                format!(
                    "complete: {n} certificate(s) up to the publicly trusted root {} (sending the root itself is unnecessary){note}",
                    subject_of(last)
                ),
            );
        } else if n == 1 {
            r.warn(
                "tls.chain",
                WHAT,
                format!(
                    "a self-signed certificate ({}): complete, but not publicly trusted — browsers will refuse it unless it is installed",
                    subject_of(last)
                ),
            );
        } else {
            r.warn(
                "tls.chain",
                WHAT,
                format!(
                    "complete: {n} certificates up to {}, a private CA — not publicly trusted: clients need that CA installed{note}",
                    subject_of(last)
                ),
            );
        }
        return;
    }
    let roots: Vec<_> = webpki_roots::TLS_SERVER_ROOTS
        .iter()
        .filter(|ta| ta.subject.as_ref() == issuer)
        .collect();
    if roots.is_empty() {
        r.fail(
            "tls.chain",
            WHAT,
            format!(
                "chain incomplete: intermediate missing — certificate {n} ({}) is issued by {}, which is neither in {} nor a known root: append the intermediate certificate(s) after the leaf",
                subject_of(last),
                last.issuer(),
                env_var("TLS_CERT").unwrap_or_default()
            ),
        );
        return;
    }
    let verdicts: Vec<_> = roots
        .iter()
        .map(|ta| signature_ok(last_der, ta.subject_public_key_info.as_ref()))
        .collect();
    if verdicts.iter().all(|v| *v == Some(false)) {
        r.fail(
            "tls.chain",
            WHAT,
            format!(
                "certificate {n} ({}) names the root {} as its issuer, but its signature does not verify with that root's key",
                subject_of(last),
                last.issuer()
            ),
        );
    } else {
        r.pass(
            "tls.chain",
            WHAT,
            format!(
                "complete: {n} certificate(s) up to the publicly trusted root {}{note}",
                last.issuer()
            ),
        );
    }
}

/// The host of an http(s) URL, lower-case, without port, brackets or trailing dot.
fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let hostport = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    let host = if let Some(v6) = hostport.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        hostport.split(':').next().unwrap_or("")
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

/// RFC 6125 matching: exact (case-insensitive), or a wildcard standing for exactly the
/// left-most label (`*.example.com` covers `a.example.com`, not `example.com` or `a.b.example.com`).
fn dns_name_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    if pattern == host {
        return true;
    }
    if let Some(suffix) = pattern.strip_prefix("*.") {
        if host.parse::<IpAddr>().is_ok() || !suffix.contains('.') {
            return false;
        }
        if let Some((first, rest)) = host.split_once('.') {
            return !first.is_empty() && rest == suffix;
        }
    }
    false
}

enum Name {
    Dns(String),
    Ip(IpAddr),
}

/// The names a certificate is valid for: its SAN entries, or its CN when it has no SAN.
fn cert_names(c: &X509Certificate<'_>) -> Vec<Name> {
    if let Ok(Some(san)) = c.subject_alternative_name() {
        return san
            .value
            .general_names
            .iter()
            .filter_map(|g| match g {
                GeneralName::DNSName(d) => Some(Name::Dns(d.to_string())),
                GeneralName::IPAddress(b) => match b.len() {
                    4 => <[u8; 4]>::try_from(*b)
                        .ok()
                        .map(|a| Name::Ip(IpAddr::from(a))),
                    16 => <[u8; 16]>::try_from(*b)
                        .ok()
                        .map(|a| Name::Ip(IpAddr::from(a))),
                    _ => None,
                },
                _ => None,
            })
            .collect();
    }
    c.subject()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok())
        .map(|cn| Name::Dns(cn.to_string()))
        .collect()
}

fn check_names(leaf: &X509Certificate<'_>, r: &mut Report) {
    const WHAT: &str = "certificate names";
    let names = cert_names(leaf);
    let shown: Vec<String> = names
        .iter()
        .map(|n| match n {
            Name::Dns(d) => d.clone(),
            Name::Ip(ip) => ip.to_string(),
        })
        .collect();
    let listed = if shown.is_empty() {
        "no names".to_string()
    } else {
        short_list(&shown, 6)
    };
    let Some(public_url) = env_var("PUBLIC_URL") else {
        r.warn(
            "tls.names",
            WHAT,
            format!(
                "PUBLIC_URL is not set, so the certificate's names ({listed}) cannot be checked"
            ),
        );
        return;
    };
    let Some(host) = url_host(&public_url) else {
        r.fail(
            "tls.names",
            WHAT,
            format!("PUBLIC_URL {public_url} has no host"),
        );
        return;
    };
    let ip = host.parse::<IpAddr>().ok();
    let covered = names.iter().any(|n| match (n, ip) {
        (Name::Ip(a), Some(b)) => *a == b,
        (Name::Dns(d), None) => dns_name_matches(d, &host),
        _ => false,
    });
    if covered {
        r.pass(
            "tls.names",
            WHAT,
            format!("{host} (from PUBLIC_URL) is covered by {listed}"),
        );
    } else {
        r.fail(
            "tls.names",
            WHAT,
            format!("{host} (from PUBLIC_URL) is not covered: the certificate is for {listed}"),
        );
    }
}

fn check_public_url(r: &mut Report) {
    const WHAT: &str = "PUBLIC_URL";
    match env_var("PUBLIC_URL") {
        None => r.warn(
            "url.https",
            WHAT,
            "not set: set it to the public https:// origin (origin checks, redirects)",
        ),
        Some(u) if u.trim().to_ascii_lowercase().starts_with("https://") => {
            r.pass("url.https", WHAT, u.trim())
        }
        Some(u) => r.fail(
            "url.https",
            WHAT,
            format!(
                "{} is not https: the checklist requires HTTPS for every page (Secure cookies, HSTS)",
                u.trim()
            ),
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Logs

/// Free bytes on the file system holding `dir`, from `df -Pk` (POSIX output).
fn free_bytes(dir: &Path) -> Option<u64> {
    let out = Command::new("df")
        .arg("-Pk")
        .arg(dir)
        .env("LC_ALL", "C")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    parse_df(&String::from_utf8_lossy(&out.stdout))
}

/// The "Available" column (1 KiB blocks) of `df -Pk`'s second line, in bytes. The file
/// system's name may contain spaces, so the numbers are found as the run
/// `total used available capacity%`.
fn parse_df(text: &str) -> Option<u64> {
    let line = text.lines().nth(1)?;
    let t: Vec<&str> = line.split_whitespace().collect();
    (1..t.len().saturating_sub(3)).find_map(|i| {
        let nums = t[i..i + 3]
            .iter()
            .all(|s| s.bytes().all(|b| b.is_ascii_digit()));
        if nums && t[i + 3].ends_with('%') {
            t[i + 2].parse::<u64>().ok().map(|kb| kb * 1024)
        } else {
            None
        }
    })
}

/// Creates and deletes a probe file in `dir`.
fn probe_dir(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".gleh-doctor-probe-{}", std::process::id()));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)?;
    let written = file.write_all(b"probe\n");
    drop(file);
    let removed = fs::remove_file(&probe);
    written.and(removed)
}

fn check_logs(config: &Config, r: &mut Report) {
    const WHAT: &str = "LOG_DIR writable";
    let Some(dir) = &config.log_dir else {
        r.warn(
            "logs.writable",
            WHAT,
            "LOG_DIR is not set: logs go to stderr only (fine under systemd's journal; the checklist expects app.log and access.log)",
        );
        return;
    };
    // The directory whose file system holds the logs (LOG_DIR, or where it will be made).
    let mut space_dir = dir.clone();
    match fs::metadata(dir) {
        Ok(m) if m.is_dir() => {
            if let Err(e) = probe_dir(dir) {
                r.fail(
                    "logs.writable",
                    WHAT,
                    format!("cannot create a file in {}: {e}", dir.display()),
                );
                return;
            }
            for name in ["app.log", "access.log"] {
                let path = dir.join(name);
                if path.exists()
                    && let Err(e) = fs::OpenOptions::new().append(true).open(&path)
                {
                    r.fail(
                        "logs.writable",
                        WHAT,
                        format!("{} exists but cannot be appended to: {e}", path.display()),
                    );
                    return;
                }
            }
            r.pass(
                "logs.writable",
                WHAT,
                format!("{} accepts new files", dir.display()),
            );
        }
        Ok(_) => {
            r.fail(
                "logs.writable",
                WHAT,
                format!("{} is not a directory", dir.display()),
            );
            return;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // `gleh serve` creates LOG_DIR (as systemd's LogsDirectory= does); doctor does not.
            let Some(parent) = dir
                .ancestors()
                .skip(1)
                .find(|a| !a.as_os_str().is_empty() && fs::metadata(a).is_ok())
                .map(Path::to_path_buf)
            else {
                r.fail(
                    "logs.writable",
                    WHAT,
                    format!("{} cannot be created: no parent exists", dir.display()),
                );
                return;
            };
            if !parent.is_dir() {
                r.fail(
                    "logs.writable",
                    WHAT,
                    format!(
                        "{} cannot be created: {} is not a directory",
                        dir.display(),
                        parent.display()
                    ),
                );
                return;
            }
            match probe_dir(&parent) {
                Ok(()) => r.pass(
                    "logs.writable",
                    WHAT,
                    format!(
                        "{} does not exist yet; gleh creates it at start ({} is writable)",
                        dir.display(),
                        parent.display()
                    ),
                ),
                Err(_) => r.warn(
                    "logs.writable",
                    WHAT,
                    format!(
                        "{} does not exist and this user cannot create it in {}: create it, owned by the service's user (systemd's LogsDirectory= does)",
                        dir.display(),
                        parent.display()
                    ),
                ),
            }
            space_dir = parent;
        }
        Err(e) => {
            r.fail(
                "logs.writable",
                WHAT,
                format!(
                    "{} cannot be used ({e}): create it, owned by the service's user",
                    dir.display()
                ),
            );
            return;
        }
    }
    let dir = &space_dir;

    const SPACE: &str = "LOG_DIR free space";
    let gb = |b: u64| b as f64 / 1e9;
    match free_bytes(dir) {
        None => r.warn(
            "logs.space",
            SPACE,
            format!(
                "cannot read the free space of {} (df failed)",
                dir.display()
            ),
        ),
        Some(b) if b >= LOG_MIN_FREE_BYTES => {
            r.pass("logs.space", SPACE, format!("{:.1} GB free", gb(b)))
        }
        Some(b) => r.warn(
            "logs.space",
            SPACE,
            format!(
                "{:.1} GB free on the file system of {}; the checklist asks for at least {:.0} GB",
                gb(b),
                dir.display(),
                gb(LOG_MIN_FREE_BYTES)
            ),
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Sessions, passwords, proxies

fn check_session(config: &Config, r: &mut Report) {
    const WHAT: &str = "session settings";
    let py = |b: bool| if b { "True" } else { "False" };
    let idle = config.idle_lifetime.as_secs();
    let seen = format!(
        "SESSION_COOKIE_SECURE={}, SESSION_COOKIE_HTTPONLY={}, SESSION_COOKIE_SAMESITE={}, PERMANENT_SESSION_LIFETIME={idle}",
        py(config.cookie_secure),
        py(config.cookie_httponly),
        config.cookie_samesite.as_str()
    );
    let mut bad = Vec::new();
    if !config.cookie_secure {
        bad.push("SESSION_COOKIE_SECURE must be True".to_string());
    }
    if !config.cookie_httponly {
        bad.push("SESSION_COOKIE_HTTPONLY must be True".to_string());
    }
    // SameSite is Lax or Strict by construction (Config refuses None).
    if idle > MAX_IDLE_SECS {
        bad.push(format!(
            "PERMANENT_SESSION_LIFETIME must be at most {MAX_IDLE_SECS}"
        ));
    }
    if bad.is_empty() {
        r.pass(
            "session.settings",
            WHAT,
            format!("{seen} (the checklist's §7 values or stricter)"),
        );
    } else {
        r.fail(
            "session.settings",
            WHAT,
            format!("{}; seen: {seen}", bad.join("; ")),
        );
    }

    const ABS: &str = "absolute session lifetime";
    let absolute = config.absolute_lifetime.as_secs();
    if absolute <= MAX_ABSOLUTE_SECS {
        r.pass(
            "session.absolute",
            ABS,
            format!("SESSION_ABSOLUTE_LIFETIME={absolute}"),
        );
    } else {
        r.warn(
            "session.absolute",
            ABS,
            format!(
                "SESSION_ABSOLUTE_LIFETIME={absolute}: sessions outlive a working day; {MAX_ABSOLUTE_SECS} (12 h) or less is advised"
            ),
        );
    }

    const NAME: &str = "session cookie name";
    if !config.cookie_secure {
        // Without Secure the __Host- prefix is impossible; session.settings already fails.
    } else if config.cookie_name.starts_with("__Host-") {
        r.pass("session.cookie-name", NAME, config.cookie_name.clone());
    } else {
        r.warn(
            "session.cookie-name",
            NAME,
            format!(
                "{}: a __Host- name binds the cookie to this host, path / and Secure (leave SESSION_COOKIE_NAME unset)",
                config.cookie_name
            ),
        );
    }
}

fn check_passwords(config: &Config, r: &mut Report) {
    const LEN: &str = "minimum password length";
    let min = config.min_password_length;
    if min >= ADVISED_MIN_PASSWORD {
        r.pass(
            "password.min-length",
            LEN,
            format!("MIN_PASSWORD_LENGTH={min}"),
        );
    } else {
        r.warn(
            "password.min-length",
            LEN,
            format!(
                "MIN_PASSWORD_LENGTH={min}: NIST SP 800-63B and ASVS 6.2.1 recommend {ADVISED_MIN_PASSWORD} for accounts with a password only"
            ),
        );
    }
    const RATE: &str = "login rate limit";
    let rate = config.auth_rate_limit;
    if rate <= MAX_AUTH_RATE {
        r.pass(
            "auth.rate-limit",
            RATE,
            format!("AUTH_RATE_LIMIT={rate} attempts per minute per client"),
        );
    } else {
        r.warn(
            "auth.rate-limit",
            RATE,
            format!(
                "AUTH_RATE_LIMIT={rate} attempts per minute per client: above {MAX_AUTH_RATE} it barely slows password guessing"
            ),
        );
    }
}

fn check_proxies(config: &Config, r: &mut Report) {
    const WHAT: &str = "trusted proxies";
    let all: Vec<String> = config
        .trusted_proxies
        .iter()
        .filter(|n| n.prefix_len() == 0)
        .map(|n| n.to_string())
        .collect();
    let listed: Vec<String> = config
        .trusted_proxies
        .iter()
        .map(|n| n.to_string())
        .collect();
    if !all.is_empty() {
        r.fail(
            "proxy.trusted",
            WHAT,
            format!(
                "TRUSTED_PROXIES contains {}: every client could forge X-Forwarded-For (dodging the login limits, faking log addresses) and X-Forwarded-Proto — list only your proxies' addresses",
                all.join(", ")
            ),
        );
    } else if listed.is_empty() {
        r.pass("proxy.trusted", WHAT, "none: forwarded headers are ignored");
    } else {
        r.pass(
            "proxy.trusted",
            WHAT,
            format!("forwarded headers believed only from {}", listed.join(", ")),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_exactly_one_label() {
        assert!(dns_name_matches("platform.test", "platform.test"));
        assert!(dns_name_matches("Platform.TEST.", "platform.test"));
        assert!(dns_name_matches("*.example.com", "a.example.com"));
        assert!(!dns_name_matches("*.example.com", "example.com"));
        assert!(!dns_name_matches("*.example.com", "a.b.example.com"));
        assert!(!dns_name_matches("*.com", "example.com"));
        assert!(!dns_name_matches("*.example.com", "aexample.com"));
        assert!(!dns_name_matches("other.test", "platform.test"));
    }

    #[test]
    fn hosts_come_out_of_urls() {
        assert_eq!(
            url_host("https://Platform.Test:8443/x?y").as_deref(),
            Some("platform.test")
        );
        assert_eq!(url_host("https://u:p@h.test/").as_deref(), Some("h.test"));
        assert_eq!(url_host("https://[::1]:8443").as_deref(), Some("::1"));
        assert_eq!(
            url_host("https://platform.edu.").as_deref(),
            Some("platform.edu")
        );
        assert_eq!(url_host("https://"), None);
    }

    #[test]
    fn df_output_is_parsed() {
        let out = "Filesystem     1024-blocks      Used Available Capacity Mounted on\n\
                   /dev/sda1        102400000  50000000  52400000      49% /\n";
        assert_eq!(parse_df(out), Some(52_400_000 * 1024));
        let spaced = "Filesystem 1024-blocks Used Available Capacity Mounted on\n\
                      my disk 100 40 60 40% /mnt/my disk\n";
        assert_eq!(parse_df(spaced), Some(60 * 1024));
        assert_eq!(parse_df("garbage"), None);
    }

    #[test]
    fn der_tlv_reads_short_and_long_lengths() {
        let short = [0x30, 0x02, 0x05, 0x00, 0xff];
        assert_eq!(
            tlv(&short),
            Some(Tlv {
                tag: 0x30,
                content: &[5, 0],
                whole: &short[..4],
                rest: &[0xff],
            })
        );
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([7u8; 0x80]);
        let t = tlv(&long).expect("tlv");
        assert_eq!(t.content.len(), 0x80);
        assert!(t.rest.is_empty());
        assert!(tlv(&[0x04, 0x05, 1]).is_none());
    }

    /// Amazon Root CA 1, one of the Mozilla roots in webpki-roots (RSA, sha256WithRSAEncryption).
    const AMAZON_ROOT_CA_1: &str = "-----BEGIN CERTIFICATE-----
MIIDQTCCAimgAwIBAgITBmyfz5m/jAo54vB4ikPmljZbyjANBgkqhkiG9w0BAQsF
ADA5MQswCQYDVQQGEwJVUzEPMA0GA1UEChMGQW1hem9uMRkwFwYDVQQDExBBbWF6
b24gUm9vdCBDQSAxMB4XDTE1MDUyNjAwMDAwMFoXDTM4MDExNzAwMDAwMFowOTEL
MAkGA1UEBhMCVVMxDzANBgNVBAoTBkFtYXpvbjEZMBcGA1UEAxMQQW1hem9uIFJv
b3QgQ0EgMTCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBALJ4gHHKeNXj
ca9HgFB0fW7Y14h29Jlo91ghYPl0hAEvrAIthtOgQ3pOsqTQNroBvo3bSMgHFzZM
9O6II8c+6zf1tRn4SWiw3te5djgdYZ6k/oI2peVKVuRF4fn9tBb6dNqcmzU5L/qw
IFAGbHrQgLKm+a/sRxmPUDgH3KKHOVj4utWp+UhnMJbulHheb4mjUcAwhmahRWa6
VOujw5H5SNz/0egwLX0tdHA114gk957EWW67c4cX8jJGKLhD+rcdqsq08p8kDi1L
93FcXmn/6pUCyziKrlA4b9v7LWIbxcceVOF34GfID5yHI9Y/QCB/IIDEgEw+OyQm
jgSubJrIqg0CAwEAAaNCMEAwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMC
AYYwHQYDVR0OBBYEFIQYzIU07LwMlJQuCFmcx7IQTgoIMA0GCSqGSIb3DQEBCwUA
A4IBAQCY8jdaQZChGsV2USggNiMOruYou6r4lK5IpDB/G/wkjUu0yKGX9rbxenDI
U5PMCCjjmCXPI6T53iHTfIUJrU6adTrCC2qJeHZERxhlbI1Bjjt/msv0tadQ1wUs
N+gDS63pYaACbvXy8MWy7Vu33PqUXHeeE6V/Uq2V8viTO96LXFvKWlJbYK8U90vv
o/ufQJVtMVT8QtPHRh8jrdkPSHCa2XV4cdFyQzR1bldZwgJcJmApzyMZFo6IQ6XU
5MsI+yMRQ+hDKXJioaldXgjUkK642M4UwtBV8ob2xJNDd2ZhwLnoQdeXeGADbkpy
rqXRfboQnoZsG4q5WTP468SQvvG5
-----END CERTIFICATE-----
";

    fn chain_verdict(ders: &[CertificateDer<'static>]) -> Check {
        let parsed: Vec<_> = ders
            .iter()
            .map(|d| X509Certificate::from_der(d).expect("parse").1)
            .collect();
        let mut r = Report::default();
        check_chain(ders, &parsed, &mut r);
        r.checks.pop().expect("one verdict")
    }

    #[test]
    fn a_mozilla_root_is_recognised_and_its_rsa_signature_verifies() {
        let der = CertificateDer::from_pem_slice(AMAZON_ROOT_CA_1.as_bytes()).expect("pem");
        let (_, root) = X509Certificate::from_der(&der).expect("parse");
        assert_eq!(signature_ok(&der, inner(root.public_key().raw)), Some(true));
        // A tampered signature does not verify.
        let mut bad = der.to_vec();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(
            signature_ok(&bad, inner(root.public_key().raw)),
            Some(false)
        );

        let c = chain_verdict(&[der]);
        assert_eq!(c.status, Status::Pass, "{}", c.message);
        assert!(c.message.contains("publicly trusted root"), "{}", c.message);
    }

    #[test]
    fn a_certificate_naming_a_mozilla_root_must_be_signed_by_it() {
        use rcgen::{CertificateParams, DistinguishedName, DnType, DnValue, Issuer, KeyPair};
        let printable = |s: &str| DnValue::PrintableString(s.try_into().expect("printable"));
        // An impostor CA with exactly the Amazon root's name, and a leaf it signs.
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, printable("US"));
        dn.push(DnType::OrganizationName, printable("Amazon"));
        dn.push(DnType::CommonName, printable("Amazon Root CA 1"));
        ca.distinguished_name = dn;
        let issuer = Issuer::new(ca, KeyPair::generate().expect("key"));
        let leaf = CertificateParams::new(vec!["platform.test".to_string()])
            .expect("params")
            .signed_by(&KeyPair::generate().expect("key"), &issuer)
            .expect("leaf");
        let c = chain_verdict(&[leaf.der().clone()]);
        assert_eq!(c.status, Status::Fail, "{}", c.message);
        assert!(
            c.message.contains("does not verify with that root's key"),
            "{}",
            c.message
        );
    }

    #[test]
    fn finds_needles() {
        assert!(contains(b"SECRET_KEY=abcdef\n", b"abcdef"));
        assert!(!contains(b"abcde", b"abcdef"));
        assert!(!contains(b"anything", b""));
    }
}
