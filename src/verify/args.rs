//! The command line of `gleh verify`.

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The deployment's public URL, e.g. https://platform.edu
    pub url: String,
    /// Accept a certificate that does not validate (self-signed, staging); it is still
    /// inspected and its days left reported.
    #[arg(long)]
    pub insecure: bool,
    /// Print one JSON document instead of lines.
    #[arg(long)]
    pub json: bool,
    /// The plain-HTTP address to probe [default: the URL with http:// and port 80].
    #[arg(long, value_name = "URL")]
    pub http_url: Option<String>,
    /// Use this existing account instead of registering a throwaway one.
    #[arg(long, value_name = "U", requires = "password")]
    pub username: Option<String>,
    /// The password of --username.
    #[arg(long, value_name = "P", requires = "username")]
    pub password: Option<String>,
    /// Also check that an idle session is rejected after this many seconds (for a staging
    /// deployment configured with a short PERMANENT_SESSION_LIFETIME).
    #[arg(long, value_name = "SECONDS")]
    pub session_timeout: Option<u64>,
    /// Requests in the load test.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub requests: u64,
    /// Concurrent workers in the load test.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub concurrency: u64,
    /// No colours, even on a terminal.
    #[arg(long)]
    pub no_color: bool,
}
