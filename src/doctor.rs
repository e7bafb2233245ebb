//! `gleh doctor`: the pre-deployment checks of the seed's §1–§6 that a program can make.

use crate::config::Config;

/// Runs every check, prints them, and returns the exit code (1 on any FAIL).
pub async fn run(_config: &Config, _json: bool) -> anyhow::Result<i32> {
    anyhow::bail!("doctor is not implemented yet")
}
