//! Extracting a planned zip into the staging folder, counting the bytes actually
//! decompressed: an entry that yields more than it declared, or a total past
//! `MAX_EXTRACTED` or `MAX_RATIO` times the zip's size, stops the extraction (the sizes in
//! a zip are the sender's word). Files are created new (never through an existing entry)
//! below folders this extraction made, so nothing lands outside the staging folder.

use std::{
    fs::{self, File, OpenOptions},
    io::{Read, Write},
    path::Path,
};

use zip::ZipArchive;

use super::{
    Failure, MAX_EXTRACTED, MAX_RATIO,
    inspect::{Plan, shown},
    refused,
};

/// Extracts `plan`'s entries of the zip at `zip_path` (`zip_len` bytes) under `into`.
pub fn extract(zip_path: &Path, zip_len: u64, plan: &Plan, into: &Path) -> Result<u64, Failure> {
    let Ok(mut zip) = ZipArchive::new(File::open(zip_path)?) else {
        return refused("The file is not a valid zip archive.");
    };
    let budget = MAX_EXTRACTED.min(zip_len.saturating_mul(MAX_RATIO));
    let mut total: u64 = 0;
    let mut buf = vec![0u8; 64 * 1024];
    for e in &plan.entries {
        let path = into.join(&e.path);
        if e.dir {
            fs::create_dir_all(&path)?;
            continue;
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        let name = shown(&e.path.to_string_lossy());
        let Ok(mut entry) = zip.by_index(e.index) else {
            return refused(format!("The zip entry {name} cannot be read."));
        };
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        let mut written: u64 = 0;
        loop {
            let n = match entry.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(_) => {
                    return refused(format!(
                        "The zip entry {name} is damaged (it does not decompress or its checksum is wrong)."
                    ));
                }
            };
            written += n as u64;
            total += n as u64;
            if written > e.size {
                return refused(format!(
                    "The zip entry {name} holds more than the {} bytes it declares.",
                    e.size
                ));
            }
            if total > budget {
                return refused(format!(
                    "The zip extracts to more than {} (10 GiB, or {MAX_RATIO} times its size).",
                    budget
                ));
            }
            out.write_all(&buf[..n])?;
        }
        if written != e.size {
            return refused(format!(
                "The zip entry {name} holds fewer bytes than it declares."
            ));
        }
        out.flush()?;
    }
    Ok(total)
}
