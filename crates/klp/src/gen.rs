// SPDX-License-Identifier: GPL-2.0
//! `klp generate man|bash|zsh|fish`: the man pages and shell completions,
//! generated from the command line's definition in [`crate::cli`].

use crate::cli::Cli;
use crate::commands::Io;
use crate::error::{KlpError, Result};
use clap::{CommandFactory, Subcommand};
use clap_complete::Shell;
use std::path::PathBuf;

#[derive(Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The klp(1) man page, on stdout
    Man {
        /// Write klp.1 and a klp-VERB.1 page for each verb into DIR instead
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
    /// The bash completion script
    Bash,
    /// The zsh completion script
    Zsh,
    /// The fish completion script
    Fish,
}

pub fn generate(io: &mut Io, target: &Target) -> Result<()> {
    let mut cmd = Cli::command();
    let shell = match target {
        Target::Man { out_dir } => {
            let (written, place) = match out_dir {
                Some(dir) => (
                    clap_mangen::generate_to(cmd, dir),
                    dir.display().to_string(),
                ),
                None => (clap_mangen::Man::new(cmd).render(io.out), "stdout".into()),
            };
            return written
                .map_err(|e| KlpError::io(format!("writing the man pages to {place}"), &e));
        }
        Target::Bash => Shell::Bash,
        Target::Zsh => Shell::Zsh,
        Target::Fish => Shell::Fish,
    };
    clap_complete::generate(shell, &mut cmd, "klp", io.out);
    Ok(())
}
