// SPDX-License-Identifier: GPL-2.0
//! What a patch module can link against in vmlinux, and how a klp relocation
//! names what it cannot: the symbols that vmlinux exports (the build
//! directory's `Module.symvers`), and for any other symbol its `sympos`, its
//! place among the vmlinux symbols of its name in the order the kernel counts
//! them (kallsyms, which `System.map` lists: by address), 0 if the name is
//! unique. Which of several local symbols of one name is the patched file's is
//! told by vmlinux's symbol table, where each file's local symbols follow an
//! `STT_FILE` symbol with the file's name.

use crate::error::{KlpError, Result};
use object::{Object, ObjectSymbol, SymbolKind};
use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;

/// How a reference to a vmlinux symbol is linked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// An exported symbol: a normal relocation against an undefined symbol.
    Export,
    /// Anything else: a klp relocation against `.klp.sym.vmlinux.<name>,<sympos>`.
    Klp(u64),
}

/// The symbols of vmlinux, as far as a patch module needs them.
#[derive(Debug, Default)]
pub struct Vmlinux {
    /// Exported by vmlinux (without a namespace).
    exports: HashSet<String>,
    /// Every address of each name, in kallsyms order (System.map's).
    by_name: HashMap<String, Vec<u64>>,
    /// The addresses of local symbols, by (file name, symbol name).
    locals: HashMap<(String, String), Vec<u64>>,
    /// The addresses of global symbols.
    globals: HashMap<String, u64>,
}

impl Vmlinux {
    /// Reads `BUILD/Module.symvers`, `BUILD/System.map` and `BUILD/vmlinux`.
    pub fn read(build: &Path) -> Result<Vmlinux> {
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
        let mut v = Vmlinux::from_text(&symvers, &map);
        let elf = read("vmlinux")?;
        v.read_symtab(&elf)
            .map_err(|e| KlpError::error(format!("{}: {e}", build.join("vmlinux").display())))?;
        Ok(v)
    }

    /// The exports and the kallsyms order, from the two files' text.
    pub fn from_text(symvers: &str, system_map: &str) -> Vmlinux {
        let mut v = Vmlinux::default();
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

    fn read_symtab(&mut self, elf: &[u8]) -> std::result::Result<(), String> {
        let file = object::File::parse(elf).map_err(|e| e.to_string())?;
        let mut current = String::new();
        for sym in file.symbols() {
            let Ok(name) = sym.name() else { continue };
            if sym.kind() == SymbolKind::File {
                current = name.to_string();
            } else if sym.is_local() {
                self.locals
                    .entry((current.clone(), name.to_string()))
                    .or_default()
                    .push(sym.address());
            } else if sym.is_definition() {
                self.globals.insert(name.to_string(), sym.address());
            }
        }
        Ok(())
    }

    #[cfg(test)]
    pub fn add_symbol(&mut self, file: &str, name: &str, addr: u64, local: bool) {
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
        self.sympos(name, file, local).map(Link::Klp)
    }

    /// The `sympos` of `name` (0: the only vmlinux symbol of that name), a local
    /// symbol of `file` if `local`.
    pub fn sympos(&self, name: &str, file: &str, local: bool) -> std::result::Result<u64, String> {
        let Some(addrs) = self.by_name.get(name) else {
            return Err(format!(
                "{name} is not a symbol of vmlinux (System.map): a symbol of a module, or \
                 one that no kernel object defines; only vmlinux is supported yet"
            ));
        };
        if addrs.len() == 1 {
            return Ok(0);
        }
        let base = file.rsplit('/').next().unwrap_or(file);
        let ours = if local {
            match self.locals.get(&(base.to_string(), name.to_string())) {
                Some(a) if a.len() == 1 => a[0],
                Some(a) => {
                    return Err(format!(
                        "{name}: {} local symbols of that name follow a file symbol {base} in \
                         vmlinux; cannot tell which is {file}'s",
                        a.len()
                    ))
                }
                None => {
                    return Err(format!(
                        "{name}: vmlinux has {} symbols of that name but none local to a file \
                         {base}",
                        addrs.len()
                    ))
                }
            }
        } else {
            *self
                .globals
                .get(name)
                .ok_or_else(|| format!("{name}: vmlinux has no global symbol of that name"))?
        };
        addrs
            .iter()
            .position(|&a| a == ours)
            .map(|i| i as u64 + 1)
            .ok_or_else(|| format!("{name}: vmlinux's symbol at {ours:#x} is not in System.map"))
    }
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

    #[test]
    fn exported_symbols_link_normally_others_by_sympos() {
        let mut v = Vmlinux::from_text(SYMVERS, MAP);
        assert_eq!(v.link("seq_printf", "fs/a.c", false), Ok(Link::Export));
        // Namespaced exports and other modules' exports are not linked against.
        assert!(v.link("ns_sym", "fs/a.c", false).is_err());
        assert!(v.link("mod_sym", "fs/a.c", false).is_err());
        // A unique name: sympos 0.
        assert_eq!(v.link("helper", "fs/a.c", true), Ok(Link::Klp(0)));
        // Three of one name, by address: b.c's local is the second, the global the third.
        v.add_symbol("a.c", "show", 0xffffffff81000100, true);
        v.add_symbol("b.c", "show", 0xffffffff81000300, true);
        v.add_symbol("", "show", 0xffffffff81000500, false);
        assert_eq!(v.link("show", "fs/proc/b.c", true), Ok(Link::Klp(2)));
        assert_eq!(v.link("show", "fs/proc/a.c", true), Ok(Link::Klp(1)));
        assert_eq!(v.link("show", "fs/proc/c.c", false), Ok(Link::Klp(3)));
        let e = v.link("show", "fs/proc/c.c", true).unwrap_err();
        assert!(e.contains("none local to a file c.c"), "{e}");
        v.add_symbol("a.c", "show", 0xffffffff81000300, true);
        let e = v.link("show", "x/a.c", true).unwrap_err();
        assert!(e.contains("cannot tell which"), "{e}");
        let e = v.link("nowhere", "x/a.c", true).unwrap_err();
        assert!(e.contains("not a symbol of vmlinux"), "{e}");
    }
}
