// SPDX-License-Identifier: GPL-2.0
//! Everything that changes the kernel's state goes through [`Kernel`]: sysfs
//! writes, finit_module(2) and delete_module(2), and the root check.
//!
//! [`LiveKernel`] is the real thing, used when the sysfs root is `/sys`.
//! [`FakeKernel`] acts on a fake tree (`--fake-kernel`) so every verb
//! can be tested without a kernel:
//!
//! * a sysfs write writes the file, unless `<file>.klp-fail` exists: then it
//!   fails with the errno named in it (`EBUSY`, `EINVAL`, ... or a number);
//! * finit_module creates `<root>/module/<name>/` (initstate, refcnt 0,
//!   taint K) and the patch directory: `<root>/.klp-fake/staged/<name>` is
//!   moved to `<root>/kernel/livepatch/<name>` if present, else a minimal
//!   patch is made (enabled 1, transition 0, a vmlinux object);
//! * delete_module fails with EAGAIN while `<root>/module/<name>/refcnt` is
//!   not 0, with ENOENT if the module directory is missing, else removes the
//!   module and patch directories;
//! * `<root>/.klp-fake/finit_module.klp-fail` and `.../delete_module.klp-fail`
//!   make the syscalls fail likewise, `<root>/.klp-fake/not-root` makes the
//!   root check fail, and each call is logged to `<root>/.klp-fake/calls`
//!   (`finit_module MODULE_INIT_COMPRESSED_FILE <name> ...` for a compressed file);
//! * `<root>/.klp-fake/kmsg` is the kernel log (one message per line); a failing
//!   finit_module appends `<root>/.klp-fake/finit_module.kmsg` to it.

use crate::compressed;
use crate::error::parse_errno;
use nix::kmod::DeleteModuleFlags;
use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub trait Kernel {
    /// Write `value` to a sysfs attribute (the kernel's store() error is the write's error).
    fn write_attr(&self, path: &Path, value: &str) -> io::Result<()>;
    /// finit_module(2) of an opened module file; `name` is the module's name.
    fn finit_module(&self, file: &File, name: &str, params: &str) -> io::Result<()>;
    /// delete_module(2) with O_NONBLOCK, as rmmod does.
    fn delete_module(&self, name: &str) -> io::Result<()>;
    /// May this process load modules and write livepatch attributes?
    fn is_root(&self) -> bool;
    /// A cursor at the end of the kernel log, to read what the kernel says from now on (the
    /// `livepatch:` lines of a refused load); `None` if the log cannot be read.
    fn log_cursor(&self) -> Option<LogCursor> {
        None
    }
}

/// The kernel log from a point on: `/dev/kmsg`, or the fake kernel's `kmsg` file.
pub enum LogCursor {
    /// `/dev/kmsg`, opened non-blocking and positioned at its end.
    Kmsg(File),
    /// A text file of log lines, from a byte offset.
    Fake(PathBuf, u64),
}

impl LogCursor {
    /// The messages logged since the cursor was made (at most `max`, the last ones).
    pub fn messages(self, max: usize) -> Vec<String> {
        let mut lines = Vec::new();
        match self {
            LogCursor::Kmsg(mut f) => {
                // One record per read: "prio,seq,usec,flags;message\n" then continuation
                // lines; a read fails with EAGAIN at the end (EPIPE if records were lost).
                let mut buf = vec![0u8; 8192];
                loop {
                    match io::Read::read(&mut f, &mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            let rec = String::from_utf8_lossy(&buf[..n]);
                            if let Some((_, msg)) = rec.split_once(';') {
                                lines.push(msg.lines().next().unwrap_or("").to_string());
                            }
                        }
                        Err(e) if e.raw_os_error() == Some(libc::EPIPE) => continue,
                        Err(_) => break,
                    }
                }
            }
            LogCursor::Fake(path, offset) => {
                if let Ok(text) = fs::read(&path) {
                    let new = text.get(offset as usize..).unwrap_or_default();
                    lines.extend(String::from_utf8_lossy(new).lines().map(str::to_string));
                }
            }
        }
        let skip = lines.len().saturating_sub(max);
        lines.split_off(skip)
    }
}

pub struct LiveKernel;

fn cstring(s: &str) -> io::Result<CString> {
    CString::new(s).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

impl Kernel for LiveKernel {
    fn write_attr(&self, path: &Path, value: &str) -> io::Result<()> {
        let mut f = OpenOptions::new().write(true).open(path)?;
        // One write(2): sysfs hands the whole buffer to the attribute's store().
        let n = f.write(value.as_bytes())?;
        if n != value.len() {
            return Err(io::Error::new(io::ErrorKind::WriteZero, "short write"));
        }
        Ok(())
    }

    fn finit_module(&self, file: &File, _name: &str, params: &str) -> io::Result<()> {
        let (flags, compressed) = compressed::init_flags(file)?;
        nix::kmod::finit_module(file, &cstring(params)?, flags)
            .map_err(|e| compressed::explain(io::Error::from(e), compressed))
    }

    fn delete_module(&self, name: &str) -> io::Result<()> {
        nix::kmod::delete_module(&cstring(name)?, DeleteModuleFlags::O_NONBLOCK)
            .map_err(io::Error::from)
    }

    fn is_root(&self) -> bool {
        nix::unistd::geteuid().is_root()
    }

    fn log_cursor(&self) -> Option<LogCursor> {
        use std::io::{Seek, SeekFrom};
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open("/dev/kmsg")
            .ok()?;
        f.seek(SeekFrom::End(0)).ok()?;
        Some(LogCursor::Kmsg(f))
    }
}

/// The kernel simulated on a fake sysfs tree (see the module docs).
pub struct FakeKernel {
    pub sysfs: PathBuf,
}

/// Sidecar file that makes an operation on `path` fail.
pub fn fail_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".klp-fail");
    PathBuf::from(s)
}

fn injected_failure(path: &Path) -> io::Result<()> {
    match fs::read_to_string(fail_path(path)) {
        Ok(s) => Err(io::Error::from_raw_os_error(
            parse_errno(&s).unwrap_or(libc::EIO),
        )),
        Err(_) => Ok(()),
    }
}

impl FakeKernel {
    fn ctl(&self) -> PathBuf {
        self.sysfs.join(".klp-fake")
    }

    fn log(&self, line: &str) {
        let _ = fs::create_dir_all(self.ctl());
        if let Ok(mut f) = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.ctl().join("calls"))
        {
            let _ = writeln!(f, "{line}");
        }
    }
}

impl Kernel for FakeKernel {
    fn write_attr(&self, path: &Path, value: &str) -> io::Result<()> {
        self.log(&format!("write {} {}", path.display(), value.trim()));
        injected_failure(path)?;
        if !path.exists() {
            // sysfs has no O_CREAT: a missing attribute is ENOENT.
            return Err(io::Error::from_raw_os_error(libc::ENOENT));
        }
        fs::write(path, format!("{}\n", value.trim()))
    }

    fn finit_module(&self, file: &File, name: &str, params: &str) -> io::Result<()> {
        let (_, compressed) = compressed::init_flags(file)?;
        let flag = if compressed {
            " MODULE_INIT_COMPRESSED_FILE"
        } else {
            ""
        };
        self.log(format!("finit_module{flag} {name} {params}").trim_end());
        if let Err(e) = injected_failure(&self.ctl().join("finit_module")) {
            // The kernel logs why it refused: `finit_module.kmsg` goes to the log.
            if let Ok(said) = fs::read(self.ctl().join("finit_module.kmsg")) {
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(self.ctl().join("kmsg"))?
                    .write_all(&said)?;
            }
            return Err(compressed::explain(e, compressed));
        }
        let mdir = self.sysfs.join("module").join(name);
        if mdir.join("initstate").exists() {
            return Err(io::Error::from_raw_os_error(libc::EEXIST));
        }
        fs::create_dir_all(&mdir)?;
        fs::write(mdir.join("initstate"), "live\n")?;
        fs::write(mdir.join("refcnt"), "0\n")?;
        fs::write(mdir.join("taint"), "K\n")?;
        let pdir = self.sysfs.join("kernel/livepatch").join(name);
        let staged = self.ctl().join("staged").join(name);
        if staged.is_dir() {
            fs::rename(&staged, &pdir)?;
        } else {
            fs::create_dir_all(pdir.join("vmlinux"))?;
            fs::write(pdir.join("enabled"), "1\n")?;
            fs::write(pdir.join("transition"), "0\n")?;
            fs::write(pdir.join("replace"), "0\n")?;
            fs::write(pdir.join("force"), "")?;
            fs::write(pdir.join("vmlinux/patched"), "1\n")?;
        }
        Ok(())
    }

    fn delete_module(&self, name: &str) -> io::Result<()> {
        self.log(&format!("delete_module {name}"));
        injected_failure(&self.ctl().join("delete_module"))?;
        let mdir = self.sysfs.join("module").join(name);
        if !mdir.is_dir() {
            return Err(io::Error::from_raw_os_error(libc::ENOENT));
        }
        let refcnt = fs::read_to_string(mdir.join("refcnt")).unwrap_or_default();
        if !matches!(refcnt.trim(), "" | "0") {
            return Err(io::Error::from_raw_os_error(libc::EAGAIN));
        }
        fs::remove_dir_all(&mdir)?;
        let pdir = self.sysfs.join("kernel/livepatch").join(name);
        if pdir.exists() {
            fs::remove_dir_all(pdir)?;
        }
        Ok(())
    }

    fn is_root(&self) -> bool {
        !self.ctl().join("not-root").exists()
    }

    fn log_cursor(&self) -> Option<LogCursor> {
        let path = self.ctl().join("kmsg");
        let offset = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        Some(LogCursor::Fake(path, offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_writes_write_the_file_unless_told_to_fail() {
        let d = tempfile::tempdir().unwrap();
        let k = FakeKernel {
            sysfs: d.path().to_path_buf(),
        };
        let f = d.path().join("enabled");
        fs::write(&f, "1\n").unwrap();
        k.write_attr(&f, "0").unwrap();
        assert_eq!(fs::read_to_string(&f).unwrap(), "0\n");
        fs::write(fail_path(&f), "EBUSY\n").unwrap();
        let e = k.write_attr(&f, "1").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EBUSY));
        assert_eq!(
            fs::read_to_string(&f).unwrap(),
            "0\n",
            "a failed write changes nothing"
        );
        let e = k.write_attr(&d.path().join("nope"), "1").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
        let calls = fs::read_to_string(d.path().join(".klp-fake/calls")).unwrap();
        assert_eq!(calls.lines().count(), 3, "{calls}");
    }

    #[test]
    fn fake_delete_module_waits_for_the_refcount() {
        let d = tempfile::tempdir().unwrap();
        let k = FakeKernel {
            sysfs: d.path().to_path_buf(),
        };
        let m = d.path().join("module/m");
        fs::create_dir_all(&m).unwrap();
        fs::write(m.join("refcnt"), "1\n").unwrap();
        assert_eq!(
            k.delete_module("m").unwrap_err().raw_os_error(),
            Some(libc::EAGAIN)
        );
        fs::write(m.join("refcnt"), "0\n").unwrap();
        k.delete_module("m").unwrap();
        assert!(!m.exists());
        assert_eq!(
            k.delete_module("m").unwrap_err().raw_os_error(),
            Some(libc::ENOENT)
        );
    }

    #[test]
    fn live_kernel_write_reports_the_store_error() {
        // A directory cannot be opened for writing: EISDIR comes back as is.
        let d = tempfile::tempdir().unwrap();
        let e = LiveKernel.write_attr(d.path(), "1").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EISDIR));
        let f = d.path().join("attr");
        fs::write(&f, "").unwrap();
        LiveKernel.write_attr(&f, "1").unwrap();
        assert_eq!(fs::read_to_string(&f).unwrap(), "1");
    }
}
