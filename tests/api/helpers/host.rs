//! What the test machine provides: free ports and installed programs.

use std::{net::TcpListener, path::PathBuf};

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// The path of the program `name`, looked up in PATH and then the sbin and bin directories
/// (nginx lives in /usr/sbin, which a non-root PATH may lack). `None` means skip `what`;
/// under CI (`CI` set) a missing program fails the test instead, as `.ci/run` installs it.
pub fn tool(name: &str, what: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = [
        "/usr/sbin",
        "/usr/local/sbin",
        "/sbin",
        "/usr/bin",
        "/usr/local/bin",
    ];
    let found = std::env::split_paths(&path)
        .chain(dirs.map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("`{name}` is not installed and CI is set (.ci/run installs it)");
        }
        eprintln!("`{name}` is not installed: skipping {what}");
    }
    found
}
