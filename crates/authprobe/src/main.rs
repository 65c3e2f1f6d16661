//! The `authprobe` command: parse, set up diagnostics, run one command, exit with its code.
//! Everything it does is in [`cli`]; everything it scans with is the `authprobe` library.

mod cli;

use clap::Parser;
use cli::args::{Cli, Command, Format, TokenCommand};
use cli::cmd;

fn main() {
    // Rust ignores SIGPIPE, which turns `authprobe checks | head` into a panic on the next
    // print. A command-line tool should end quietly when its reader goes away.
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to the default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    std::process::exit(run());
}

fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    cli::output::set_colour(cli.color);
    diagnostics(cli.verbose);
    cli::output::set_quiet(cli.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("authprobe: error: cannot start the runtime: {e}");
            return 2;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Scan(a) => cmd::scan::run_scan(*a).await,
            Command::Lab(a) => cmd::lab::run_lab(a).await,
            Command::Demo(a) => cmd::demo::run_demo(a).await,
            Command::Checks(a) => cmd::checks::list_checks(a),
            Command::Crack(a) => cmd::crack::run(a.into()).await,
            Command::Token(TokenCommand::Inspect(a)) => {
                cmd::token::inspect(&a.token, a.format == Format::Json, a.max_token_lifetime)
            }
            Command::Tls(a) => cmd::tls::run_tls(a).await,
            Command::MintRevoked(a) => cmd::mint_revoked::mint_revoked(a),
            Command::Completions(a) => cmd::docs::completions(a.shell),
            Command::Man => cmd::docs::man(),
            Command::Serve(a) => cmd::serve::run_serve(a).await,
            Command::Mcp(a) => cmd::mcp::run_mcp(a).await,
            Command::Worker(a) => cmd::worker::run_worker(a).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("authprobe: error: {}", one_line(&e));
            2
        }
    }
}

/// The library's `tracing` events on stderr: `-v` info, `-vv` debug, `-vvv` trace; without
/// `-v`, `RUST_LOG`; without either, warnings only, which the library does not emit in a
/// normal run, so default output stays the report and the notes.
fn diagnostics(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let filter = match verbose {
        0 => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        1 => EnvFilter::new("info"),
        2 => EnvFilter::new("debug"),
        _ => EnvFilter::new("trace"),
    };
    let ansi = cli::output::stderr_colour();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .finish();
    // Not `init()`: that would also route the `log` records of rustls and hyper here, which
    // have never been shown; a second subscriber cannot happen in this process.
    let _ = tracing::subscriber::set_global_default(subscriber);
}

fn one_line(e: &anyhow::Error) -> String {
    e.chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": ")
        .replace('\n', " ")
}
