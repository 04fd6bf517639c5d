// SPDX-License-Identifier: GPL-2.0
//! A kernel module's ELF file, read with the `object` crate.
//!
//! A module is a relocatable ELF object (ET_REL) whose `.modinfo` holds
//! `key=value` strings: modpost stores `name=<module name>` and `vermagic=`
//! there, and a livepatch module has `livepatch=Y` (MODULE_INFO(livepatch, "Y")).

use object::{
    Object, ObjectKind, ObjectSection, ObjectSymbol, RelocationKind, RelocationTarget,
    SectionIndex, SectionKind, SymbolKind,
};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElfError {
    NotElf,
    Compressed(&'static str),
    NotRelocatable(u16),
    Malformed(String),
    NoModinfo,
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElfError::NotElf => f.write_str("not an ELF file"),
            ElfError::Compressed(c) => write!(
                f,
                "a {c}-compressed module: decompress it first (klp reads plain .ko files)"
            ),
            ElfError::NotRelocatable(t) => write!(
                f,
                "not a kernel module (ELF type {t}, a module is relocatable, type 1)"
            ),
            ElfError::Malformed(what) => write!(f, "malformed ELF file ({what})"),
            ElfError::NoModinfo => f.write_str("not a kernel module (no .modinfo section)"),
        }
    }
}

impl From<object::Error> for ElfError {
    fn from(e: object::Error) -> Self {
        ElfError::Malformed(e.to_string())
    }
}

/// The compression a module file's magic number names (xz, zstd or gzip), if any.
pub fn compression(b: &[u8]) -> Option<&'static str> {
    const MAGIC: [(&[u8], &str); 3] = [
        (&[0xfd, b'7', b'z', b'X', b'Z', 0], "xz"),
        (&[0x28, 0xb5, 0x2f, 0xfd], "zstd"),
        (&[0x1f, 0x8b], "gzip"),
    ];
    MAGIC
        .iter()
        .find(|(m, _)| b.starts_with(m))
        .map(|&(_, c)| c)
}

/// The key=value strings of `.modinfo`, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModInfo {
    pub entries: Vec<(String, String)>,
}

impl ModInfo {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn is_livepatch(&self) -> bool {
        self.get("livepatch") == Some("Y")
    }
}

/// A module file parsed far enough to know that it is a relocatable ELF object.
pub fn parse(b: &[u8]) -> Result<object::File<'_>, ElfError> {
    if let Some(c) = compression(b) {
        return Err(ElfError::Compressed(c));
    }
    if !b.starts_with(b"\x7fELF") {
        return Err(ElfError::NotElf);
    }
    let file = object::File::parse(b)?;
    if file.kind() != ObjectKind::Relocatable {
        // The header parsed, so e_type (at 16) is there.
        let t = [b[16], b[17]];
        let e_type = if file.is_little_endian() {
            u16::from_le_bytes(t)
        } else {
            u16::from_be_bytes(t)
        };
        return Err(ElfError::NotRelocatable(e_type));
    }
    Ok(file)
}

/// The `.modinfo` of a parsed module file.
pub fn modinfo(file: &object::File) -> Result<ModInfo, ElfError> {
    let data = file
        .section_by_name(".modinfo")
        .ok_or(ElfError::NoModinfo)?
        .data()?;
    let entries = data
        .split(|&c| c == 0)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let s = String::from_utf8_lossy(s);
            match s.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (s.to_string(), String::new()),
            }
        })
        .collect();
    Ok(ModInfo { entries })
}

/// Parse `.modinfo` out of a module file's bytes.
pub fn read_modinfo(b: &[u8]) -> Result<ModInfo, ElfError> {
    modinfo(&parse(b)?)
}

/// The objects (`vmlinux` or a module) named by `.klp.rela.<object>.<section>`
/// sections: those whose symbols the module's klp relocations resolve.
pub fn klp_rela_objects(file: &object::File) -> Vec<String> {
    let mut v: Vec<String> = file
        .sections()
        .filter_map(|s| {
            let rest = s.name().ok()?.strip_prefix(".klp.rela.")?;
            Some(rest.split('.').next()?.to_string())
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

/// One `struct klp_object` of a livepatch module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PatchedObject {
    /// `vmlinux` (a NULL name) or the module's name.
    pub name: String,
    pub functions: Vec<PatchedFunc>,
}

/// One `struct klp_func`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PatchedFunc {
    /// `old_name`, the function replaced.
    pub name: String,
    /// `old_sympos`, 1 for 0 as in the function's sysfs directory name.
    pub sympos: u64,
    /// The symbol `new_func` points to, when the symbol table names it.
    pub new_func: Option<String>,
}

/// A place in a section: (section index, offset).
type Place = (usize, u64);

/// The pointer-sized absolute relocations of a module: where each pointer in
/// its sections points.
struct Pointers<'d, 'f> {
    file: &'f object::File<'d>,
    ptr: u64,
    at: BTreeMap<Place, Place>,
    functions: HashMap<Place, String>,
}

impl<'d> Pointers<'d, '_> {
    fn read<'f>(file: &'f object::File<'d>) -> Result<Pointers<'d, 'f>, ElfError> {
        let ptr = if file.is_64() { 8 } else { 4 };
        let mut at = BTreeMap::new();
        for s in file.sections() {
            for (off, r) in s.relocations() {
                let RelocationTarget::Symbol(i) = r.target() else {
                    continue;
                };
                if r.kind() != RelocationKind::Absolute || u64::from(r.size()) != ptr * 8 {
                    continue;
                }
                let sym = file.symbol_by_index(i)?;
                let Some(sec) = sym.section_index() else {
                    continue; // an undefined symbol: outside the module
                };
                let implicit = if r.has_implicit_addend() {
                    uint_at(file, s.data()?, off, ptr).ok_or_else(|| {
                        ElfError::Malformed("relocation beyond its section".into())
                    })?
                } else {
                    0
                };
                let addr = sym
                    .address()
                    .wrapping_add(implicit)
                    .wrapping_add_signed(r.addend());
                at.insert((s.index().0, off), (sec.0, addr));
            }
        }
        let functions = file
            .symbols()
            .filter(|s| s.kind() == SymbolKind::Text)
            .filter_map(|s| {
                Some((
                    (s.section_index()?.0, s.address()),
                    s.name().ok()?.to_string(),
                ))
            })
            .collect();
        Ok(Pointers {
            file,
            ptr,
            at,
            functions,
        })
    }

    fn section(&self, index: usize) -> Option<object::Section<'d, '_>> {
        self.file.section_by_index(SectionIndex(index)).ok()
    }

    /// The NUL-terminated string at `p`, in a read-only section.
    fn string(&self, p: Place) -> Option<String> {
        let s = self.section(p.0)?;
        if !matches!(
            s.kind(),
            SectionKind::ReadOnlyString | SectionKind::ReadOnlyData
        ) {
            return None;
        }
        let tail = s.data().ok()?.get(usize::try_from(p.1).ok()?..)?;
        let end = tail.iter().position(|&c| c == 0)?;
        String::from_utf8(tail[..end].to_vec()).ok()
    }

    /// A `struct klp_func` at `p`: `old_name` points to a string, `new_func`
    /// (the next pointer) into code, then `old_sympos`.
    fn func(&self, p: Place) -> Option<PatchedFunc> {
        let name = self.string(*self.at.get(&p)?)?;
        let new = *self.at.get(&(p.0, p.1 + self.ptr))?;
        if self.section(new.0)?.kind() != SectionKind::Text {
            return None;
        }
        let data = self.section(p.0)?.data().ok()?;
        let sympos = uint_at(self.file, data, p.1 + 2 * self.ptr, self.ptr)?;
        Some(PatchedFunc {
            name,
            sympos: sympos.max(1),
            new_func: self.functions.get(&new).cloned(),
        })
    }

    /// The place `p`'s pointer points to, if it is in a writable data
    /// section (`.bss` too: an empty `funcs` array is all zeroes).
    fn data_pointer(&self, p: Place) -> Option<Place> {
        let t = *self.at.get(&p)?;
        let kind = self.section(t.0)?.kind();
        matches!(kind, SectionKind::Data | SectionKind::UninitializedData).then_some(t)
    }

    /// Where the symbol `name` is defined.
    fn symbol_place(&self, name: &str) -> Option<Place> {
        let s = self.file.symbols().find(|s| s.name() == Ok(name))?;
        Some((s.section_index()?.0, s.address()))
    }

    /// The pointers in `[start, end)`, the array starting at `start`.
    fn array(&self, start: Place, starts: &[Place]) -> impl Iterator<Item = Place> + '_ {
        let end = self.array_end(start, starts);
        self.at.range(start..(start.0, end)).map(|(&p, _)| p)
    }

    /// Where the array starting at `start` ends: its symbol's size, else the
    /// next of `starts` in the same section, else the section's end.
    fn array_end(&self, start: Place, starts: &[Place]) -> u64 {
        let sized = self.file.symbols().find(|s| {
            s.section_index() == Some(SectionIndex(start.0))
                && s.address() == start.1
                && s.size() > 0
        });
        if let Some(s) = sized {
            return start.1 + s.size();
        }
        starts
            .iter()
            .filter(|p| p.0 == start.0 && p.1 > start.1)
            .map(|p| p.1)
            .min()
            .or_else(|| Some(self.section(start.0)?.size()))
            .unwrap_or(start.1)
    }
}

/// The unsigned `len`-byte integer at `off` of a section's data.
fn uint_at(file: &object::File, data: &[u8], off: u64, len: u64) -> Option<u64> {
    let b = data
        .get(usize::try_from(off).ok()?..)?
        .get(..usize::try_from(len).ok()?)?;
    let mut v = [0u8; 8];
    if file.is_little_endian() {
        v[..b.len()].copy_from_slice(b);
        Some(u64::from_le_bytes(v))
    } else {
        v[8 - b.len()..].copy_from_slice(b);
        Some(u64::from_be_bytes(v))
    }
}

/// The objects and functions a livepatch module patches, from its
/// `struct klp_patch`, `klp_object` and `klp_func` arrays. Their sizes depend
/// on the kernel's configuration, so they are found through their pointers'
/// relocations, not by layout:
///
/// * a `klp_patch` starts with `.mod = THIS_MODULE`, then `.objs`;
/// * in the `objs` array, `.funcs` is the only pointer into data (`.name`
///   points to a string or is NULL for vmlinux, the callbacks into code);
/// * in a `funcs` array, a `klp_func` is `.old_name`, a pointer to a string,
///   followed by `.new_func`, a pointer into code, and `.old_sympos`.
///
/// An array ends at its symbol's size, else at the next of these structures
/// in its section. Empty when the module has no `klp_patch` in its data (one
/// built at run time, as the Rust livepatch samples do).
pub fn patched_objects(file: &object::File) -> Result<Vec<PatchedObject>, ElfError> {
    let p = Pointers::read(file)?;
    let Some(this_module) = p.symbol_place("__this_module") else {
        return Ok(Vec::new());
    };
    let patches: Vec<(Place, Place)> =
        p.at.iter()
            .filter(|(_, &t)| t == this_module)
            .filter_map(|(&(s, off), _)| Some(((s, off), p.data_pointer((s, off + p.ptr))?)))
            .collect();
    let mut starts: Vec<Place> = patches.iter().flat_map(|&(at, objs)| [at, objs]).collect();
    let mut objects = Vec::new(); // (place, name, funcs)
    for &(_, objs) in &patches {
        for (s, off) in p.array(objs, &starts) {
            let (Some(funcs), Some(place)) = (p.data_pointer((s, off)), off.checked_sub(p.ptr))
            else {
                continue;
            };
            let name = match p.at.get(&(s, place)) {
                None => Some("vmlinux".to_string()),
                Some(&n) => p.string(n),
            };
            if let Some(name) = name.filter(|_| place >= objs.1) {
                objects.push(((s, place), name, funcs));
            }
        }
    }
    starts.extend(objects.iter().flat_map(|o| [o.0, o.2]));
    Ok(objects
        .into_iter()
        .map(|(_, name, funcs)| PatchedObject {
            name,
            functions: p
                .array(funcs, &starts)
                .filter_map(|at| p.func(at))
                .collect(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{livepatch_elf, module_elf, module_object};
    use object::{Architecture, Endianness};

    #[test]
    fn finds_livepatch_and_name_in_all_four_layouts() {
        for (arch, endian) in [
            (Architecture::X86_64, Endianness::Little),
            (Architecture::I386, Endianness::Little),
            (Architecture::PowerPc64, Endianness::Big),
            (Architecture::PowerPc, Endianness::Big),
        ] {
            let o = module_object(
                arch,
                endian,
                &["license=GPL", "livepatch=Y", "name=test_klp_x"],
            );
            let b = o.write().unwrap();
            let mi = read_modinfo(&b).unwrap_or_else(|e| panic!("{arch:?}: {e}"));
            assert!(mi.is_livepatch(), "{arch:?}");
            assert_eq!(mi.get("name"), Some("test_klp_x"));
            assert_eq!(mi.get("license"), Some("GPL"));
        }
    }

    #[test]
    fn an_ordinary_module_is_not_a_livepatch() {
        let mi = read_modinfo(&module_elf(&["name=plain", "livepatch=N"])).unwrap();
        assert!(!mi.is_livepatch());
        // "livepatch=Y" elsewhere in the file does not count.
        let mut o = module_object(Architecture::X86_64, Endianness::Little, &[]);
        let s = o.add_section(
            vec![],
            b".rodata".to_vec(),
            object::SectionKind::ReadOnlyData,
        );
        o.append_section_data(s, b"livepatch=Y\0", 1);
        assert_eq!(read_modinfo(&o.write().unwrap()), Err(ElfError::NoModinfo));
    }

    #[test]
    fn rejects_non_elf_compressed_and_executables() {
        assert_eq!(read_modinfo(b"#!/bin/sh\necho hi\n"), Err(ElfError::NotElf));
        assert_eq!(read_modinfo(b""), Err(ElfError::NotElf));
        for (magic, c) in [
            (&[0x28, 0xb5, 0x2f, 0xfd, 0, 0][..], "zstd"),
            (&[0xfd, b'7', b'z', b'X', b'Z', 0, 1], "xz"),
            (&[0x1f, 0x8b, 8], "gzip"),
        ] {
            assert_eq!(read_modinfo(magic), Err(ElfError::Compressed(c)));
        }
        let mut exe = module_elf(&["livepatch=Y"]);
        exe[16] = 2; // ET_EXEC
        assert_eq!(read_modinfo(&exe), Err(ElfError::NotRelocatable(2)));
    }

    #[test]
    fn truncated_files_are_errors_not_panics() {
        let b = module_elf(&["livepatch=Y", "name=t"]);
        for len in 0..b.len() {
            let _ = read_modinfo(&b[..len]);
        }
        assert!(matches!(
            read_modinfo(&b[..b.len() - 32]),
            Err(ElfError::Malformed(_))
        ));
        // Garbage section header offsets.
        let mut bad = b.clone();
        bad[0x28..0x30].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(read_modinfo(&bad), Err(ElfError::Malformed(_))));
    }

    #[test]
    fn finds_the_patched_objects_and_functions_with_explicit_and_implicit_addends() {
        // x86_64 relocations carry their addends, i386 ones keep them in the data.
        for arch in [Architecture::X86_64, Architecture::I386] {
            let b = livepatch_elf(arch);
            let f = parse(&b).unwrap();
            let objs = patched_objects(&f).unwrap();
            let func = |name: &str, sympos, new: Option<&str>| PatchedFunc {
                name: name.into(),
                sympos,
                new_func: new.map(String::from),
            };
            assert_eq!(
                objs,
                [
                    PatchedObject {
                        name: "vmlinux".into(),
                        functions: vec![
                            func("cmdline_proc_show", 1, Some("livepatch_cmdline_proc_show")),
                            func("meminfo_proc_show", 1, Some("livepatch_meminfo_proc_show")),
                        ],
                    },
                    PatchedObject {
                        name: "test_klp_mod".into(),
                        functions: vec![func("mod_func", 2, Some("livepatch_mod_func"))],
                    },
                    PatchedObject {
                        name: "test_klp_other".into(),
                        functions: vec![],
                    },
                ],
                "{arch:?}"
            );
            assert_eq!(klp_rela_objects(&f), ["test_klp_mod"]);
        }
    }

    #[test]
    fn a_module_without_klp_structures_patches_nothing_found() {
        let b = module_elf(&["livepatch=Y"]);
        let f = parse(&b).unwrap();
        assert_eq!(patched_objects(&f).unwrap(), []);
        assert!(klp_rela_objects(&f).is_empty());
    }
}
