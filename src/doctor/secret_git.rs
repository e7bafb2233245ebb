//! `secret.git`: the secret key must not be in any git-tracked file nor anywhere in the
//! history (a key once committed is leaked), searched from the working directory's work tree.

use std::{
    collections::HashMap,
    fs,
    io::{BufRead as _, BufReader, Read as _, Write as _},
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use super::{Report, short_list};
use crate::config::Config;

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

pub(super) fn check_secret_git(config: &Config, r: &mut Report) {
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
    let mut found = tracked_files(top, key)?;
    found.extend(history(top, key)?);
    Ok(found)
}

/// Tracked files whose working-tree content holds `key`.
fn tracked_files(top: &Path, key: &[u8]) -> anyhow::Result<Vec<String>> {
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
    Ok(found)
}

/// Every object reachable from a ref: its id and, for a blob, a path it had.
fn reachable_objects(top: &Path) -> anyhow::Result<(HashMap<String, String>, String)> {
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
    Ok((paths, ids))
}

/// History: every object reachable from a ref, each read once (`git cat-file --batch`).
fn history(top: &Path, key: &[u8]) -> anyhow::Result<Vec<String>> {
    let (paths, ids) = reachable_objects(top)?;
    if ids.is_empty() {
        return Ok(Vec::new());
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
    Ok(history)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_needles() {
        assert!(contains(b"SECRET_KEY=abcdef\n", b"abcdef"));
        assert!(!contains(b"abcde", b"abcdef"));
        assert!(!contains(b"anything", b""));
    }
}
