// SPDX-License-Identifier: GPL-2.0
//! Just enough ELF to read a kernel module's `.modinfo` section.
//!
//! A livepatch module is a relocatable ELF object (ET_REL) whose `.modinfo`
//! holds `livepatch=Y` (MODULE_INFO(livepatch, "Y")); modpost also stores
//! `name=<module name>` there.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElfError {
    TooShort,
    NotElf,
    Compressed(&'static str),
    NotRelocatable(u16),
    Malformed(&'static str),
    NoModinfo,
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElfError::TooShort | ElfError::NotElf => f.write_str("not an ELF file"),
            ElfError::Compressed(c) => write!(
                f,
                "a {c}-compressed module: decompress it first (klp loads plain .ko files)"
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
        self.entries
            .iter()
            .any(|(k, v)| k == "livepatch" && v == "Y")
    }
}

struct Reader<'a> {
    b: &'a [u8],
    be: bool,
}

impl Reader<'_> {
    fn bytes<const N: usize>(&self, off: u64) -> Result<[u8; N], ElfError> {
        let off = usize::try_from(off).map_err(|_| ElfError::Malformed("offset"))?;
        let end = off.checked_add(N).ok_or(ElfError::Malformed("offset"))?;
        let s = self
            .b
            .get(off..end)
            .ok_or(ElfError::Malformed("truncated"))?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        if self.be {
            a.reverse();
        }
        Ok(a)
    }
    fn u16(&self, off: u64) -> Result<u16, ElfError> {
        self.bytes::<2>(off).map(u16::from_le_bytes)
    }
    fn u32(&self, off: u64) -> Result<u32, ElfError> {
        self.bytes::<4>(off).map(u32::from_le_bytes)
    }
    fn u64(&self, off: u64) -> Result<u64, ElfError> {
        self.bytes::<8>(off).map(u64::from_le_bytes)
    }
    fn slice(&self, off: u64, len: u64) -> Result<&[u8], ElfError> {
        let off = usize::try_from(off).map_err(|_| ElfError::Malformed("offset"))?;
        let len = usize::try_from(len).map_err(|_| ElfError::Malformed("size"))?;
        let end = off.checked_add(len).ok_or(ElfError::Malformed("size"))?;
        self.b
            .get(off..end)
            .ok_or(ElfError::Malformed("section beyond end of file"))
    }
}

struct Shdr {
    name: u32,
    kind: u32,
    offset: u64,
    size: u64,
    link: u32,
}

const SHT_NOBITS: u32 = 8;
const SHN_XINDEX: u16 = 0xffff;

/// Parse `.modinfo` out of a module file's bytes.
pub fn read_modinfo(b: &[u8]) -> Result<ModInfo, ElfError> {
    if b.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        return Err(ElfError::Compressed("xz"));
    }
    if b.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Err(ElfError::Compressed("zstd"));
    }
    if b.starts_with(&[0x1f, 0x8b]) {
        return Err(ElfError::Compressed("gzip"));
    }
    if b.len() < 16 {
        return Err(ElfError::TooShort);
    }
    if &b[..4] != b"\x7fELF" {
        return Err(ElfError::NotElf);
    }
    let is64 = match b[4] {
        1 => false,
        2 => true,
        _ => return Err(ElfError::Malformed("class")),
    };
    let be = match b[5] {
        1 => false,
        2 => true,
        _ => return Err(ElfError::Malformed("byte order")),
    };
    let r = Reader { b, be };
    let e_type = r.u16(16)?;
    if e_type != 1 {
        return Err(ElfError::NotRelocatable(e_type));
    }
    let (shoff, shentsize, mut shnum, shstrndx) = if is64 {
        (
            r.u64(0x28)?,
            r.u16(0x3a)?,
            r.u16(0x3c)? as u64,
            r.u16(0x3e)?,
        )
    } else {
        (
            r.u32(0x20)? as u64,
            r.u16(0x2e)?,
            r.u16(0x30)? as u64,
            r.u16(0x32)?,
        )
    };
    if shoff == 0 {
        return Err(ElfError::NoModinfo);
    }
    let min_ent = if is64 { 64 } else { 40 };
    if (shentsize as u64) < min_ent {
        return Err(ElfError::Malformed("section header size"));
    }
    let shdr = |i: u64| -> Result<Shdr, ElfError> {
        let base = i
            .checked_mul(shentsize as u64)
            .and_then(|o| o.checked_add(shoff))
            .ok_or(ElfError::Malformed("section header offset"))?;
        if is64 {
            Ok(Shdr {
                name: r.u32(base)?,
                kind: r.u32(base + 4)?,
                offset: r.u64(base + 24)?,
                size: r.u64(base + 32)?,
                link: r.u32(base + 40)?,
            })
        } else {
            Ok(Shdr {
                name: r.u32(base)?,
                kind: r.u32(base + 4)?,
                offset: r.u32(base + 16)? as u64,
                size: r.u32(base + 20)? as u64,
                link: r.u32(base + 24)?,
            })
        }
    };
    // Extended numbering: the real counts live in section header 0.
    if shnum == 0 {
        shnum = shdr(0)?.size;
    }
    let strndx = if shstrndx == SHN_XINDEX {
        shdr(0)?.link as u64
    } else {
        shstrndx as u64
    };
    if shnum > 65536 * 16 || strndx >= shnum {
        return Err(ElfError::Malformed("section count"));
    }
    let strtab = shdr(strndx)?;
    let names = r.slice(strtab.offset, strtab.size)?;
    for i in 0..shnum {
        let sh = shdr(i)?;
        let name = names
            .get(sh.name as usize..)
            .and_then(|s| s.split(|&c| c == 0).next())
            .unwrap_or(b"");
        if name != b".modinfo" {
            continue;
        }
        if sh.kind == SHT_NOBITS {
            return Ok(ModInfo::default());
        }
        let data = r.slice(sh.offset, sh.size)?;
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
        return Ok(ModInfo { entries });
    }
    Err(ElfError::NoModinfo)
}

/// Build a minimal relocatable ELF file with the given sections (and a
/// `.shstrtab`). Used by the tests to make fake `.ko` files.
pub fn build_rel_elf(is64: bool, big_endian: bool, sections: &[(&str, &[u8])]) -> Vec<u8> {
    let put16 = |v: &mut Vec<u8>, x: u16| {
        v.extend(if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        })
    };
    let put32 = |v: &mut Vec<u8>, x: u32| {
        v.extend(if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        })
    };
    let put64 = |v: &mut Vec<u8>, x: u64| {
        v.extend(if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        })
    };
    let ehsize: usize = if is64 { 64 } else { 52 };
    let shentsize: usize = if is64 { 64 } else { 40 };

    // Section name table: "\0" + names + ".shstrtab".
    let mut shstr = vec![0u8];
    let mut name_off = Vec::new();
    for (n, _) in sections {
        name_off.push(shstr.len() as u32);
        shstr.extend(n.as_bytes());
        shstr.push(0);
    }
    let shstr_name = shstr.len() as u32;
    shstr.extend(b".shstrtab\0");

    // Layout: header, section data, shstrtab, section headers.
    let mut data = Vec::new();
    let mut offs = Vec::new();
    for (_, d) in sections {
        offs.push((ehsize + data.len()) as u64);
        data.extend(*d);
    }
    let shstr_off = (ehsize + data.len()) as u64;
    data.extend(&shstr);
    let pad = (8 - (ehsize + data.len()) % 8) % 8;
    data.resize(data.len() + pad, 0);
    let shoff = (ehsize + data.len()) as u64;
    let shnum = sections.len() + 2; // null + sections + shstrtab

    let mut v = Vec::new();
    v.extend(b"\x7fELF");
    v.push(if is64 { 2 } else { 1 });
    v.push(if big_endian { 2 } else { 1 });
    v.push(1); // EV_CURRENT
    v.extend([0u8; 9]);
    put16(&mut v, 1); // ET_REL
    put16(&mut v, if is64 { 62 } else { 3 }); // x86_64 / i386
    put32(&mut v, 1);
    if is64 {
        put64(&mut v, 0); // entry
        put64(&mut v, 0); // phoff
        put64(&mut v, shoff);
    } else {
        put32(&mut v, 0);
        put32(&mut v, 0);
        put32(&mut v, shoff as u32);
    }
    put32(&mut v, 0); // flags
    put16(&mut v, ehsize as u16);
    put16(&mut v, 0); // phentsize
    put16(&mut v, 0); // phnum
    put16(&mut v, shentsize as u16);
    put16(&mut v, shnum as u16);
    put16(&mut v, (shnum - 1) as u16); // shstrndx
    assert_eq!(v.len(), ehsize);
    v.extend(&data);

    let shdr = |v: &mut Vec<u8>, name: u32, kind: u32, off: u64, size: u64| {
        put32(v, name);
        put32(v, kind);
        if is64 {
            put64(v, 0); // flags
            put64(v, 0); // addr
            put64(v, off);
            put64(v, size);
            put32(v, 0); // link
            put32(v, 0); // info
            put64(v, 1); // addralign
            put64(v, 0); // entsize
        } else {
            put32(v, 0);
            put32(v, 0);
            put32(v, off as u32);
            put32(v, size as u32);
            put32(v, 0);
            put32(v, 0);
            put32(v, 1);
            put32(v, 0);
        }
    };
    shdr(&mut v, 0, 0, 0, 0);
    for (i, (_, d)) in sections.iter().enumerate() {
        shdr(&mut v, name_off[i], 1, offs[i], d.len() as u64); // PROGBITS
    }
    shdr(&mut v, shstr_name, 3, shstr_off, shstr.len() as u64); // STRTAB
    v
}

/// NUL-separated `.modinfo` contents.
pub fn modinfo_bytes(entries: &[&str]) -> Vec<u8> {
    let mut v = Vec::new();
    for e in entries {
        v.extend(e.as_bytes());
        v.push(0);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(is64: bool, be: bool, info: &[&str]) -> Vec<u8> {
        let mi = modinfo_bytes(info);
        build_rel_elf(
            is64,
            be,
            &[
                (".text", b"\xc3\xcc\xcc\xcc"),
                (".modinfo", &mi),
                (".data", b"x"),
            ],
        )
    }

    #[test]
    fn finds_livepatch_and_name_in_all_four_layouts() {
        for is64 in [true, false] {
            for be in [false, true] {
                let b = module(is64, be, &["license=GPL", "livepatch=Y", "name=test_klp_x"]);
                let mi = read_modinfo(&b).unwrap_or_else(|e| panic!("{is64} {be}: {e}"));
                assert!(mi.is_livepatch(), "{is64} {be}");
                assert_eq!(mi.get("name"), Some("test_klp_x"));
                assert_eq!(mi.get("license"), Some("GPL"));
            }
        }
    }

    #[test]
    fn an_ordinary_module_is_not_a_livepatch() {
        let mi = read_modinfo(&module(true, false, &["name=plain", "livepatch=N"])).unwrap();
        assert!(!mi.is_livepatch());
        // "livepatch=Y" elsewhere in the file does not count.
        let b = build_rel_elf(true, false, &[(".rodata", b"livepatch=Y\0")]);
        assert_eq!(read_modinfo(&b), Err(ElfError::NoModinfo));
    }

    #[test]
    fn rejects_non_elf_compressed_and_executables() {
        assert_eq!(read_modinfo(b"#!/bin/sh\necho hi\n"), Err(ElfError::NotElf));
        assert_eq!(read_modinfo(b""), Err(ElfError::TooShort));
        assert_eq!(
            read_modinfo(&[0x28, 0xb5, 0x2f, 0xfd, 0, 0]),
            Err(ElfError::Compressed("zstd"))
        );
        let mut exe = module(true, false, &["livepatch=Y"]);
        exe[16] = 2; // ET_EXEC
        assert_eq!(read_modinfo(&exe), Err(ElfError::NotRelocatable(2)));
    }

    #[test]
    fn truncated_files_are_errors_not_panics() {
        let b = module(true, false, &["livepatch=Y", "name=t"]);
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
