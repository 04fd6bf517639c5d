// SPDX-License-Identifier: GPL-2.0
//! The `klp` binary: see `klp --help` and Documentation/livepatch/klp.rst.

use std::io::{self, IsTerminal, Write};

fn main() {
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let mut err = io::stderr();
    let tty = err.is_terminal();
    // stdout is written at the end, so a closed pipe (`klp list | head`)
    // cannot interrupt a verb halfway; progress goes to stderr as it happens.
    let mut out = Vec::new();
    let code = klp::main_with(std::env::args_os(), &mut input, &mut out, &mut err, tty);
    let mut stdout = io::stdout().lock();
    let _ = stdout.write_all(&out);
    let _ = stdout.flush();
    std::process::exit(code);
}
