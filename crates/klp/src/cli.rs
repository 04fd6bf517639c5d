// SPDX-License-Identifier: GPL-2.0
//! Command line: arguments, dispatch, error reporting and exit codes.

use crate::commands::{self, Ctx, Io};
use crate::error::{Kind, KlpError, EXIT_CODES};
use crate::kernel::{FakeKernel, Kernel, LiveKernel};
use crate::model::Env;
use crate::{build, gen, info, install};
use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use std::ffi::OsString;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Duration;

const ABOUT: &str = "Manage Linux livepatches: list, load, enable, disable and unload them, \
wait for transitions and name the tasks that block one.";

#[derive(Parser, Debug)]
#[command(name = "klp", version, propagate_version = true, about = ABOUT, after_help = EXIT_CODES)]
pub struct Cli {
    /// sysfs root (tests, or a container that sees the host's /sys elsewhere)
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        default_value = "/sys",
        hide = true
    )]
    pub sysfs_root: PathBuf,

    /// procfs root (as --sysfs-root)
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        default_value = "/proc",
        hide = true
    )]
    pub proc_root: PathBuf,

    /// The fake kernel of the tests: the roots are fake trees, no root check and no real
    /// module syscalls (see kernel.rs)
    #[arg(long, global = true, hide = true)]
    pub fake_kernel: bool,

    /// Where installed patches are kept (default /var/lib/klp): an image being built, tests
    #[arg(long, global = true, value_name = "DIR", hide = true)]
    pub state_dir: Option<PathBuf>,

    /// Print machine-readable JSON on stdout
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// Seconds to wait; 0 waits forever.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeout(pub Option<Duration>);

fn parse_timeout(s: &str) -> Result<Timeout, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("'{s}' is not a number of seconds"))?;
    if !secs.is_finite() || !(0.0..=1e9).contains(&secs) {
        return Err(format!("'{s}' is not a valid number of seconds"));
    }
    Ok(Timeout((secs > 0.0).then(|| Duration::from_secs_f64(secs))))
}

#[derive(Args, Debug, Clone, Copy)]
pub struct WaitArgs {
    /// Give up waiting for the transition after S seconds (0: never)
    #[arg(long, value_name = "S", default_value = "60", value_parser = parse_timeout)]
    pub timeout: Timeout,
}

/// `klp load --on-timeout`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnTimeout {
    /// The transition goes on in the kernel; klp names the blockers.
    Leave,
    /// The transition is reversed and the module removed (kpatch's policy).
    Revert,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List every livepatch with its objects and functions
    List,
    /// Show one patch (or all) in detail, with the transition's progress
    Status {
        /// Patch name (default: all)
        patch: Option<String>,
    },
    /// Load a livepatch module (finit_module) and wait for its transition
    Load {
        /// The livepatch module file (.ko), or the name of an installed patch
        #[arg(required_unless_present = "all")]
        module: Option<PathBuf>,
        /// Module parameters (name=value)
        params: Vec<String>,
        /// Load every patch installed for the running kernel (klp install), by name
        #[arg(long, conflicts_with_all = ["module", "params"])]
        all: bool,
        /// Return once loaded, without waiting for the transition
        #[arg(long)]
        no_wait: bool,
        #[command(flatten)]
        wait: WaitArgs,
        /// What a transition that does not finish in time leaves: the patch loading
        /// (leave, the default) or neither patch nor module (revert: reverse it, unload it)
        #[arg(long, value_enum, value_name = "POLICY", default_value = "leave")]
        on_timeout: OnTimeout,
    },
    /// Show a module file's .modinfo, whether it fits the running kernel, and what it patches
    Info {
        /// The module file (.ko)
        module: PathBuf,
    },
    /// Disable a patch if enabled, wait, then remove its module (delete_module)
    Unload {
        /// Patch name, as in /sys/kernel/livepatch (x_y, x-y, x.ko and x.ko.zst name it too)
        #[arg(required_unless_present = "all")]
        patch: Option<String>,
        /// Unload every livepatch, the newest first (replaced patches included)
        #[arg(long, conflicts_with = "patch")]
        all: bool,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Install a livepatch module for a kernel release, for `klp load NAME` and `--all`
    Install {
        /// The livepatch module file (.ko)
        module: PathBuf,
        /// The kernel release it is for (default: the running kernel's); its vermagic must match
        #[arg(short = 'k', long, value_name = "RELEASE")]
        kernel: Option<String>,
    },
    /// Remove an installed livepatch module (a loaded patch stays loaded)
    Uninstall {
        /// Patch name
        patch: String,
        /// The kernel release it was installed for (default: the running kernel's)
        #[arg(short = 'k', long, value_name = "RELEASE")]
        kernel: Option<String>,
    },
    /// Enable a patch (write 1 to enabled; reverses an unpatching transition)
    Enable {
        /// Patch name, as in /sys/kernel/livepatch (x_y, x-y, x.ko and x.ko.zst name it too)
        patch: String,
        /// Do not wait for the transition
        #[arg(long)]
        no_wait: bool,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Disable a patch (write 0 to enabled) and wait for the transition
    Disable {
        /// Patch name, as in /sys/kernel/livepatch (x_y, x-y, x.ko and x.ko.zst name it too)
        patch: String,
        /// Do not wait for the transition
        #[arg(long)]
        no_wait: bool,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Wait for a patch's transition, showing the tasks remaining
    Wait {
        /// Patch name, as in /sys/kernel/livepatch (x_y, x-y, x.ko and x.ko.zst name it too)
        patch: String,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Name the tasks that block a patch's transition, with their stacks
    Blockers {
        /// Patch name, as in /sys/kernel/livepatch (x_y, x-y, x.ko and x.ko.zst name it too)
        patch: String,
    },
    /// Force a stalled transition (unsafe: skips the consistency model)
    Force {
        /// Patch name, as in /sys/kernel/livepatch (x_y, x-y, x.ko and x.ko.zst name it too)
        patch: String,
        /// Do not ask for confirmation
        #[arg(long, short)]
        yes: bool,
        /// Do not wait for the transition to end
        #[arg(long)]
        no_wait: bool,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Build a livepatch module from a diff against the kernel source (-o OUT.ko), or
    /// tell which functions it changes (--dry-run)
    Build(build::BuildArgs),
    /// Print the man page or a shell completion script (see the README to install them)
    Generate {
        #[command(subcommand)]
        target: gen::Target,
    },
}

/// The version of the JSON that `--json` prints, in every document's `schema_version`.
pub const JSON_SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct ErrorJson<'a> {
    schema_version: u32,
    error: ErrorBody<'a>,
}

impl<'a> ErrorJson<'a> {
    fn print(
        out: &mut dyn Write,
        kind: Kind,
        message: &'a str,
        blockers: Option<&'a [crate::tasks::Blocker]>,
    ) {
        let j = ErrorJson {
            schema_version: JSON_SCHEMA_VERSION,
            error: ErrorBody {
                kind,
                exit_code: kind.exit_code(),
                message,
                blockers,
            },
        };
        if let Ok(s) = serde_json::to_string_pretty(&j) {
            let _ = writeln!(out, "{s}");
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    kind: Kind,
    exit_code: i32,
    message: &'a str,
    /// A timeout's blocking tasks, as `klp blockers --json` gives them.
    #[serde(skip_serializing_if = "Option::is_none")]
    blockers: Option<&'a [crate::tasks::Blocker]>,
}

/// Run one verb.
pub fn dispatch(ctx: &Ctx, io: &mut Io, cmd: &Command) -> Result<(), KlpError> {
    match cmd {
        Command::List => commands::list(ctx, io),
        Command::Status { patch } => commands::status(ctx, io, patch.as_deref()),
        Command::Load {
            module,
            params,
            all,
            no_wait,
            wait,
            on_timeout,
        } => {
            let how = commands::LoadHow {
                wait: !no_wait,
                timeout: wait.timeout.0,
                revert: *on_timeout == OnTimeout::Revert,
            };
            match module {
                Some(module) if !all => commands::load(ctx, io, module, params, how),
                _ => commands::load_all(ctx, io, how),
            }
        }
        Command::Unload { patch, all, wait } => match patch {
            Some(patch) if !all => commands::unload(ctx, io, patch, wait.timeout.0),
            _ => commands::unload_all(ctx, io, wait.timeout.0),
        },
        Command::Install { module, kernel } => install::install(ctx, io, module, kernel.as_deref()),
        Command::Uninstall { patch, kernel } => {
            install::uninstall(ctx, io, patch, kernel.as_deref())
        }
        Command::Enable {
            patch,
            no_wait,
            wait,
        } => commands::set_enabled(ctx, io, patch, true, !no_wait, wait.timeout.0),
        Command::Disable {
            patch,
            no_wait,
            wait,
        } => commands::set_enabled(ctx, io, patch, false, !no_wait, wait.timeout.0),
        Command::Wait { patch, wait } => commands::wait(ctx, io, patch, wait.timeout.0),
        Command::Blockers { patch } => commands::blockers(ctx, io, patch),
        Command::Info { module } => info::info(ctx, io, module),
        Command::Build(args) => build::build(ctx, io, args),
        Command::Generate { target } => gen::generate(io, target),
        Command::Force {
            patch,
            yes,
            no_wait,
            wait,
        } => commands::force(ctx, io, patch, *yes, !no_wait, wait.timeout.0),
    }
}

/// The whole program, minus the process: returns the exit code.
pub fn main_with<I, T>(
    args: I,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
    tty: bool,
) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => {
            let text = e.render().to_string();
            if !e.use_stderr() {
                // --help, --version.
                let _ = write!(out, "{text}");
                return e.exit_code();
            }
            let _ = write!(err, "{text}");
            // The line must not be parsed to know that JSON was asked for.
            if args.iter().skip(1).any(|a| a == "--json") {
                let first = text.lines().next().unwrap_or("bad arguments");
                let message = first.strip_prefix("error: ").unwrap_or(first);
                ErrorJson::print(out, Kind::Usage, message, None);
            }
            return e.exit_code();
        }
    };
    let mut env = Env::new(&cli.sysfs_root, &cli.proc_root, !cli.fake_kernel);
    env.state_dir = cli.state_dir.clone();
    let kernel: Box<dyn Kernel> = if env.live {
        Box::new(LiveKernel)
    } else {
        Box::new(FakeKernel {
            sysfs: env.sysfs.clone(),
        })
    };
    let ctx = Ctx {
        env,
        kernel,
        json: cli.json,
        poll: Duration::from_millis(100),
        scan_every: Duration::from_secs(1),
        tty,
    };
    let mut io = Io { out, err, input };
    match dispatch(&ctx, &mut io, &cli.command) {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(io.err, "klp: error: {}", e.message);
            if ctx.json {
                ErrorJson::print(io.out, e.kind, &e.message, e.blockers.as_deref());
            }
            e.exit_code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse() {
        assert_eq!(parse_timeout("0").unwrap(), Timeout(None));
        assert_eq!(
            parse_timeout("1.5").unwrap(),
            Timeout(Some(Duration::from_millis(1500)))
        );
        assert!(parse_timeout("-1").is_err());
        assert!(parse_timeout("soon").is_err());
        assert!(parse_timeout("inf").is_err());
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
