// SPDX-License-Identifier: GPL-2.0
//! What kbuild recorded about an object: the `.<obj>.o.cmd` file of the build
//! directory, with the command that compiled it (`savedcmd_<obj> := ...`, Linux
//! 6.3 and later) and its source (`source_<obj> := ...`); for an object of a
//! module (`-DMODULE`), the module (`KBUILD_MODNAME`, `modules.order`).

use crate::error::{KlpError, Result};
use std::fs;
use std::path::{Path, PathBuf};

/// How one `.c` file of the source tree was compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The source file, relative to the source tree (`fs/proc/cmdline.c`).
    pub file: String,
    /// The object, relative to the build directory (`fs/proc/cmdline.o`).
    pub object: String,
    /// The compiler's command line, split into words; run in the build directory.
    pub argv: Vec<String>,
    /// The source file as the command names it (`/klp/linux/fs/proc/cmdline.c`).
    pub source: String,
    /// The module the object is built into (`binfmt_misc`), `None` for vmlinux.
    pub module: Option<String>,
}

impl Recorded {
    /// The source tree as the command sees it: `source` without `file`
    /// (`/klp/linux`; `.` for a build in the source tree).
    pub fn srctree(&self) -> &str {
        match self
            .source
            .strip_suffix(&self.file)
            .and_then(|d| d.strip_suffix('/'))
        {
            Some("") => "/",
            Some(dir) => dir,
            None => ".",
        }
    }
}

/// `BUILD/fs/proc/.cmdline.o.cmd` for `fs/proc/cmdline.c`.
pub fn cmd_file(build: &Path, object: &str) -> PathBuf {
    let obj = Path::new(object);
    let name = obj.file_name().unwrap_or_default().to_string_lossy();
    build
        .join(obj.parent().unwrap_or(Path::new("")))
        .join(format!(".{name}.cmd"))
}

/// Reads how `file` (a `.c` file relative to the source tree) was compiled.
pub fn recorded(build: &Path, file: &str) -> Result<Recorded> {
    let object = format!("{}.o", file.strip_suffix(".c").unwrap_or(file));
    let path = cmd_file(build, &object);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(KlpError::error(format!(
                "{file} is not built in this configuration (no {}): its CONFIG option is \
                 off, or it is #included by another file; enable it and build the kernel, \
                 or patch a file that is built",
                path.display()
            )))
        }
        Err(e) => return Err(KlpError::io(format!("reading {}", path.display()), &e)),
    };
    parse(file, &object, &text)
        .map_err(|what| KlpError::error(format!("{}: {what}", path.display())))
}

fn parse(file: &str, object: &str, text: &str) -> std::result::Result<Recorded, String> {
    let value = |key: &str| {
        let prefix = format!("{key}_{object} := ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .map(str::trim)
    };
    let command = value("savedcmd")
        .ok_or_else(|| format!("no 'savedcmd_{object} := ' line (a kernel older than 6.3?)"))?;
    let source = value("source")
        .ok_or_else(|| format!("no 'source_{object} := ' line"))?
        .to_string();
    let mut argv = shlex::split(command).ok_or("the command's quotes do not balance")?;
    // kbuild may append `; objtool ...` (or `; ld -r` for single-object modules):
    // the first command is the compiler's.
    if let Some(end) = argv.iter().position(|w| w == ";" || w == "&&") {
        argv.truncate(end);
    }
    let has = |w: &str| argv.iter().any(|a| a == w);
    let outputs_object = argv.windows(2).any(|w| w[0] == "-o" && w[1] == object);
    if !has("-c")
        || !outputs_object
        || !has(&source)
        || !(source == file || source.ends_with(&format!("/{file}")))
    {
        return Err(format!(
            "'{}' does not compile {source} into {object} with -c and -o",
            argv.join(" ")
        ));
    }
    let module = if has("-DMODULE") {
        let name = argv
            .iter()
            .find_map(|a| a.strip_prefix("-DKBUILD_MODNAME="))
            .map(|n| n.trim_matches('"').to_string())
            .ok_or("a module's object (-DMODULE) without -DKBUILD_MODNAME")?;
        Some(name)
    } else {
        None
    };
    Ok(Recorded {
        file: file.to_string(),
        object: object.to_string(),
        argv,
        source,
        module,
    })
}

/// The `.ko` of the module `name` that `rec`'s object is built into: the entry
/// of `BUILD/modules.order` of that name (`-` read as `_`, as kbuild names
/// modules) in the object's directory or the nearest one above it.
pub fn module_ko(build: &Path, rec: &Recorded, name: &str) -> Result<PathBuf> {
    let order = build.join("modules.order");
    let text = fs::read_to_string(&order).map_err(|e| {
        KlpError::io(
            format!(
                "reading {} (build the kernel's modules first)",
                order.display()
            ),
            &e,
        )
    })?;
    let entry = module_entry(&text, &rec.object, name).ok_or_else(|| {
        KlpError::error(format!(
            "{} is built into the module {name}, which {} does not list: build the \
             kernel's modules first",
            rec.file,
            order.display()
        ))
    })?;
    Ok(build.join(format!("{}.ko", entry.strip_suffix(".o").unwrap_or(entry))))
}

/// The line of `modules.order` (`fs/binfmt_misc.o`) for the module `name` that
/// `object` is part of: the longest directory prefix wins.
fn module_entry<'a>(order: &'a str, object: &str, name: &str) -> Option<&'a str> {
    order
        .lines()
        .map(str::trim)
        .filter(|l| {
            let stem = Path::new(l)
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy();
            stem.replace('-', "_") == name
        })
        .filter_map(|l| {
            let dir = Path::new(l).parent()?;
            Path::new(object)
                .starts_with(dir)
                .then_some((dir.components().count(), l))
        })
        .max_by_key(|(depth, _)| *depth)
        .map(|(_, l)| l)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shortened 6.12 .cmd file, as kbuild writes it for an O= build.
    const CMDLINE_CMD: &str = "\
savedcmd_fs/proc/cmdline.o := clang -Wp,-MMD,fs/proc/.cmdline.o.d -nostdinc \
-I/klp/linux/include -I./include -include /klp/linux/include/linux/kconfig.h \
-fmacro-prefix-map=/klp/linux/= -O2 -I/klp/linux/fs/proc -Ifs/proc \
-DKBUILD_MODFILE='\"fs/proc/cmdline\"' -DKBUILD_BASENAME='\"cmdline\"' \
-c -o fs/proc/cmdline.o /klp/linux/fs/proc/cmdline.c ; ./tools/objtool/objtool --hacks=jump_label fs/proc/cmdline.o

source_fs/proc/cmdline.o := /klp/linux/fs/proc/cmdline.c

deps_fs/proc/cmdline.o := \\
  /klp/linux/include/linux/compiler-version.h \\
";

    #[test]
    fn the_compile_command_and_source_are_read() {
        let r = parse("fs/proc/cmdline.c", "fs/proc/cmdline.o", CMDLINE_CMD).unwrap();
        assert_eq!(r.argv[0], "clang");
        assert_eq!(r.argv[1], "-Wp,-MMD,fs/proc/.cmdline.o.d");
        assert!(r
            .argv
            .contains(&"-DKBUILD_MODFILE=\"fs/proc/cmdline\"".to_string()));
        assert_eq!(r.argv.last().unwrap(), "/klp/linux/fs/proc/cmdline.c");
        assert_eq!(r.source, "/klp/linux/fs/proc/cmdline.c");
        assert_eq!(r.srctree(), "/klp/linux");
        assert_eq!(r.object, "fs/proc/cmdline.o");
        assert_eq!(r.module, None);
    }

    #[test]
    fn an_object_of_a_module_names_it() {
        let text = "savedcmd_fs/binfmt_misc.o := clang -DMODULE \
                    -DKBUILD_MODNAME='\"binfmt_misc\"' -c -o fs/binfmt_misc.o /s/fs/binfmt_misc.c\n\
                    source_fs/binfmt_misc.o := /s/fs/binfmt_misc.c\n";
        let r = parse("fs/binfmt_misc.c", "fs/binfmt_misc.o", text).unwrap();
        assert_eq!(r.module.as_deref(), Some("binfmt_misc"));
        let order = "drivers/a/x-y.o\nfs/binfmt_misc.o\ndrivers/x_y.o\n";
        assert_eq!(
            module_entry(order, "fs/binfmt_misc.o", "binfmt_misc"),
            Some("fs/binfmt_misc.o")
        );
        // A module of several objects: its entry is in a directory above.
        assert_eq!(
            module_entry(order, "drivers/a/b/part.o", "x_y"),
            Some("drivers/a/x-y.o")
        );
        assert_eq!(module_entry(order, "net/part.o", "x_y"), None);
        let e = parse(
            "fs/b.c",
            "fs/b.o",
            &text
                .replace("binfmt_misc", "b")
                .replace("-DKBUILD_MODNAME='\"b\"' ", ""),
        )
        .unwrap_err();
        assert!(e.contains("without -DKBUILD_MODNAME"), "{e}");
    }

    #[test]
    fn an_in_tree_build_has_a_relative_source() {
        let text = "savedcmd_kernel/fork.o := gcc -c -o kernel/fork.o kernel/fork.c\n\
                    source_kernel/fork.o := kernel/fork.c\n";
        let r = parse("kernel/fork.c", "kernel/fork.o", text).unwrap();
        assert_eq!(r.srctree(), ".");
    }

    #[test]
    fn other_commands_are_refused() {
        let text = "savedcmd_a/b.o := ld -r -o a/b.o a/c.o\nsource_a/b.o := /s/a/b.c\n";
        let e = parse("a/b.c", "a/b.o", text).unwrap_err();
        assert!(e.contains("does not compile /s/a/b.c into a/b.o"), "{e}");
        let e = parse("a/b.c", "a/b.o", "cmd_a/b.o := gcc -c -o a/b.o a/b.c\n").unwrap_err();
        assert!(e.contains("older than 6.3"), "{e}");
    }

    #[test]
    fn a_file_without_cmd_is_not_built() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(
            cmd_file(d.path(), "fs/proc/cmdline.o"),
            d.path().join("fs/proc/.cmdline.o.cmd")
        );
        let e = recorded(d.path(), "fs/proc/cmdline.c").unwrap_err();
        assert!(
            e.message
                .starts_with("fs/proc/cmdline.c is not built in this configuration"),
            "{}",
            e.message
        );
    }
}
