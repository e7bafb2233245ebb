//! `gleh courses import DIR`: MIT OpenCourseWare offline packages into the catalog.

use std::path::Path;

use crate::config::Config;

/// Imports every package under `dir`; returns the process exit code.
pub async fn run(_config: &Config, dir: &Path) -> anyhow::Result<i32> {
    anyhow::bail!("course import is not implemented yet ({})", dir.display())
}
