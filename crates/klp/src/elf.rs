// SPDX-License-Identifier: GPL-2.0
//! A kernel module's ELF file, read with the `object` crate.
//!
//! A module is a relocatable ELF object (ET_REL) whose `.modinfo` holds
//! `key=value` strings: modpost stores `name=<module name>` and `vermagic=`
//! there, and a livepatch module has `livepatch=Y` (MODULE_INFO(livepatch, "Y")).

use object::{Object, ObjectKind, ObjectSection};
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{module_elf, module_object};
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
}
