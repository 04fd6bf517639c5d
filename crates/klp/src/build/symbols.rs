// SPDX-License-Identifier: GPL-2.0
//! What a patch module can link against in the object it patches (vmlinux or a
//! module) and in vmlinux, and how a klp relocation names what it cannot: the
//! symbols that vmlinux exports (the build directory's `Module.symvers`), and
//! for any other symbol its `sympos`, its place among the object's symbols of
//! its name in the order the kernel counts them (kallsyms: for vmlinux by
//! address, as `System.map` lists them; for a module in the order of its
//! symbol table), 0 if the name is unique. Which of several local symbols of
//! one name is the patched file's is told by the object's symbol table, where
//! each file's local symbols follow an `STT_FILE` symbol with the file's name.
//! Nothing of a module target is linked normally, its exports neither: the
//! patch may be loaded before the module.

use crate::error::{KlpError, Result};
use object::{Object, ObjectSymbol, SymbolKind};
use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;

/// How a reference to a symbol is linked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// A symbol that vmlinux exports: a normal relocation against an undefined
    /// symbol.
    Export,
    /// Anything else: a klp relocation against
    /// `.klp.sym.<object>.<name>,<sympos>`.
    Klp { object: String, sympos: u64 },
}

/// The symbols of one object, vmlinux or a module, as far as a patch module
/// needs them. A symbol is known by a key: its address in vmlinux, its index
/// in a module's symbol table (a relocatable file, whose addresses repeat).
#[derive(Debug, Default)]
pub struct Symbols {
    /// `vmlinux`, or the module's name (`binfmt_misc`).
    object: String,
    /// Exported by vmlinux (without a namespace); none for a module.
    exports: HashSet<String>,
    /// Every key of each name, in kallsyms order.
    by_name: HashMap<String, Vec<u64>>,
    /// The keys of local symbols, by (file name, symbol name).
    locals: HashMap<(String, String), Vec<u64>>,
    /// The keys of global symbols.
    globals: HashMap<String, u64>,
}

impl Symbols {
    /// Reads `BUILD/Module.symvers`, `BUILD/System.map` and `BUILD/vmlinux`.
    pub fn vmlinux(build: &Path) -> Result<Symbols> {
        let read = |name: &str| {
            let p = build.join(name);
            fs::read(&p).map_err(|e| {
                KlpError::io(
                    format!(
                        "reading {} (a complete kernel build has it; build the kernel first)",
                        p.display()
                    ),
                    &e,
                )
            })
        };
        let symvers = String::from_utf8_lossy(&read("Module.symvers")?).into_owned();
        let map = String::from_utf8_lossy(&read("System.map")?).into_owned();
        let mut v = Symbols::from_text(&symvers, &map);
        let elf = read("vmlinux")?;
        v.read_symtab(&elf, false)
            .map_err(|e| KlpError::error(format!("{}: {e}", build.join("vmlinux").display())))?;
        Ok(v)
    }

    /// Reads the module `ko`, named `name` (its `KBUILD_MODNAME`).
    pub fn module(ko: &Path, name: &str) -> Result<Symbols> {
        let elf = fs::read(ko).map_err(|e| {
            KlpError::io(
                format!("reading {} (the module the patch is for)", ko.display()),
                &e,
            )
        })?;
        let mut m = Symbols {
            object: name.to_string(),
            ..Symbols::default()
        };
        m.read_symtab(&elf, true)
            .map_err(|e| KlpError::error(format!("{}: {e}", ko.display())))?;
        Ok(m)
    }

    /// vmlinux's exports and kallsyms order, from the two files' text.
    pub fn from_text(symvers: &str, system_map: &str) -> Symbols {
        let mut v = Symbols {
            object: "vmlinux".to_string(),
            ..Symbols::default()
        };
        for line in symvers.lines() {
            // crc, name, module, export type, namespace
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() >= 4 && f[2] == "vmlinux" && f.get(4).is_none_or(|ns| ns.is_empty()) {
                v.exports.insert(f[1].to_string());
            }
        }
        for line in system_map.lines() {
            let mut f = line.split_whitespace();
            let (Some(addr), Some(_), Some(name)) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            if let Ok(addr) = u64::from_str_radix(addr, 16) {
                v.by_name.entry(name.to_string()).or_default().push(addr);
            }
        }
        // System.map is sorted by address (nm -n); so is kallsyms within one name.
        for addrs in v.by_name.values_mut() {
            addrs.sort_unstable();
        }
        v
    }

    /// The local and global symbols of the object's symbol table; for a
    /// `module`, keyed by their index and counted in `by_name` in table order,
    /// as the module's kallsyms has them (named definitions in a section).
    fn read_symtab(&mut self, elf: &[u8], module: bool) -> std::result::Result<(), String> {
        let file = object::File::parse(elf).map_err(|e| e.to_string())?;
        let mut current = String::new();
        for sym in file.symbols() {
            let Ok(name) = sym.name() else { continue };
            let key = if module {
                sym.index().0 as u64
            } else {
                sym.address()
            };
            if sym.kind() == SymbolKind::File {
                current = name.to_string();
                continue;
            }
            let kallsyms = sym.section_index().is_some()
                && !name.is_empty()
                && sym.kind() != SymbolKind::Section;
            if module && kallsyms {
                self.by_name.entry(name.to_string()).or_default().push(key);
            }
            if sym.is_local() {
                self.locals
                    .entry((current.clone(), name.to_string()))
                    .or_default()
                    .push(key);
            } else if sym.is_definition() {
                self.globals.insert(name.to_string(), key);
            }
        }
        Ok(())
    }

    /// The object's name in klp relocations and `klp_object.name`.
    pub fn object(&self) -> &str {
        &self.object
    }

    /// Whether the object defines `name`, a local symbol of `file` if `local`.
    pub fn defines(&self, name: &str, file: &str, local: bool) -> bool {
        if local {
            self.locals
                .contains_key(&(basename(file).to_string(), name.to_string()))
        } else {
            self.globals.contains_key(name)
        }
    }

    #[cfg(test)]
    pub fn add_symbol(&mut self, file: &str, name: &str, addr: u64, local: bool) {
        if self.object != "vmlinux" {
            self.by_name.entry(name.to_string()).or_default().push(addr);
        }
        if local {
            self.locals
                .entry((file.to_string(), name.to_string()))
                .or_default()
                .push(addr);
        } else {
            self.globals.insert(name.to_string(), addr);
        }
    }

    /// How the patched file `file` (its path in the source tree) links to `name`,
    /// a local (static) symbol of that file if `local`, else a global one.
    pub fn link(&self, name: &str, file: &str, local: bool) -> std::result::Result<Link, String> {
        if !local && self.exports.contains(name) {
            return Ok(Link::Export);
        }
        self.sympos(name, file, local).map(|sympos| Link::Klp {
            object: self.object.clone(),
            sympos,
        })
    }

    /// The `sympos` of `name` (0: the only symbol of that name in the object),
    /// a local symbol of `file` if `local`.
    pub fn sympos(&self, name: &str, file: &str, local: bool) -> std::result::Result<u64, String> {
        let object = &self.object;
        let Some(addrs) = self.by_name.get(name) else {
            return Err(if object == "vmlinux" {
                format!(
                    "{name} is not a symbol of vmlinux (System.map): a symbol of another \
                     module than the one patched, or one that no kernel object defines"
                )
            } else {
                format!("{name} is not a symbol of the module {object}")
            });
        };
        if addrs.len() == 1 {
            return Ok(0);
        }
        let base = basename(file);
        let ours = if local {
            match self.locals.get(&(base.to_string(), name.to_string())) {
                Some(a) if a.len() == 1 => a[0],
                Some(a) => {
                    return Err(format!(
                        "{name}: {} local symbols of that name follow a file symbol {base} in \
                         {object}; cannot tell which is {file}'s",
                        a.len()
                    ))
                }
                None => {
                    return Err(format!(
                        "{name}: {object} has {} symbols of that name but none local to a file \
                         {base}",
                        addrs.len()
                    ))
                }
            }
        } else {
            *self
                .globals
                .get(name)
                .ok_or_else(|| format!("{name}: {object} has no global symbol of that name"))?
        };
        addrs
            .iter()
            .position(|&a| a == ours)
            .map(|i| i as u64 + 1)
            .ok_or_else(|| format!("{name}: {object}'s symbol {ours:#x} is not in its kallsyms"))
    }
}

/// `cmdline.c` for `fs/proc/cmdline.c`: the name of its `STT_FILE` symbol.
fn basename(file: &str) -> &str {
    file.rsplit('/').next().unwrap_or(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYMVERS: &str = "0x00000000\tseq_printf\tvmlinux\tEXPORT_SYMBOL\t\n\
        0x00000000\tns_sym\tvmlinux\tEXPORT_SYMBOL_GPL\tSOME_NS\n\
        0x00000000\tmod_sym\tsome_module\tEXPORT_SYMBOL\t\n";
    const MAP: &str = "ffffffff81000300 t show\n\
        ffffffff81000100 t show\n\
        ffffffff81000200 T seq_printf\n\
        ffffffff81000400 t helper\n\
        ffffffff81000500 T show\n";

    fn klp(object: &str, sympos: u64) -> Link {
        Link::Klp {
            object: object.to_string(),
            sympos,
        }
    }

    #[test]
    fn exported_symbols_link_normally_others_by_sympos() {
        let mut v = Symbols::from_text(SYMVERS, MAP);
        assert_eq!(v.link("seq_printf", "fs/a.c", false), Ok(Link::Export));
        // Namespaced exports and other modules' exports are not linked against.
        assert!(v.link("ns_sym", "fs/a.c", false).is_err());
        assert!(v.link("mod_sym", "fs/a.c", false).is_err());
        // A unique name: sympos 0.
        assert_eq!(v.link("helper", "fs/a.c", true), Ok(klp("vmlinux", 0)));
        // Three of one name, by address: b.c's local is the second, the global the third.
        v.add_symbol("a.c", "show", 0xffffffff81000100, true);
        v.add_symbol("b.c", "show", 0xffffffff81000300, true);
        v.add_symbol("", "show", 0xffffffff81000500, false);
        assert_eq!(v.link("show", "fs/proc/b.c", true), Ok(klp("vmlinux", 2)));
        assert_eq!(v.link("show", "fs/proc/a.c", true), Ok(klp("vmlinux", 1)));
        assert_eq!(v.link("show", "fs/proc/c.c", false), Ok(klp("vmlinux", 3)));
        let e = v.link("show", "fs/proc/c.c", true).unwrap_err();
        assert!(e.contains("none local to a file c.c"), "{e}");
        v.add_symbol("a.c", "show", 0xffffffff81000300, true);
        let e = v.link("show", "x/a.c", true).unwrap_err();
        assert!(e.contains("cannot tell which"), "{e}");
        let e = v.link("nowhere", "x/a.c", true).unwrap_err();
        assert!(e.contains("not a symbol of vmlinux"), "{e}");
    }

    #[test]
    fn a_module_is_counted_in_symbol_table_order_and_links_nothing_normally() {
        let mut m = Symbols {
            object: "binfmt_misc".to_string(),
            ..Symbols::default()
        };
        // Keys are symbol indices: table order, whatever the addresses.
        m.add_symbol("binfmt_misc.c", "show", 7, true);
        m.add_symbol("binfmt_misc.c", "bm_fs_type", 8, true);
        m.add_symbol("binfmt_misc.mod.c", "show", 9, true);
        m.add_symbol("", "seq_printf", 10, false);
        assert_eq!(m.object(), "binfmt_misc");
        assert!(m.defines("bm_fs_type", "fs/binfmt_misc.c", true));
        assert!(!m.defines("bm_fs_type", "fs/other.c", true));
        assert!(m.defines("seq_printf", "fs/binfmt_misc.c", false));
        assert_eq!(
            m.link("bm_fs_type", "fs/binfmt_misc.c", true),
            Ok(klp("binfmt_misc", 0))
        );
        assert_eq!(
            m.link("show", "fs/binfmt_misc.c", true),
            Ok(klp("binfmt_misc", 1))
        );
        // A global it defines is a klp relocation too (its exports are not linked against).
        assert_eq!(
            m.link("seq_printf", "fs/binfmt_misc.c", false),
            Ok(klp("binfmt_misc", 0))
        );
        let e = m.link("nowhere", "fs/binfmt_misc.c", true).unwrap_err();
        assert!(e.contains("not a symbol of the module binfmt_misc"), "{e}");
    }
}
