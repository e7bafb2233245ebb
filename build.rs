//! Rebuilds the binary when a migration is added or changed: `sqlx::migrate!` embeds
//! `migrations/` at compile time but cannot ask cargo to watch the folder itself.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
