//! `gleh doctor` (issue 3 point 9): the docs/checklist.md §1–§6 checks as PASS / WARN / FAIL
//! lines, exit 1 on any FAIL, and `--json`. A fully good production setup (private CA chain,
//! key chmod 400, migrated database, writable LOG_DIR) exits 0; then every FAIL condition is
//! provoked on its own, in text and in JSON.
//!
//! Certificates are made at run time with rcgen. The database is SQLite in a temp dir, and
//! PostgreSQL as well for the good setup and the pending-migrations case.

use std::{
    os::unix::fs::PermissionsExt as _,
    path::{Path, PathBuf},
    process::{Command, Output},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
};
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{Backend, TestDb};

const HOST: &str = "platform.test";

fn random_secret() -> String {
    let mut key = [0u8; 32];
    rand::fill(&mut key[..]);
    hex::encode(key)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

// ---------------------------------------------------------------------------------------------
// Certificates

fn named(cn: &str, sans: &[&str]) -> CertificateParams {
    let mut p = CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .expect("params");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p
}

fn ca(cn: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut p = named(cn, &[]);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    CertifiedIssuer::self_signed(p, KeyPair::generate().expect("key")).expect("CA")
}

/// A leaf for `sans`, signed by `issuer`, valid from yesterday for `days` and a half; (cert
/// PEM, key PEM).
fn leaf(issuer: &CertifiedIssuer<'static, KeyPair>, sans: &[&str], days: u64) -> (String, String) {
    let key = KeyPair::generate().expect("key");
    let mut p = named(sans[0], sans);
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    p.not_before = epoch + Duration::from_secs(unix_now() - 86_400);
    // Half a day more, so the day count doctor prints cannot change between two runs.
    p.not_after = epoch + Duration::from_secs(unix_now() + days * 86_400 + 43_200);
    let cert = p.signed_by(&key, issuer).expect("leaf");
    (cert.pem(), key.serialize_pem())
}

fn write(path: &Path, content: &str, mode: u32) {
    std::fs::write(path, content).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

// ---------------------------------------------------------------------------------------------
// A production deployment in a temp dir

struct Deployment {
    /// The working directory doctor runs in; also holds the PEM files and the logs.
    work: tempfile::TempDir,
    db: TestDb,
    env: Vec<(String, String)>,
    ca: CertifiedIssuer<'static, KeyPair>,
}

impl Deployment {
    /// Everything the checklist asks for: production, a random key, a migrated database, a
    /// leaf for platform.test plus its (private) CA in TLS_CERT, the key chmod 400, a log dir.
    async fn good(backend: Backend) -> Deployment {
        let work = tempfile::tempdir().expect("tempdir");
        let db = TestDb::new(backend).await;
        let ca = ca("GLEH Test CA");
        let (cert, key) = leaf(&ca, &[HOST], 365);
        let dir = work.path();
        write(
            &dir.join("chain.pem"),
            &format!("{cert}{}", ca.pem()),
            0o644,
        );
        write(&dir.join("key.pem"), &key, 0o400);
        std::fs::create_dir(dir.join("logs")).expect("mkdir logs");
        let env = crate::helpers::env_vec(&[
            ("GLEH_ENV", "production"),
            ("SECRET_KEY", &random_secret()),
            ("DATABASE_URL", &db.url),
            ("TLS_CERT", &dir.join("chain.pem").display().to_string()),
            ("TLS_KEY", &dir.join("key.pem").display().to_string()),
            ("PUBLIC_URL", &format!("https://{HOST}")),
            ("LOG_DIR", &dir.join("logs").display().to_string()),
        ]);
        let d = Deployment { work, db, env, ca };
        let out = d.gleh(&[], &["migrate"]);
        assert!(
            out.status.success(),
            "gleh migrate: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        d
    }

    fn dir(&self) -> PathBuf {
        self.work.path().to_path_buf()
    }

    fn path(&self, name: &str) -> String {
        self.dir().join(name).display().to_string()
    }

    /// Runs `gleh ARGS` in the work dir with this deployment's environment, each `(k, v)` of
    /// `changes` replacing (or, with an empty value, removing) a variable.
    fn gleh(&self, changes: &[(&str, &str)], args: &[&str]) -> Output {
        let mut env: Vec<(String, String)> = self
            .env
            .iter()
            .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
            .cloned()
            .collect();
        env.extend(
            changes
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        crate::helpers::run(&self.dir(), &env, args, None)
    }

    fn doctor(&self, changes: &[(&str, &str)]) -> Report {
        let out = self.gleh(changes, &["doctor"]);
        let json = self.gleh(changes, &["doctor", "--json"]);
        Report::new(out, json)
    }
}

/// Both outputs of one configuration.
struct Report {
    text: String,
    code: Option<i32>,
    json: Value,
    json_code: Option<i32>,
}

impl Report {
    fn new(text: Output, json: Output) -> Report {
        let stdout = String::from_utf8_lossy(&json.stdout).into_owned();
        let parsed: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "doctor --json printed no JSON ({e}):\n{stdout}\nstderr: {}",
                String::from_utf8_lossy(&json.stderr)
            )
        });
        let r = Report {
            text: String::from_utf8_lossy(&text.stdout).into_owned(),
            code: text.status.code(),
            json: parsed,
            json_code: json.status.code(),
        };
        r.assert_shapes();
        r
    }

    fn lines(&self) -> Vec<&str> {
        self.text.lines().collect()
    }

    /// Every line is `STATUS id what — reason` except the last, the summary; the JSON has the
    /// same checks in the same order, `{id, status, message}` each, and matching counts.
    fn assert_shapes(&self) {
        let lines = self.lines();
        assert!(lines.len() >= 2, "too little output:\n{}", self.text);
        let (summary, checks) = lines.split_last().expect("lines");
        let json_checks = self.json["checks"].as_array().expect("checks array");
        assert_eq!(checks.len(), json_checks.len(), "text and JSON differ");
        let mut counts = [0u64; 3];
        for (line, c) in checks.iter().zip(json_checks) {
            let obj = c.as_object().expect("check object");
            let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
            keys.sort_unstable();
            assert_eq!(keys, ["id", "message", "status"], "{c}");
            let status = c["status"].as_str().expect("status");
            let id = c["id"].as_str().expect("id");
            let message = c["message"].as_str().expect("message");
            let i = ["pass", "warn", "fail"]
                .iter()
                .position(|s| *s == status)
                .unwrap_or_else(|| panic!("unknown status {status}"));
            counts[i] += 1;
            // The two runs are separate processes: measured numbers (free disk space, days
            // left, milliseconds) may differ between them, in value and in number of digits;
            // everything else must not. Each run of digits becomes one '#'.
            let digitless = |s: &str| {
                let mut out = String::with_capacity(s.len());
                for c in s.chars() {
                    if !c.is_ascii_digit() {
                        out.push(c);
                    } else if !out.ends_with('#') {
                        out.push('#');
                    }
                }
                out
            };
            assert_eq!(
                digitless(line),
                digitless(&format!("{} {id} {message}", status.to_ascii_uppercase())),
                "text line and JSON check differ"
            );
            assert!(message.contains(" — "), "no reason: {line}");
        }
        assert_eq!(
            *summary,
            format!(
                "{} passed, {} warnings, {} failed",
                counts[0], counts[1], counts[2]
            )
        );
        let s = &self.json["summary"];
        assert_eq!(
            [&s["pass"], &s["warn"], &s["fail"]].map(|v| v.as_u64()),
            counts.map(Some),
            "JSON summary"
        );
        assert_eq!(
            s.as_object().map(|o| o.len()),
            Some(3),
            "summary has pass, warn, fail only"
        );
        let expected = if counts[2] > 0 { 1 } else { 0 };
        assert_eq!(self.code, Some(expected), "exit status:\n{}", self.text);
        assert_eq!(self.json_code, Some(expected), "--json exit status");
        assert!(
            !self.text.contains("\x1b["),
            "colours when stdout is not a terminal"
        );
    }

    fn ids(&self, status: &str) -> Vec<String> {
        self.json["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .filter(|c| c["status"] == status)
            .map(|c| c["id"].as_str().expect("id").to_string())
            .collect()
    }

    fn line(&self, id: &str) -> &str {
        self.lines()
            .into_iter()
            .find(|l| l.split(' ').nth(1) == Some(id))
            .unwrap_or_else(|| panic!("no {id} line in:\n{}", self.text))
    }

    /// Exactly the checks `ids` FAIL (exit 1, `FAIL id …` lines, `"status": "fail"`); returns
    /// the first one's line.
    fn fails_exactly(&self, ids: &[&str]) -> &str {
        assert_eq!(self.code, Some(1), "exit status:\n{}", self.text);
        assert_eq!(self.ids("fail"), ids, "failing checks:\n{}", self.text);
        for id in ids {
            assert!(
                self.line(id).starts_with(&format!("FAIL {id} ")),
                "{}",
                self.line(id)
            );
        }
        assert!(self.json["summary"]["fail"].as_u64() >= Some(1));
        self.line(ids[0])
    }

    fn assert_status(&self, id: &str, status: &str) -> &str {
        let line = self.line(id);
        assert!(
            line.starts_with(&format!("{} {id} ", status.to_ascii_uppercase())),
            "{line}"
        );
        line
    }
}

// ---------------------------------------------------------------------------------------------
// The good setup

async fn full_production_setup_passes(backend: Backend) {
    let d = Deployment::good(backend).await;
    let r = d.doctor(&[]);
    assert_eq!(r.code, Some(0), "{}", r.text);
    assert!(r.ids("fail").is_empty(), "{}", r.text);
    for id in [
        "env.production",
        "secret.strength",
        "secret.git",
        "db.reachable",
        "db.migrated",
        "tls.files",
        "tls.key-match",
        "tls.key-perms",
        "tls.key-owner",
        "tls.expiry",
        "tls.names",
        "url.https",
        "logs.writable",
        "session.settings",
        "session.absolute",
        "session.cookie-name",
        "auth.rate-limit",
        "proxy.trusted",
    ] {
        r.assert_status(id, "pass");
    }
    // A chain that ends at a CA included in the file is complete, but that CA is private.
    let chain = r.assert_status("tls.chain", "warn");
    assert!(chain.contains("not publicly trusted"), "{chain}");
    assert!(chain.contains("GLEH Test CA"), "{chain}");
    // The defaults meet the checklist but not NIST's 15 characters.
    r.assert_status("password.min-length", "warn");
    assert!(
        r.line("session.settings").contains(
            "SESSION_COOKIE_SECURE=True, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE=Lax, PERMANENT_SESSION_LIFETIME=3600"
        ),
        "{}",
        r.line("session.settings")
    );
    assert!(r.line("tls.names").contains(HOST));
    // Doctor leaves nothing behind in the log directory (`gleh migrate` made the log files).
    assert_eq!(
        listing(&d.dir().join("logs")),
        ["access.log", "app.log"],
        "doctor left files in LOG_DIR"
    );
    // The secret is never printed.
    let secret = &d
        .env
        .iter()
        .find(|(k, _)| k == "SECRET_KEY")
        .expect("key")
        .1;
    assert!(!r.text.contains(secret.as_str()));
    assert!(!r.json.to_string().contains(secret.as_str()));

    // 15 characters silences the password warning.
    let r = d.doctor(&[("MIN_PASSWORD_LENGTH", "15")]);
    r.assert_status("password.min-length", "pass");
}

async fn pending_migrations_fail(backend: Backend) {
    let d = Deployment::good(backend).await;
    let pool = d.db.pool().await;
    let last: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .expect("last migration");
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = $1")
        .bind(last)
        .execute(&pool)
        .await
        .expect("forget the last migration");
    pool.close().await;
    let r = d.doctor(&[]);
    let line = r.fails_exactly(&["db.migrated"]);
    assert!(line.contains(&last.to_string()), "{line}");
    assert!(line.contains("gleh migrate"), "{line}");
}

// ---------------------------------------------------------------------------------------------
// Environment, secret, database

#[tokio::test]
async fn development_is_only_a_warning() {
    let d = Deployment::good(Backend::Sqlite).await;
    let r = d.doctor(&[
        ("GLEH_ENV", "development"),
        ("SESSION_COOKIE_SECURE", "true"),
        ("PERMANENT_SESSION_LIFETIME", "3600"),
        ("SESSION_ABSOLUTE_LIFETIME", "43200"),
    ]);
    assert_eq!(r.code, Some(0), "{}", r.text);
    assert!(
        r.assert_status("env.production", "warn")
            .contains("development")
    );

    // Without TLS variables: one warning about the proxy, no other TLS line.
    let r = d.doctor(&[("TLS_CERT", ""), ("TLS_KEY", "")]);
    assert_eq!(r.code, Some(0), "{}", r.text);
    let line = r.assert_status("tls.files", "warn");
    assert!(
        line.contains("make sure a TLS proxy sits in front"),
        "{line}"
    );
    assert!(!r.text.contains(" tls.key"), "{}", r.text);
    assert!(!r.text.contains(" tls.chain"), "{}", r.text);

    // PUBLIC_URL unset: warnings, not failures.
    let r = d.doctor(&[("PUBLIC_URL", "")]);
    assert_eq!(r.code, Some(0), "{}", r.text);
    r.assert_status("url.https", "warn");
    r.assert_status("tls.names", "warn");

    // A .env that others may read is a warning (it usually holds SECRET_KEY).
    write(&d.dir().join(".env"), "# deployment settings\n", 0o644);
    let r = d.doctor(&[]);
    assert_eq!(r.code, Some(0), "{}", r.text);
    assert!(
        r.assert_status("secret.env-file", "warn")
            .contains("chmod 600")
    );
    std::fs::set_permissions(d.dir().join(".env"), std::fs::Permissions::from_mode(0o600))
        .expect("chmod");
    d.doctor(&[]).assert_status("secret.env-file", "pass");

    // LOG_DIR unset: logs go to stderr.
    let r = d.doctor(&[("LOG_DIR", "")]);
    assert_eq!(r.code, Some(0), "{}", r.text);
    assert!(r.assert_status("logs.writable", "warn").contains("stderr"));
}

#[tokio::test]
async fn weak_secret_keys_fail() {
    // Production refuses these before doctor runs (Config::from_env), so doctor meets them
    // in development; the session settings are made production-like to isolate the check.
    let d = Deployment::good(Backend::Sqlite).await;
    let dev = [
        ("GLEH_ENV", "development"),
        ("SESSION_COOKIE_SECURE", "true"),
        ("PERMANENT_SESSION_LIFETIME", "3600"),
    ];
    let seed = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1";
    let same = "ab".repeat(20);
    for (key, why) in [
        (seed, "example"),
        ("too-short-key", "13 bytes"),
        (same.as_str(), "distinct"),
        ("", "not set"),
    ] {
        let mut env = dev.to_vec();
        env.push(("SECRET_KEY", key));
        let r = d.doctor(&env);
        let line = r.fails_exactly(&["secret.strength"]);
        assert!(line.contains(why), "{key}: {line}");
        if !key.is_empty() {
            assert!(!r.text.contains(key), "the key was printed");
        }
    }
    // In production the configuration itself refuses the example key: doctor reports the
    // refusal as a failed `config.load` check (exit 1) and never prints the key.
    let out = d.gleh(&[("SECRET_KEY", seed)], &["doctor"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("FAIL config.load") && text.contains("example"),
        "{text}"
    );
    assert!(!text.contains(seed), "the key was printed");
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=Doctor Test",
            "-c",
            "user.email=doctor@platform.test",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn secret_in_git_fails() {
    let d = Deployment::good(Backend::Sqlite).await;
    let dir = d.dir();
    let secret = d
        .env
        .iter()
        .find(|(k, _)| k == "SECRET_KEY")
        .expect("key")
        .1
        .clone();
    git(&dir, &["init", "-q"]);
    std::fs::write(dir.join("README"), "deployment notes\n").expect("write");
    std::fs::write(
        dir.join("deploy.env"),
        format!("GLEH_ENV=production\nSECRET_KEY={secret}\n"),
    )
    .expect("write");
    git(&dir, &["add", "README", "deploy.env"]);
    git(&dir, &["commit", "-q", "-m", "deployment config"]);

    let r = d.doctor(&[]);
    let line = r.fails_exactly(&["secret.git"]);
    assert!(line.contains("deploy.env"), "{line}");
    assert!(line.contains("rotate"), "{line}");
    assert!(!r.text.contains(&secret), "the key was printed");
    assert!(!r.json.to_string().contains(&secret), "the key was printed");

    // Deleting the file is not enough: the key stays in the history.
    git(&dir, &["rm", "-q", "deploy.env"]);
    git(&dir, &["commit", "-q", "-m", "remove the secret"]);
    let r = d.doctor(&[]);
    let line = r.fails_exactly(&["secret.git"]);
    assert!(line.contains("history: deploy.env"), "{line}");

    // A repository that never held the key passes.
    let r = d.doctor(&[("SECRET_KEY", &random_secret())]);
    assert!(r.assert_status("secret.git", "pass").contains("history"));
}

#[tokio::test]
async fn unreachable_database_fails() {
    let d = Deployment::good(Backend::Sqlite).await;
    let r = d.doctor(&[("DATABASE_URL", "postgres://postgres@127.0.0.1:1/x")]);
    let line = r.fails_exactly(&["db.reachable"]);
    assert!(line.contains("127.0.0.1:1"), "{line}");
    assert!(!r.text.contains(" db.migrated "), "{}", r.text);

    // A missing SQLite file is reported, not created.
    let missing = d.path("missing.db");
    let r = d.doctor(&[("DATABASE_URL", &format!("sqlite://{missing}"))]);
    let line = r.fails_exactly(&["db.reachable"]);
    assert!(line.contains("does not exist"), "{line}");
    assert!(!Path::new(&missing).exists(), "doctor created the database");

    // DATABASE_URL unset (refused by production's configuration; doctor says it in development).
    let r = d.doctor(&[
        ("DATABASE_URL", ""),
        ("GLEH_ENV", "development"),
        ("SESSION_COOKIE_SECURE", "true"),
        ("PERMANENT_SESSION_LIFETIME", "3600"),
    ]);
    let line = r.fails_exactly(&["db.reachable"]);
    assert!(line.contains("DATABASE_URL is not set"), "{line}");
}

// ---------------------------------------------------------------------------------------------
// TLS

#[tokio::test]
async fn missing_or_garbage_pem_files_fail() {
    let d = Deployment::good(Backend::Sqlite).await;
    let r = d.doctor(&[("TLS_CERT", &d.path("nowhere.pem"))]);
    let line = r.fails_exactly(&["tls.files"]);
    assert!(line.contains("nowhere.pem"), "{line}");

    write(&d.dir().join("garbage.pem"), "this is not PEM\n", 0o400);
    let r = d.doctor(&[("TLS_CERT", &d.path("garbage.pem"))]);
    let line = r.fails_exactly(&["tls.files"]);
    assert!(line.contains("no PEM CERTIFICATE"), "{line}");

    let r = d.doctor(&[("TLS_KEY", &d.path("garbage.pem"))]);
    let line = r.fails_exactly(&["tls.files"]);
    assert!(line.contains("no PEM private key"), "{line}");

    // A PEM block whose content is not a certificate.
    write(
        &d.dir().join("broken.pem"),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        0o400,
    );
    let r = d.doctor(&[("TLS_CERT", &d.path("broken.pem"))]);
    let line = r.fails_exactly(&["tls.files"]);
    assert!(line.contains("does not parse"), "{line}");
}

#[tokio::test]
async fn key_not_matching_the_certificate_fails() {
    let d = Deployment::good(Backend::Sqlite).await;
    let (_, other_key) = leaf(&d.ca, &[HOST], 365);
    write(&d.dir().join("other-key.pem"), &other_key, 0o400);
    let r = d.doctor(&[("TLS_KEY", &d.path("other-key.pem"))]);
    let line = r.fails_exactly(&["tls.key-match"]);
    assert!(line.contains("does not belong"), "{line}");
}

#[tokio::test]
async fn key_readable_by_others_fails() {
    let d = Deployment::good(Backend::Sqlite).await;
    let key = d.dir().join("key.pem");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let r = d.doctor(&[]);
    let line = r.fails_exactly(&["tls.key-perms"]);
    assert!(
        line.contains("0644") && line.contains("chmod 400"),
        "{line}"
    );
    // 0600 is as good as 0400.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    d.doctor(&[]).assert_status("tls.key-perms", "pass");
}

#[tokio::test]
async fn key_owned_by_another_user_fails() {
    // Only root can give a file away; as another user this case cannot be set up.
    let uid = std::fs::metadata(tempfile::tempdir().expect("tempdir").path())
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .expect("uid");
    if uid != 0 {
        eprintln!("not root: cannot chown the key to another user, skipping");
        return;
    }
    let d = Deployment::good(Backend::Sqlite).await;
    std::os::unix::fs::chown(d.dir().join("key.pem"), Some(65534), Some(65534)).expect("chown");
    let r = d.doctor(&[]);
    let line = r.fails_exactly(&["tls.key-owner"]);
    assert!(line.contains("65534"), "{line}");
}

#[tokio::test]
async fn certificate_expiring_soon_fails() {
    let d = Deployment::good(Backend::Sqlite).await;
    let (cert, key) = leaf(&d.ca, &[HOST], 10);
    write(
        &d.dir().join("soon.pem"),
        &format!("{cert}{}", d.ca.pem()),
        0o644,
    );
    write(&d.dir().join("soon-key.pem"), &key, 0o400);
    let r = d.doctor(&[
        ("TLS_CERT", &d.path("soon.pem")),
        ("TLS_KEY", &d.path("soon-key.pem")),
    ]);
    let line = r.fails_exactly(&["tls.expiry"]);
    assert!(line.contains("days left"), "{line}");
    let days: i64 = line
        .split('(')
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no day count in {line}"));
    assert_eq!(days, 10, "{line}");

    // 45 days is enough.
    let (cert, key) = leaf(&d.ca, &[HOST], 45);
    write(
        &d.dir().join("soon.pem"),
        &format!("{cert}{}", d.ca.pem()),
        0o644,
    );
    write(&d.dir().join("soon-key.pem"), &key, 0o400);
    let r = d.doctor(&[
        ("TLS_CERT", &d.path("soon.pem")),
        ("TLS_KEY", &d.path("soon-key.pem")),
    ]);
    r.assert_status("tls.expiry", "pass");
}

#[tokio::test]
async fn missing_intermediate_fails() {
    let d = Deployment::good(Backend::Sqlite).await;
    // The leaf alone, issued by a CA the file does not hold and no browser knows.
    let (cert, key) = leaf(&d.ca, &[HOST], 365);
    write(&d.dir().join("leaf-only.pem"), &cert, 0o644);
    write(&d.dir().join("leaf-key.pem"), &key, 0o400);
    let r = d.doctor(&[
        ("TLS_CERT", &d.path("leaf-only.pem")),
        ("TLS_KEY", &d.path("leaf-key.pem")),
    ]);
    let line = r.fails_exactly(&["tls.chain"]);
    assert!(line.contains("intermediate missing"), "{line}");
    assert!(line.contains("GLEH Test CA"), "{line}");

    // A CA of the same name but another key: the names chain, the signature does not.
    let impostor = ca("GLEH Test CA");
    write(
        &d.dir().join("wrong-ca.pem"),
        &format!("{cert}{}", impostor.pem()),
        0o644,
    );
    let r = d.doctor(&[
        ("TLS_CERT", &d.path("wrong-ca.pem")),
        ("TLS_KEY", &d.path("leaf-key.pem")),
    ]);
    let line = r.fails_exactly(&["tls.chain"]);
    assert!(line.contains("signature does not verify"), "{line}");

    // A self-signed leaf is complete but not publicly trusted: a warning.
    let key = KeyPair::generate().expect("key");
    let cert = named(HOST, &[HOST]).self_signed(&key).expect("self-signed");
    write(&d.dir().join("self.pem"), &cert.pem(), 0o644);
    write(&d.dir().join("self-key.pem"), &key.serialize_pem(), 0o400);
    let r = d.doctor(&[
        ("TLS_CERT", &d.path("self.pem")),
        ("TLS_KEY", &d.path("self-key.pem")),
    ]);
    assert_eq!(r.code, Some(0), "{}", r.text);
    let line = r.assert_status("tls.chain", "warn");
    assert!(
        line.contains("self-signed") && line.contains("not publicly trusted"),
        "{line}"
    );
}

#[tokio::test]
async fn public_url_host_not_covered_fails() {
    let d = Deployment::good(Backend::Sqlite).await;
    let r = d.doctor(&[("PUBLIC_URL", "https://learn.example.org")]);
    let line = r.fails_exactly(&["tls.names"]);
    assert!(
        line.contains("learn.example.org") && line.contains(HOST),
        "{line}"
    );

    // A wildcard covers one label, not the bare domain.
    let (cert, key) = leaf(&d.ca, &["*.platform.test"], 365);
    write(
        &d.dir().join("wild.pem"),
        &format!("{cert}{}", d.ca.pem()),
        0o644,
    );
    write(&d.dir().join("wild-key.pem"), &key, 0o400);
    let wild = [
        ("TLS_CERT", d.path("wild.pem")),
        ("TLS_KEY", d.path("wild-key.pem")),
    ];
    let with = |url: &'static str| {
        let mut v: Vec<(&str, &str)> = wild.iter().map(|(k, v)| (*k, v.as_str())).collect();
        v.push(("PUBLIC_URL", url));
        d.doctor(&v)
    };
    with("https://learn.platform.test:8443/").assert_status("tls.names", "pass");
    with("https://platform.test").fails_exactly(&["tls.names"]);
    with("https://a.learn.platform.test").fails_exactly(&["tls.names"]);
}

#[tokio::test]
async fn plain_http_public_url_fails() {
    let d = Deployment::good(Backend::Sqlite).await;
    let r = d.doctor(&[("PUBLIC_URL", "http://platform.test")]);
    let line = r.fails_exactly(&["url.https"]);
    assert!(line.contains("not https"), "{line}");
}

// ---------------------------------------------------------------------------------------------
// Logs, sessions, proxies

#[tokio::test]
async fn unwritable_log_dir_fails() {
    let d = Deployment::good(Backend::Sqlite).await;
    std::fs::write(d.dir().join("somefile"), "").expect("write");
    let r = d.doctor(&[("LOG_DIR", &format!("{}/sub", d.path("somefile")))]);
    let line = r.fails_exactly(&["logs.writable"]);
    assert!(line.contains("somefile/sub"), "{line}");
    assert!(!r.text.contains(" logs.space "), "{}", r.text);

    // A log file gleh cannot append to (as root, only a directory in its place stops it).
    let logs = d.dir().join("logs");
    std::fs::remove_file(logs.join("app.log")).expect("rm app.log");
    std::fs::create_dir(logs.join("app.log")).expect("mkdir app.log");
    let r = d.doctor(&[]);
    let line = r.fails_exactly(&["logs.writable"]);
    assert!(
        line.contains("app.log exists but cannot be appended to"),
        "{line}"
    );

    // A directory gleh will create at start is fine, and doctor does not create it.
    let later = d.dir().join("later").join("logs");
    let r = d.doctor(&[("LOG_DIR", &later.display().to_string())]);
    assert_eq!(r.code, Some(0), "{}", r.text);
    assert!(
        r.assert_status("logs.writable", "pass")
            .contains("does not exist yet"),
        "{}",
        r.text
    );
    assert!(!d.dir().join("later").exists(), "doctor created LOG_DIR");

    // A regular file is not a directory either.
    let r = d.doctor(&[("LOG_DIR", &d.path("somefile"))]);
    let line = r.fails_exactly(&["logs.writable"]);
    assert!(line.contains("not a directory"), "{line}");
}

#[tokio::test]
async fn weak_session_settings_fail() {
    let d = Deployment::good(Backend::Sqlite).await;
    let r = d.doctor(&[("PERMANENT_SESSION_LIFETIME", "86400")]);
    let line = r.fails_exactly(&["session.settings"]);
    assert!(
        line.contains("PERMANENT_SESSION_LIFETIME must be at most 3600"),
        "{line}"
    );

    let r = d.doctor(&[("SESSION_COOKIE_SECURE", "false")]);
    let line = r.fails_exactly(&["session.settings"]);
    assert!(
        line.contains("SESSION_COOKIE_SECURE must be True"),
        "{line}"
    );

    // Stricter than the checklist is fine; a long absolute lifetime is a warning.
    let r = d.doctor(&[
        ("SESSION_COOKIE_SAMESITE", "Strict"),
        ("PERMANENT_SESSION_LIFETIME", "900"),
        ("SESSION_ABSOLUTE_LIFETIME", "604800"),
        ("AUTH_RATE_LIMIT", "100"),
    ]);
    assert_eq!(r.code, Some(0), "{}", r.text);
    r.assert_status("session.settings", "pass");
    r.assert_status("session.absolute", "warn");
    r.assert_status("auth.rate-limit", "warn");
}

#[tokio::test]
async fn trusting_every_proxy_fails() {
    let d = Deployment::good(Backend::Sqlite).await;
    let r = d.doctor(&[("TRUSTED_PROXIES", "10.0.0.0/8,0.0.0.0/0")]);
    let line = r.fails_exactly(&["proxy.trusted"]);
    assert!(line.contains("0.0.0.0/0"), "{line}");
}

// ---------------------------------------------------------------------------------------------
// Calibre-Web (the fake server of ebooks.rs)

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calibre_web_is_checked() {
    use crate::ebooks::{CW_PASSWORD, CW_USER, DOWN, HTML, SLOW, UP, fake_calibre};
    use std::sync::atomic::Ordering;
    let d = Deployment::good(Backend::Sqlite).await;

    // Unset: one PASS line, e-books off, nothing asked of anyone.
    let r = d.doctor(&[]);
    let line = r.assert_status("calibre.feed", "pass");
    assert!(line.contains("CALIBRE_WEB_URL is not set"), "{line}");
    assert!(!r.text.contains("calibre.credentials"), "{}", r.text);

    let (fake, url) = fake_calibre(12, 5).await;
    let good = [
        ("CALIBRE_WEB_URL", url.as_str()),
        ("CALIBRE_WEB_USERNAME", CW_USER),
        ("CALIBRE_WEB_PASSWORD", CW_PASSWORD),
    ];
    let r = d.doctor(&good);
    assert_eq!(r.code, Some(0), "{}", r.text);
    assert!(
        r.assert_status("calibre.feed", "pass")
            .contains("OPDS/Atom feed")
    );
    r.assert_status("calibre.credentials", "pass");
    // The OpenSearch description was fetched and its template found the newest book.
    let line = r.assert_status("calibre.search", "pass");
    assert!(line.contains("OpenSearch description"), "{line}");
    assert!(line.contains("/cw/opds/search/{searchTerms}"), "{line}");
    assert!(line.contains("found book 1 "), "{line}");
    assert!(
        fake.search_calls.load(Ordering::SeqCst) >= 4,
        "osd and search, twice"
    );

    // Wrong or missing credentials: a FAIL naming the variables, never their values.
    let r = d.doctor(&[
        ("CALIBRE_WEB_URL", url.as_str()),
        ("CALIBRE_WEB_USERNAME", "hub-login-name"),
        ("CALIBRE_WEB_PASSWORD", "wrong-pass-3b8e"),
    ]);
    let line = r.fails_exactly(&["calibre.credentials"]);
    assert!(
        line.contains("CALIBRE_WEB_USERNAME/CALIBRE_WEB_PASSWORD"),
        "{line}"
    );
    let all = format!("{}{}", r.text, r.json);
    assert!(!all.contains("wrong-pass-3b8e") && !all.contains("hub-login-name"));
    let r = d.doctor(&[("CALIBRE_WEB_URL", url.as_str())]);
    let line = r.fails_exactly(&["calibre.credentials"]);
    assert!(
        line.contains("set CALIBRE_WEB_USERNAME and CALIBRE_WEB_PASSWORD"),
        "{line}"
    );
    let r = d.doctor(&good);
    assert!(!format!("{}{}", r.text, r.json).contains(CW_PASSWORD));

    // Not a feed, an error status, nobody listening, a server that never answers.
    fake.mode.store(HTML, Ordering::SeqCst);
    let line = d.doctor(&good).fails_exactly(&["calibre.feed"]).to_string();
    assert!(line.contains("is not an OPDS/Atom feed"), "{line}");
    fake.mode.store(DOWN, Ordering::SeqCst);
    let line = d.doctor(&good).fails_exactly(&["calibre.feed"]).to_string();
    assert!(line.contains("HTTP 503"), "{line}");
    let nobody = [("CALIBRE_WEB_URL", "http://127.0.0.1:9/cw")];
    let line = d
        .doctor(&nobody)
        .fails_exactly(&["calibre.feed"])
        .to_string();
    assert!(
        line.contains("cannot connect to http://127.0.0.1:9/cw/opds"),
        "{line}"
    );
    fake.mode.store(SLOW, Ordering::SeqCst);
    let started = std::time::Instant::now();
    let line = d.doctor(&good).fails_exactly(&["calibre.feed"]).to_string();
    assert!(line.contains("did not answer within 5 s"), "{line}");
    // Two runs (text and JSON), each cut off by its own 5 s timeout.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    fake.mode.store(UP, Ordering::SeqCst);
}

both_backends!(full_production_setup_passes, pending_migrations_fail);
