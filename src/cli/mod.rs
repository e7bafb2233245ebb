//! The `gleh` command line: `serve` (default), `migrate`, `config`, `gen-secret`, `user …`,
//! `doctor`, `courses import`, `import-gleh`, `backup` (`backup.rs`), `verify`.

mod backup;
mod user;

use clap::{Parser, Subcommand};

use crate::{
    config::{Config, ConfigErrors},
    db::Db,
    logging, server,
};

#[derive(Parser)]
#[command(
    name = "gleh",
    version,
    about = "GLEH, the Gammons Landing Educational Hub"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (the default).
    Serve,
    /// Apply pending database migrations.
    Migrate {
        /// Apply nothing; exit 1 if a migration is pending, 3 if the database has migrations
        /// this binary does not know (it is behind a newer one).
        #[arg(long)]
        check: bool,
    },
    /// Print the effective configuration (secrets redacted).
    Config,
    /// Print a new random secret: 32 bytes as 64 hex characters.
    GenSecret,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Pre-deployment checks (docs/checklist.md §1–§6): PASS / WARN / FAIL lines; exit 1 on any FAIL.
    Doctor {
        /// Print the results as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Manage the course catalog.
    #[command(subcommand)]
    Courses(CoursesCommand),
    /// Import the original GLEH's users, courses, progress and notes from its database
    /// (SOURCE is its DATABASE_URL: sqlite:///path, sqlite://path or postgres(ql)://…),
    /// in one transaction; a second run adds nothing. Prints a report.
    ImportGleh {
        source: String,
        /// Write nothing; print the same report.
        #[arg(long)]
        dry_run: bool,
        /// The original's static/avatars/ folder: each user's picture goes through the
        /// upload checks and is re-encoded.
        #[arg(long)]
        avatars: Option<std::path::PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// SQLite: write a consistent copy of the live database to FILE (never overwritten),
    /// then check it (integrity_check, migrations). PostgreSQL: print the pg_dump and
    /// pg_restore commands to use, exit 1.
    Backup {
        file: std::path::PathBuf,
        /// Only check an existing backup FILE.
        #[arg(long)]
        check: bool,
    },
    /// Post-deployment checks (docs/checklist.md §10–§15) against a live URL: PASS / WARN / FAIL /
    /// SKIP lines; exit 1 on any FAIL, 2 when the URL cannot be reached.
    Verify(crate::verify::Args),
}

#[derive(Subcommand)]
enum CoursesCommand {
    /// Scan DIR: each direct sub-folder holding an MIT OpenCourseWare package (index.html
    /// and/or data.json) becomes a catalog entry, upserted by uid. DIR must be the folder
    /// the server serves packages from (CONTENT_DIR/courses) unless --copy is given.
    Import {
        dir: std::path::PathBuf,
        /// Copy the packages into CONTENT_DIR/courses first (a package of the same name
        /// there is replaced).
        #[arg(long)]
        copy: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account. The password is read from standard input (or prompted for).
    Create {
        username: String,
        #[arg(long)]
        admin: bool,
    },
    /// List accounts.
    List,
    /// Set a new password (read from standard input or prompted for); ends all sessions.
    SetPassword { username: String },
    /// End every session of an account.
    RevokeSessions { username: String },
    /// Delete an account with its sessions, progress and notes.
    Delete { username: String },
    /// Make an account an admin (or, with --remove, no longer one); ends its sessions.
    SetAdmin {
        username: String,
        #[arg(long)]
        remove: bool,
    },
    /// Disable an account: it cannot log in and its sessions end at once.
    Disable { username: String },
    /// Enable a disabled account.
    Enable { username: String },
}

/// Runs the CLI; returns the process exit code.
pub fn run() -> i32 {
    let cli = Cli::parse();
    let _ = dotenvy::dotenv();
    if let Some(Command::GenSecret) = cli.command {
        let mut key = [0u8; 32];
        rand::fill(&mut key[..]);
        println!("{}", hex::encode(key));
        return 0;
    }
    if let Some(Command::Verify(args)) = cli.command {
        return crate::verify::main(args);
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(ConfigErrors(problems)) => {
            // doctor reports an unusable configuration as failed checks, in its own format.
            if let Some(Command::Doctor { json }) = cli.command {
                return doctor_config_failures(&problems, json);
            }
            for p in problems {
                eprintln!("error: {p}");
            }
            return 1;
        }
    };
    if let Some(Command::Config) = cli.command {
        print!("{}", config.describe());
        return 0;
    }
    // doctor checks LOG_DIR itself (and must not create files there): it logs to stderr only.
    let log_dir = match cli.command {
        Some(Command::Doctor { .. }) => None,
        _ => config.log_dir.as_deref(),
    };
    if let Err(e) = logging::init(config.log_format, log_dir) {
        eprintln!("error: cannot write logs to LOG_DIR: {e:#}");
        return 1;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return 1;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            None | Some(Command::Serve) => server::serve(config).await.map(|_| 0),
            Some(Command::Migrate { check }) => migrate(&config, check).await,
            Some(Command::User(cmd)) => user::run(&config, cmd).await.map(|_| 0),
            Some(Command::Doctor { json }) => crate::doctor::run(&config, json).await,
            Some(Command::Courses(CoursesCommand::Import { dir, copy })) => {
                crate::catalog::import::run(&config, &dir, copy).await
            }
            Some(Command::ImportGleh {
                source,
                dry_run,
                avatars,
                json,
            }) => {
                let opts = crate::import::Options {
                    source,
                    dry_run,
                    avatars,
                    json,
                };
                crate::import::run(&config, &opts).await
            }
            Some(Command::Backup { file, check }) => backup::run(&config, &file, check).await,
            Some(Command::Config | Command::GenSecret | Command::Verify(_)) => Ok(0),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}

/// `gleh doctor` when the configuration itself is refused (e.g. the production guard).
fn doctor_config_failures(problems: &[String], json: bool) -> i32 {
    if json {
        let checks: Vec<_> = problems
            .iter()
            .map(|p| serde_json::json!({"id": "config.load", "status": "fail", "message": p}))
            .collect();
        let summary = serde_json::json!({"pass": 0, "warn": 0, "fail": problems.len()});
        println!(
            "{}",
            serde_json::json!({"checks": checks, "summary": summary})
        );
    } else {
        for p in problems {
            println!("FAIL config.load — {p}");
        }
        println!("0 passed, 0 warnings, {} failed", problems.len());
    }
    1
}

/// The hub's database for a command that needs its schema: in development and test modes
/// pending migrations are applied first (as `serve` does); production refuses.
pub(crate) async fn open_migrated(config: &Config) -> anyhow::Result<Db> {
    Db::connect_ready(&config.database_url, !config.is_production()).await
}

async fn migrate(config: &Config, check: bool) -> anyhow::Result<i32> {
    let db = Db::connect(&config.database_url).await?;
    let status = db.status().await?;
    let pending = status.pending;
    if !status.newer.is_empty() {
        // A newer binary migrated this database: this one is behind (migrations/README.md).
        let versions: Vec<String> = status.newer.iter().map(i64::to_string).collect();
        println!(
            "this binary is behind: the database has {} migration(s) it does not know ({}); \
             it still serves (migrations are expand/contract), but upgrade it",
            versions.len(),
            versions.join(", ")
        );
    }
    if check {
        for p in &pending {
            println!("pending: {p}");
        }
        if !status.newer.is_empty() {
            return Ok(3);
        }
        if pending.is_empty() {
            println!("database is up to date");
            return Ok(0);
        }
        return Ok(1);
    }
    db.migrate().await?;
    for p in &pending {
        println!("applied: {p}");
    }
    println!("database is up to date ({} applied)", pending.len());
    // Avatars an older version kept as files go into the database (src/avatar/adopt.rs).
    let adopted = crate::avatar::adopt::adopt_files(&db, &config.data_dir)
        .await
        .map_err(|e| e.context("moving avatar files from DATA_DIR/avatars into the database"))?;
    if adopted.moved > 0 || adopted.missing > 0 {
        println!(
            "avatars: {} moved from {} into the database, {} named but not there",
            adopted.moved,
            config.data_dir.join("avatars").display(),
            adopted.missing
        );
    }
    Ok(0)
}
