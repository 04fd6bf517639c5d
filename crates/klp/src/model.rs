// SPDX-License-Identifier: GPL-2.0
//! The livepatch sysfs interface, read into plain data.
//!
//! ```text
//! /sys/kernel/livepatch/<patch>/{enabled,transition,force,replace}
//! /sys/kernel/livepatch/<patch>/<object>/patched
//! /sys/kernel/livepatch/<patch>/<object>/<function,sympos>/
//! ```
//! (kernel/livepatch/core.c, Documentation/ABI/testing/sysfs-kernel-livepatch)

use crate::error::{describe_io, KlpError, Result};
use serde::Serialize;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Where the tool looks: the sysfs and procfs roots.
#[derive(Debug, Clone)]
pub struct Env {
    pub sysfs: PathBuf,
    pub proc: PathBuf,
    /// The real kernel: root is required for writes and the module syscalls are real.
    /// Otherwise the fake kernel of the tests (`--fake-kernel`).
    pub live: bool,
    /// `--state-dir`: where installed patches are kept, instead of [`Env::state_dir`]'s default.
    pub state_dir: Option<PathBuf>,
}

impl Env {
    /// The kernel seen through `sysfs` and `proc`; `live` is the real kernel (root checks,
    /// real module syscalls), else the fake kernel of the tests. The roots do not decide it:
    /// a container may see the host's `/sys` elsewhere.
    pub fn new(sysfs: impl Into<PathBuf>, proc: impl Into<PathBuf>, live: bool) -> Env {
        Env {
            sysfs: sysfs.into(),
            proc: proc.into(),
            live,
            state_dir: None,
        }
    }

    pub fn livepatch_dir(&self) -> PathBuf {
        self.sysfs.join("kernel/livepatch")
    }

    pub fn patch_dir(&self, name: &str) -> PathBuf {
        self.livepatch_dir().join(name)
    }

    pub fn module_dir(&self, name: &str) -> PathBuf {
        self.sysfs.join("module").join(name)
    }

    /// Where `klp install` keeps patch modules, one directory per kernel release:
    /// `--state-dir`, else `/var/lib/klp`, or `var/lib/klp` beside the fake tree's `sys/`.
    pub fn state_dir(&self) -> PathBuf {
        if let Some(dir) = &self.state_dir {
            dir.clone()
        } else if self.live {
            PathBuf::from("/var/lib/klp")
        } else {
            self.sysfs.join("../var/lib/klp")
        }
    }

    /// The running kernel's release (`uname -r`), from `/proc/sys/kernel/osrelease`.
    pub fn kernel_release(&self) -> Result<String> {
        let p = self.proc.join("sys/kernel/osrelease");
        read_attr(&p).map_err(|e| KlpError::io(p.display(), &e))
    }

    /// No `/sys/kernel/livepatch`: a kernel without CONFIG_LIVEPATCH.
    pub fn check_support(&self) -> Result<()> {
        let dir = self.livepatch_dir();
        if dir.is_dir() {
            Ok(())
        } else {
            Err(KlpError::error(format!(
                "no livepatch support: {} does not exist (kernel built without CONFIG_LIVEPATCH?)",
                dir.display()
            )))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Function {
    /// The patched (old) function's name.
    pub name: String,
    /// Its position among same-named symbols of the object (the kernel shows 1 for 0).
    pub sympos: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Object {
    /// `vmlinux` or a module name.
    pub name: String,
    /// vmlinux always; a module when `/sys/module/<name>/initstate` exists.
    pub loaded: bool,
    /// `<object>/patched`; None on kernels older than 6.1 (no such file).
    pub patched: Option<bool>,
    pub functions: Vec<Function>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Patch {
    pub name: String,
    pub enabled: bool,
    pub transition: bool,
    /// `replace` (atomic replace); None on kernels older than 6.11.
    pub replace: Option<bool>,
    /// `stack_order` (Linux 6.14): the patch's position on the function
    /// stacks, 1 for the oldest; None on older kernels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack_order: Option<u64>,
    pub objects: Vec<Object>,
}

impl Patch {
    /// applied | disabled | patching | unpatching
    pub fn state(&self) -> &'static str {
        match (self.transition, self.enabled) {
            (true, true) => "patching",
            (true, false) => "unpatching",
            (false, true) => "applied",
            (false, false) => "disabled",
        }
    }

    /// The patch_state tasks move to during this patch's transition:
    /// 1 (patched) when `enabled` reads 1, 0 (unpatched) otherwise.
    pub fn target_state(&self) -> Option<i32> {
        self.transition.then_some(if self.enabled { 1 } else { 0 })
    }

    pub fn function_count(&self) -> usize {
        self.objects.iter().map(|o| o.functions.len()).sum()
    }
}

/// The patch module as the module loader shows it in `/sys/module/<name>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModuleInfo {
    pub loaded: bool,
    pub initstate: Option<String>,
    pub refcnt: Option<u64>,
    /// `taint` holds `K` (TAINT_LIVEPATCH): the loader saw livepatch=Y.
    pub livepatch: bool,
}

pub fn read_attr(path: &Path) -> io::Result<String> {
    fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .map_err(going_away_is_not_found)
}

/// A sysfs attribute whose kobject the kernel is removing (a patch being freed) fails with
/// ENODEV rather than ENOENT: either way the file is gone.
fn going_away_is_not_found(e: io::Error) -> io::Error {
    if e.raw_os_error() == Some(libc::ENODEV) {
        io::Error::new(io::ErrorKind::NotFound, e)
    } else {
        e
    }
}

pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim() {
        "1" | "Y" | "y" => Some(true),
        "0" | "N" | "n" => Some(false),
        _ => None,
    }
}

fn read_bool(path: &Path) -> io::Result<bool> {
    let s = read_attr(path)?;
    parse_bool(&s).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("unexpected value {s:?}"),
        )
    })
}

fn read_opt_bool(path: &Path) -> io::Result<Option<bool>> {
    match read_bool(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reject names that are not a single path component.
pub fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        return Err(KlpError::not_found(format!(
            "unknown livepatch {name:?}: not a valid patch name"
        )));
    }
    Ok(())
}

/// The patch a user's argument names: a module name as `rmmod` takes it, with `-` read as
/// `_` (the kernel's module names have `_` only) and a module file's `.ko` suffix, compressed
/// or not, dropped. `x-y.ko` and `x-y` both name the patch `x_y`.
pub fn patch_name(arg: &str) -> Result<String> {
    let base = [".ko.xz", ".ko.zst", ".ko.gz", ".ko"]
        .iter()
        .find_map(|suffix| arg.strip_suffix(suffix))
        .unwrap_or(arg);
    let name = base.replace('-', "_");
    check_name(&name)?;
    Ok(name)
}

/// The names of the loaded patches, sorted.
pub fn patch_names(env: &Env) -> Result<Vec<String>> {
    env.check_support()?;
    let dir = env.livepatch_dir();
    let rd = fs::read_dir(&dir).map_err(|e| KlpError::io(dir.display(), &e))?;
    let mut names: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    Ok(names)
}

fn subdirs(dir: &Path) -> io::Result<Vec<String>> {
    let mut v: Vec<String> = fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    v.sort();
    Ok(v)
}

/// `<func>,<sympos>`; the function name itself may not hold a comma.
pub fn parse_function_dir(s: &str) -> Function {
    match s.rsplit_once(',') {
        Some((name, pos)) if pos.parse::<u64>().is_ok() => Function {
            name: name.to_string(),
            sympos: pos.parse().unwrap_or(0),
        },
        _ => Function {
            name: s.to_string(),
            sympos: 0,
        },
    }
}

pub fn read_module(env: &Env, name: &str) -> ModuleInfo {
    let dir = env.module_dir(name);
    let initstate = read_attr(&dir.join("initstate")).ok();
    ModuleInfo {
        loaded: initstate.is_some(),
        initstate,
        refcnt: read_attr(&dir.join("refcnt"))
            .ok()
            .and_then(|s| s.parse().ok()),
        livepatch: read_attr(&dir.join("taint"))
            .map(|t| t.contains('K'))
            .unwrap_or(false),
    }
}

/// The error for a patch that is not (or no longer) in sysfs, with hints.
pub fn unknown_patch(env: &Env, name: &str) -> KlpError {
    let mut msg = format!("unknown livepatch '{name}'");
    if read_module(env, name).livepatch {
        msg.push_str(&format!(
            ": module '{name}' is still loaded but its patch was disabled and freed \
             (Linux 6.12 cannot re-enable a disabled patch: `klp unload {name}` and load it again)"
        ));
        return KlpError::not_found(msg);
    }
    match patch_names(env) {
        Ok(names) if names.is_empty() => msg.push_str(" (no livepatches loaded)"),
        Ok(names) => msg.push_str(&format!(" (loaded: {})", names.join(", "))),
        Err(_) => {}
    }
    KlpError::not_found(msg)
}

fn patch_io_error(env: &Env, name: &str, path: &Path, e: &io::Error) -> KlpError {
    if e.kind() == io::ErrorKind::NotFound {
        // The patch went away while we read it.
        unknown_patch(env, name)
    } else {
        KlpError::error(format!("{}: {}", path.display(), describe_io(e)))
    }
}

/// Read one patch with its objects and functions.
pub fn read_patch(env: &Env, name: &str) -> Result<Patch> {
    check_name(name)?;
    env.check_support()?;
    let dir = env.patch_dir(name);
    if !dir.is_dir() {
        return Err(unknown_patch(env, name));
    }
    let rd = |attr: &str| {
        let p = dir.join(attr);
        read_bool(&p).map_err(|e| patch_io_error(env, name, &p, &e))
    };
    let enabled = rd("enabled")?;
    let transition = rd("transition")?;
    let replace = read_opt_bool(&dir.join("replace"))
        .map_err(|e| patch_io_error(env, name, &dir.join("replace"), &e))?;
    let stack_order = match read_attr(&dir.join("stack_order")) {
        Ok(s) => Some(s.parse().map_err(|_| {
            KlpError::error(format!(
                "{}: unexpected value {s:?} (a number was expected)",
                dir.join("stack_order").display()
            ))
        })?),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(patch_io_error(env, name, &dir.join("stack_order"), &e)),
    };

    let mut names = subdirs(&dir).map_err(|e| patch_io_error(env, name, &dir, &e))?;
    // vmlinux first, then the modules by name.
    if let Some(i) = names.iter().position(|n| n == "vmlinux") {
        let v = names.remove(i);
        names.insert(0, v);
    }
    let mut objects = Vec::new();
    for obj in names {
        let odir = dir.join(&obj);
        let patched = read_opt_bool(&odir.join("patched"))
            .map_err(|e| patch_io_error(env, name, &odir.join("patched"), &e))?;
        let functions = subdirs(&odir)
            .map_err(|e| patch_io_error(env, name, &odir, &e))?
            .iter()
            .map(|f| parse_function_dir(f))
            .collect();
        let loaded = obj == "vmlinux" || read_module(env, &obj).loaded;
        objects.push(Object {
            name: obj,
            loaded,
            patched,
            functions,
        });
    }
    Ok(Patch {
        name: name.to_string(),
        enabled,
        transition,
        replace,
        stack_order,
        objects,
    })
}

/// Every loaded patch (patches that vanish while we read are skipped).
pub fn list_patches(env: &Env) -> Result<Vec<Patch>> {
    let (patches, mut unreadable) = read_patches(env)?;
    match unreadable.pop() {
        Some((_, e)) => Err(e),
        None => Ok(patches),
    }
}

/// A patch whose directory could not be read: its name and the error.
pub type Unreadable = (String, KlpError);

/// Every loaded patch that could be read, and the name and error of each that could not (a
/// malformed or unreadable directory); patches that vanish while we read are skipped.
pub fn read_patches(env: &Env) -> Result<(Vec<Patch>, Vec<Unreadable>)> {
    let (mut patches, mut unreadable) = (Vec::new(), Vec::new());
    for name in patch_names(env)? {
        match read_patch(env, &name) {
            Ok(p) => patches.push(p),
            Err(e) if e.kind == crate::error::Kind::NotFound => {}
            Err(e) => unreadable.push((name, e)),
        }
    }
    Ok((patches, unreadable))
}

/// The directory of the patches installed for `release` (`klp install`).
pub fn release_dir(env: &Env, release: &str) -> Result<PathBuf> {
    check_name(release).map_err(|_| {
        KlpError::new(
            crate::error::Kind::Usage,
            format!("'{release}' is not a kernel release"),
        )
    })?;
    Ok(env.state_dir().join(release))
}

/// The installed module of patch `name` for the running kernel, if any.
pub fn installed_module(env: &Env, name: &str) -> Result<Option<PathBuf>> {
    let file = release_dir(env, &env.kernel_release()?)?.join(format!("{}.ko", patch_name(name)?));
    Ok(file.is_file().then_some(file))
}

/// The modules installed for the running kernel, by name.
pub fn installed_modules(env: &Env) -> Result<Vec<PathBuf>> {
    let dir = release_dir(env, &env.kernel_release()?)?;
    let mut files: Vec<PathBuf> = match fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "ko"))
            .collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(KlpError::io(dir.display(), &e)),
    };
    files.sort();
    Ok(files)
}

/// The loaded livepatch modules (taint `K`) that have no patch in sysfs: patches replaced by
/// an atomic replace, or disabled, whose modules were not removed.
pub fn orphan_modules(env: &Env) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(env.sysfs.join("module"))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| read_module(env, n).livepatch && !env.patch_dir(n).exists())
        .collect();
    names.sort();
    names
}

/// The patch in transition, if any (only one transition runs system-wide).
pub fn transition_patch(env: &Env) -> Option<String> {
    patch_names(env).ok()?.into_iter().find(|n| {
        read_attr(&env.patch_dir(n).join("transition"))
            .ok()
            .and_then(|s| parse_bool(&s))
            .unwrap_or(false)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::FakeTree;

    #[test]
    fn function_dirs_split_on_the_last_comma() {
        assert_eq!(
            parse_function_dir("cmdline_proc_show,1"),
            Function {
                name: "cmdline_proc_show".into(),
                sympos: 1
            }
        );
        assert_eq!(parse_function_dir("foo.isra.0,2").name, "foo.isra.0");
        assert_eq!(parse_function_dir("foo.isra.0,2").sympos, 2);
        assert_eq!(parse_function_dir("odd").sympos, 0);
    }

    #[test]
    fn reads_a_patch_with_objects_and_functions() {
        let t = FakeTree::temp();
        t.patch("p1", true, false)
            .object("vmlinux", true, &["cmdline_proc_show,1"])
            .object("zmod", false, &["zfunc,1", "yfunc,2"])
            .object("amod", true, &[]);
        t.module("amod", 0, false);
        let p = read_patch(&t.env(), "p1").unwrap();
        assert!(p.enabled && !p.transition);
        assert_eq!(p.replace, Some(false));
        let names: Vec<_> = p.objects.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["vmlinux", "amod", "zmod"]);
        assert!(p.objects[0].loaded);
        assert!(p.objects[1].loaded, "amod has /sys/module/amod/initstate");
        assert!(!p.objects[2].loaded);
        assert_eq!(p.objects[2].patched, Some(false));
        assert_eq!(p.objects[2].functions.len(), 2);
        assert_eq!(p.objects[2].functions[0].name, "yfunc");
        assert_eq!(p.function_count(), 3);
        assert_eq!(p.state(), "applied");
        assert_eq!(p.target_state(), None);
    }

    #[test]
    fn state_and_target_follow_enabled_during_a_transition() {
        let t = FakeTree::temp();
        t.patch("p", false, true);
        let p = read_patch(&t.env(), "p").unwrap();
        assert_eq!(p.state(), "unpatching");
        assert_eq!(p.target_state(), Some(0));
        t.set("kernel/livepatch/p/enabled", "1");
        let p = read_patch(&t.env(), "p").unwrap();
        assert_eq!(p.state(), "patching");
        assert_eq!(p.target_state(), Some(1));
        assert_eq!(transition_patch(&t.env()).as_deref(), Some("p"));
    }

    #[test]
    fn unknown_patch_names_the_loaded_ones() {
        let t = FakeTree::temp();
        t.patch("a", true, false);
        t.patch("b", true, false);
        let e = read_patch(&t.env(), "c").unwrap_err();
        assert_eq!(e.kind, crate::error::Kind::NotFound);
        assert!(e.message.contains("loaded: a, b"), "{}", e.message);
        let e = read_patch(&t.env(), "../a").unwrap_err();
        assert_eq!(e.kind, crate::error::Kind::NotFound);
    }

    #[test]
    fn unknown_patch_explains_a_freed_patch_of_a_loaded_module() {
        let t = FakeTree::temp();
        t.module("gone", 1, true);
        let e = read_patch(&t.env(), "gone").unwrap_err();
        assert!(e.message.contains("cannot re-enable"), "{}", e.message);
    }

    #[test]
    fn missing_livepatch_dir_means_no_support() {
        let t = tempfile::tempdir().unwrap();
        let env = Env::new(t.path(), t.path(), false);
        let e = list_patches(&env).unwrap_err();
        assert_eq!(e.kind, crate::error::Kind::Error);
        assert!(e.message.contains("no livepatch support"), "{}", e.message);
    }

    #[test]
    fn an_attribute_going_away_reads_as_not_found() {
        let e = going_away_is_not_found(io::Error::from_raw_os_error(libc::ENODEV));
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        let e = going_away_is_not_found(io::Error::from_raw_os_error(libc::EIO));
        assert_eq!(e.raw_os_error(), Some(libc::EIO));
    }

    #[test]
    fn garbage_in_enabled_is_an_error_not_a_panic() {
        let t = FakeTree::temp();
        t.patch("p", true, false);
        t.set("kernel/livepatch/p/enabled", "maybe");
        let e = read_patch(&t.env(), "p").unwrap_err();
        assert!(e.message.contains("maybe"), "{}", e.message);
    }
}
