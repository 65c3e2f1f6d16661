//! `authprobe completions` and `authprobe man`: generated from the same clap definitions
//! as the parser, so they can never list an option the parser does not take.

use crate::cli::args::Cli;
use anyhow::{Context, Result};
use clap::CommandFactory;
use std::io::Write;

pub fn completions(shell: clap_complete::Shell) -> Result<i32> {
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut cmd, "authprobe", &mut out);
    out.flush().context("writing to stdout")?;
    Ok(0)
}

/// The top page with one section per command, in one roff document: `man authprobe` then
/// shows every command's options, as `authprobe scan --help` does.
pub fn man() -> Result<i32> {
    let cmd = Cli::command();
    let mut roff = Vec::new();
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(&mut roff)?;
    man.render_name_section(&mut roff)?;
    man.render_synopsis_section(&mut roff)?;
    man.render_description_section(&mut roff)?;
    man.render_options_section(&mut roff)?;
    man.render_subcommands_section(&mut roff)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("authprobe {}", sub.get_name());
        // A heading of its own, not a second NAME section, so the page stays one page.
        writeln!(roff, ".SH \"{}\"", name.to_uppercase())?;
        let sub = sub.clone().bin_name(name);
        let page = clap_mangen::Man::new(sub);
        page.render_synopsis_section(&mut roff)?;
        page.render_description_section(&mut roff)?;
        page.render_options_section(&mut roff)?;
        page.render_extra_section(&mut roff)?;
    }
    man.render_extra_section(&mut roff)?;
    man.render_version_section(&mut roff)?;
    let mut out = std::io::stdout().lock();
    out.write_all(&roff).context("writing to stdout")?;
    Ok(0)
}
