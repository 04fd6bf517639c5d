// SPDX-License-Identifier: GPL-2.0
//! Compiling a copy of a source file with the command kbuild recorded for it,
//! into a temporary directory, on the host or in the root the kernel was built in.
//!
//! The command runs in the build directory, as kbuild ran it, with these changes:
//! the source is the copy (`TMP/a/fs/proc/cmdline.c`, the patched one in `TMP/b`),
//! the object goes next to it, the dependency file (`-Wp,-MMD,...`) is not written,
//! and it gets `-ffunction-sections -fdata-sections` (one section per function and
//! per data object, to compare them one by one), `-iquote` the file's directory in
//! the source tree (its `#include "..."` headers), `-ffile-prefix-map=TMP/a/=`
//! (`__FILE__` reads `fs/proc/cmdline.c`, as in the kernel's build) and, last,
//! `-g -gdwarf-5` (DWARF, for the functions' prototypes, over any `-g0`).
//!
//! When the build directory's commands name the source tree by another path than
//! `--src` (the kernel was built in a chroot, e.g. rust-klp's toolchain root, where
//! the host's `~/.cache/rust-klp/work` is `/klp`), `--root DIR` runs them in that
//! root: `unshare --mount` then `chroot`, with the host directory that holds the
//! source tree bound read-only where the commands expect it (the path components
//! that `--src` and the commands' source tree share at their end are the same
//! directory: `/klp/linux` is `~/.cache/rust-klp/work/linux`, so `/klp` is
//! `~/.cache/rust-klp/work`), and the temporary directory at `/tmp/klp-build`.
//! That needs root. Nothing is written to the source tree or the build directory.

use super::kbuild::Recorded;
use crate::error::{KlpError, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the temporary directory is inside a root.
const TMP_IN_ROOT: &str = "/tmp/klp-build";

/// Mounts, then runs the command in the root: `$1` root, `$2` host directory,
/// `$3` where the root sees it, `$4` the temporary directory, `$5` where the
/// root sees it, `$6` the working directory in the root; then the command.
const IN_ROOT: &str = r#"r=$1 host=$2 inside=$3 tmp=$4 tmp_in=$5 cwd=$6; shift 6
mount --bind "$host" "$r$inside"
mount -o remount,bind,ro "$r$inside"
mount -t tmpfs tmpfs "$r/tmp"
mkdir -p "$r$tmp_in"
mount --bind "$tmp" "$r$tmp_in"
mount --rbind /dev "$r/dev"
mount -t proc proc "$r/proc"
exec chroot "$r" /usr/bin/env -i LANG=C.UTF-8 \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	/bin/sh -c 'cd "$1" && shift && exec "$@"' klp-build "$cwd" "$@"
"#;

/// Where the compiler runs, and what it sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compiler {
    root: Option<Root>,
    /// The build directory, as the command sees it.
    cwd: PathBuf,
    /// The temporary directory on the host, and as the command sees it.
    tmp: PathBuf,
    tmp_seen: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Root {
    dir: PathBuf,
    /// The host directory that the commands see at `inside`.
    host: PathBuf,
    inside: PathBuf,
}

impl Compiler {
    /// Where to run commands that see the source tree at `srctree` (from the
    /// `.cmd` files), for the host's `src` and `build` directories.
    pub fn new(
        src: &Path,
        build: &Path,
        srctree: &str,
        root: Option<&Path>,
        tmp: &Path,
    ) -> Result<Compiler> {
        let canon = |p: &Path| p.canonicalize().map_err(|e| KlpError::io(p.display(), &e));
        let (src, build) = (canon(src)?, canon(build)?);
        let host = |cwd: PathBuf| Compiler {
            root: None,
            cwd,
            tmp: tmp.to_path_buf(),
            tmp_seen: tmp.to_path_buf(),
        };
        if srctree == "." {
            return if src == build {
                Ok(host(build))
            } else {
                Err(KlpError::error(format!(
                    "{} was built in its source tree (no O=): pass it as both --src and --build",
                    build.display()
                )))
            };
        }
        let seen = Path::new(srctree);
        let Some(root) = root else {
            return if src == seen {
                Ok(host(build))
            } else {
                Err(KlpError::error(format!(
                    "the commands in {} compile the source tree at {srctree}, not at {}: the \
                     kernel was built in another root; pass it as --root DIR (rust-klp's: \
                     ~/.cache/rust-klp/root)",
                    build.display(),
                    src.display()
                )))
            };
        };
        let (host_dir, inside) = common_parent(&src, seen);
        let cwd = build
            .strip_prefix(&host_dir)
            .map(|rel| inside.join(rel))
            .map_err(|_| {
                KlpError::error(format!(
                    "{} is not under {}, which the root sees as {}: klp build binds only \
                     that directory into the root",
                    build.display(),
                    host_dir.display(),
                    inside.display()
                ))
            })?;
        Ok(Compiler {
            root: Some(Root {
                dir: canon(root)?,
                host: host_dir,
                inside,
            }),
            cwd,
            tmp: tmp.to_path_buf(),
            tmp_seen: PathBuf::from(TMP_IN_ROOT),
        })
    }

    /// A path under the temporary directory, as the command sees it.
    fn seen(&self, path: &Path) -> PathBuf {
        match path.strip_prefix(&self.tmp) {
            Ok(rel) => self.tmp_seen.join(rel),
            Err(_) => path.to_path_buf(),
        }
    }

    /// Compiles the copy of `rec.file` under `copies` (a directory under the
    /// temporary directory) into `copies/<object>`, which it returns.
    pub fn compile(&self, rec: &Recorded, copies: &Path, what: &str) -> Result<PathBuf> {
        let object = copies.join(&rec.object);
        let argv = rewrite(
            rec,
            &self.seen(copies).to_string_lossy(),
            &self.seen(&object).to_string_lossy(),
        );
        self.run(&argv, &format!("compiling the {what} {}", rec.file))?;
        Ok(object)
    }

    /// The build directory, as the commands see it.
    /// Refuses another compiler than the kernel's: the first line of `cc
    /// --version`, run as the compiles are, must be the `CONFIG_CC_VERSION_TEXT`
    /// of `build`'s `.config` (which kbuild takes from the same line).
    pub fn check_compiler(&self, build: &Path, cc: &str) -> Result<()> {
        let config = build.join(".config");
        let text = fs::read_to_string(&config)
            .map_err(|e| KlpError::io(format!("reading {}", config.display()), &e))?;
        let want = text
            .lines()
            .find_map(|l| l.strip_prefix("CONFIG_CC_VERSION_TEXT="))
            .map(|v| v.trim_matches('"').to_string())
            .ok_or_else(|| {
                KlpError::error(format!(
                    "{} has no CONFIG_CC_VERSION_TEXT (a kernel older than 5.8?)",
                    config.display()
                ))
            })?;
        let said = self.run(
            &[cc.to_string(), "--version".to_string()],
            &format!("running {cc} --version"),
        )?;
        let got = said.lines().next().unwrap_or_default().trim();
        if got != want {
            return Err(KlpError::error(format!(
                "the kernel was built with '{want}', but {cc} here is '{got}': build the \
                 patch with the compiler that built the kernel (--root: the root it was \
                 built in)"
            )));
        }
        Ok(())
    }

    pub fn build_dir(&self) -> &Path {
        &self.cwd
    }

    /// A directory under the temporary directory, as the commands see it.
    pub fn seen_path(&self, path: &Path) -> PathBuf {
        self.seen(path)
    }

    /// Runs `argv` in the build directory (in the root, if there is one); on
    /// failure the error says `doing` failed, with the last lines of its output.
    pub fn run(&self, argv: &[String], doing: &str) -> Result<String> {
        let mut cmd = match &self.root {
            None => {
                let mut c = Command::new(&argv[0]);
                c.args(&argv[1..]).current_dir(&self.cwd);
                c
            }
            Some(r) => {
                let mut c = Command::new("unshare");
                c.args([
                    "--mount",
                    "--propagation",
                    "private",
                    "--",
                    "/bin/sh",
                    "-eu",
                    "-c",
                ])
                .arg(IN_ROOT)
                .arg("klp-build")
                .args([
                    &r.dir,
                    &r.host,
                    &r.inside,
                    &self.tmp,
                    &self.tmp_seen,
                    &self.cwd,
                ])
                .args(argv);
                c
            }
        };
        let out = cmd
            .output()
            .map_err(|e| KlpError::io(format!("running {}", argv[0]), &e))?;
        let mut said = String::from_utf8_lossy(&out.stdout).into_owned();
        said.push_str(&String::from_utf8_lossy(&out.stderr));
        if !out.status.success() {
            let lines: Vec<&str> = said.lines().collect();
            let tail = lines[lines.len().saturating_sub(30)..].join("\n");
            return Err(KlpError::error(format!(
                "{doing} failed ({}):\n{tail}\nthe command (in {}): {}",
                out.status,
                self.cwd.display(),
                argv.join(" ")
            )));
        }
        Ok(said)
    }
}

/// The host directory and the path the commands see it at, from the source tree's
/// path on each side: what is left once the path components they end with alike
/// are removed from both (`~/.cache/rust-klp/work` and `/klp` for
/// `~/.cache/rust-klp/work/linux` and `/klp/linux`).
fn common_parent(host: &Path, seen: &Path) -> (PathBuf, PathBuf) {
    let (mut host, mut seen) = (host.to_path_buf(), seen.to_path_buf());
    while host.file_name().is_some() && host.file_name() == seen.file_name() {
        host.pop();
        seen.pop();
    }
    (host, seen)
}

/// The recorded command, compiling the copy under `copies` into `object` (both
/// as the command sees them).
fn rewrite(rec: &Recorded, copies: &str, object: &str) -> Vec<String> {
    let mut argv = Vec::with_capacity(rec.argv.len() + 6);
    let mut words = rec.argv.iter();
    while let Some(w) = words.next() {
        if w.starts_with("-Wp,-MMD,") || w.starts_with("-Wp,-MD,") {
            continue;
        }
        if w == "-o" {
            words.next();
            argv.extend(["-o".to_string(), object.to_string()]);
        } else if *w == rec.source {
            argv.push(format!("{copies}/{}", rec.file));
        } else {
            argv.push(w.clone());
        }
    }
    let dir = Path::new(&rec.file).parent().unwrap_or(Path::new(""));
    argv.extend([
        "-iquote".to_string(),
        format!("{}/{}", rec.srctree(), dir.display()),
        format!("-ffile-prefix-map={copies}/="),
        "-ffunction-sections".to_string(),
        "-fdata-sections".to_string(),
        // DWARF, for the prototypes of the functions (after any -g0 of the
        // recorded flags, which the last -g overrides).
        "-g".to_string(),
        "-gdwarf-5".to_string(),
    ]);
    argv
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded() -> Recorded {
        let words = "clang -Wp,-MMD,fs/proc/.cmdline.o.d -I/klp/linux/include -Ifs/proc \
                     -DKBUILD_BASENAME=\"cmdline\" -c -o fs/proc/cmdline.o \
                     /klp/linux/fs/proc/cmdline.c";
        Recorded {
            file: "fs/proc/cmdline.c".into(),
            object: "fs/proc/cmdline.o".into(),
            argv: words.split_whitespace().map(String::from).collect(),
            source: "/klp/linux/fs/proc/cmdline.c".into(),
            module: None,
        }
    }

    #[test]
    fn the_command_compiles_the_copy_into_the_temporary_directory() {
        let argv = rewrite(
            &recorded(),
            "/tmp/klp-build/b",
            "/tmp/klp-build/b/fs/proc/cmdline.o",
        );
        assert_eq!(
            argv.join(" "),
            "clang -I/klp/linux/include -Ifs/proc -DKBUILD_BASENAME=\"cmdline\" -c \
             -o /tmp/klp-build/b/fs/proc/cmdline.o /tmp/klp-build/b/fs/proc/cmdline.c \
             -iquote /klp/linux/fs/proc -ffile-prefix-map=/tmp/klp-build/b/= \
             -ffunction-sections -fdata-sections -g -gdwarf-5"
        );
    }

    #[test]
    fn the_root_sees_the_directory_both_source_paths_end_in() {
        assert_eq!(
            common_parent(
                Path::new("/root/.cache/rust-klp/work/linux"),
                Path::new("/klp/linux")
            ),
            (
                PathBuf::from("/root/.cache/rust-klp/work"),
                PathBuf::from("/klp")
            )
        );
        assert_eq!(
            common_parent(Path::new("/home/me/src"), Path::new("/build/linux")),
            (PathBuf::from("/home/me/src"), PathBuf::from("/build/linux"))
        );
    }

    #[test]
    fn a_build_in_a_root_is_run_there_and_the_build_dir_must_be_in_view() {
        let d = tempfile::tempdir().unwrap();
        let work = d.path().canonicalize().unwrap();
        for sub in ["linux", "build-rust", "root"] {
            std::fs::create_dir(work.join(sub)).unwrap();
        }
        let tmp = Path::new("/tmp/x");
        let (src, build) = (work.join("linux"), work.join("build-rust"));
        let e = Compiler::new(&src, &build, "/klp/linux", None, tmp).unwrap_err();
        assert!(e.message.contains("pass it as --root DIR"), "{}", e.message);
        let c = Compiler::new(&src, &build, "/klp/linux", Some(&work.join("root")), tmp).unwrap();
        assert_eq!(c.cwd, Path::new("/klp/build-rust"));
        assert_eq!(
            c.seen(&tmp.join("a/x.o")),
            Path::new("/tmp/klp-build/a/x.o")
        );
        let r = c.root.unwrap();
        assert_eq!((r.host, r.inside), (work.clone(), PathBuf::from("/klp")));
        let outside = tempfile::tempdir().unwrap();
        let e = Compiler::new(
            &src,
            outside.path(),
            "/klp/linux",
            Some(&work.join("root")),
            tmp,
        )
        .unwrap_err();
        assert!(
            e.message.contains("which the root sees as /klp"),
            "{}",
            e.message
        );
        let c = Compiler::new(&src, &build, src.to_str().unwrap(), None, tmp).unwrap();
        assert_eq!((c.root, c.cwd), (None, build.clone()));
        let e = Compiler::new(&src, &build, ".", None, tmp).unwrap_err();
        assert!(
            e.message.contains("built in its source tree"),
            "{}",
            e.message
        );
    }
}
