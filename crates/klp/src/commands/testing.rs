// SPDX-License-Identifier: GPL-2.0
//! Test fixtures of the verbs: a fake kernel that runs transitions, and
//! captured output.

use super::{Ctx, Io};
use crate::kernel::{FakeKernel, Kernel};
pub(super) use crate::testkit::FakeTree;
use std::fs::{self, File};
use std::io;
use std::path::Path;
use std::thread::sleep;
use std::time::Duration;

/// The fake kernel plus a simulated transition: writing `enabled` starts
/// one, which ends `delay` later (a disabled patch is then freed, as
/// the kernel does).
pub(super) struct SimKernel {
    pub(super) fake: FakeKernel,
    pub(super) delay: Duration,
    pub(super) root: bool,
    pub(super) fail_writes: Option<i32>,
}

impl Kernel for SimKernel {
    fn write_attr(&self, path: &Path, value: &str) -> io::Result<()> {
        if let Some(errno) = self.fail_writes {
            return Err(io::Error::from_raw_os_error(errno));
        }
        self.fake.write_attr(path, value)?;
        if path.file_name().and_then(|n| n.to_str()) == Some("enabled") {
            let dir = path.parent().unwrap().to_path_buf();
            fs::write(dir.join("transition"), "1\n")?;
            let delay = self.delay;
            let enable = value == "1";
            std::thread::spawn(move || {
                sleep(delay);
                if enable {
                    let _ = crate::testkit::write_atomic(&dir.join("transition"), "0\n");
                } else {
                    let _ = fs::remove_dir_all(&dir);
                }
            });
        }
        Ok(())
    }
    fn finit_module(&self, f: &File, name: &str, params: &str) -> io::Result<()> {
        self.fake.finit_module(f, name, params)
    }
    fn delete_module(&self, name: &str) -> io::Result<()> {
        self.fake.delete_module(name)
    }
    fn is_root(&self) -> bool {
        self.root
    }
}

pub(super) fn ctx(t: &FakeTree, k: SimKernel) -> Ctx {
    Ctx {
        env: t.env(),
        kernel: Box::new(k),
        json: false,
        poll: Duration::from_millis(20),
        scan_every: Duration::from_millis(20),
        tty: false,
    }
}

pub(super) fn sim(t: &FakeTree) -> SimKernel {
    SimKernel {
        fake: FakeKernel { sysfs: t.sysfs() },
        delay: Duration::from_millis(150),
        root: true,
        fail_writes: None,
    }
}

pub(super) struct Out {
    out: Vec<u8>,
    err: Vec<u8>,
}

impl Out {
    pub(super) fn new() -> Out {
        Out {
            out: Vec::new(),
            err: Vec::new(),
        }
    }
    pub(super) fn run<T>(&mut self, stdin: &str, f: impl FnOnce(&mut Io) -> T) -> T {
        let mut input = stdin.as_bytes();
        let mut io = Io {
            out: &mut self.out,
            err: &mut self.err,
            input: &mut input,
        };
        f(&mut io)
    }
    pub(super) fn out(&self) -> String {
        String::from_utf8_lossy(&self.out).into_owned()
    }
    pub(super) fn err(&self) -> String {
        String::from_utf8_lossy(&self.err).into_owned()
    }
}

pub(super) fn demo(t: &FakeTree) {
    t.patch("lp", true, false)
        .object("vmlinux", true, &["cmdline_proc_show,1"]);
    t.module("lp", 0, true);
}
