//! Moving the avatars an older binary kept as files (`DATA_DIR/avatars/<name>`) into the
//! database, so that an operator upgrading keeps every picture (docs/deploy.md "Upgrading").
//! Run by `gleh migrate` after the migrations and by `gleh serve` before it listens; both
//! may run any number of times, on any number of instances: only accounts whose avatar has
//! no row yet are looked at, and a row is written only while the account still names it.
//!
//! The files are left where they are: once nothing is left to move, `DATA_DIR/avatars` may
//! be deleted. A named file that is not there is counted as missing and left named (its
//! picture answers 404 until the file is put back and the step runs again, or the user
//! uploads a new one), never cleared: a folder mounted in the wrong place must not cost
//! anyone their picture.

use std::path::Path;

use super::names::is_stored_name;
use crate::db::{Db, avatars};

/// What one run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Adopted {
    /// Files whose bytes are now rows.
    pub moved: usize,
    /// Names an account holds whose file is not in the folder.
    pub missing: usize,
}

/// Moves every file an account names and no row holds yet from `data_dir/avatars` into the
/// database. A folder that cannot be read (other than a missing file) is an error; what was
/// moved before it stays moved. The files were written by this server's re-encoder, so they
/// are stored as they are.
pub async fn adopt_files(db: &Db, data_dir: &Path) -> anyhow::Result<Adopted> {
    let mut done = Adopted::default();
    let wanted: Vec<(i64, String)> = avatars::unstored(db)
        .await?
        .into_iter()
        .filter(|(_, name)| is_stored_name(name))
        .collect();
    if wanted.is_empty() {
        return Ok(done);
    }
    let dir = data_dir.join("avatars");
    for (user_id, name) in wanted {
        let path = dir.join(&name);
        let bytes = match tokio::fs::read(&path).await {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                done.missing += 1;
                continue;
            }
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!("reading {}", path.display())));
            }
        };
        if avatars::adopt(db, user_id, &name, &bytes, crate::time::now()).await? {
            done.moved += 1;
        }
    }
    Ok(done)
}
