// SPDX-License-Identifier: GPL-2.0
//! Compressed module files (`.ko.xz`, `.ko.zst`, `.ko.gz`), which klp loads
//! without decompressing them: finit_module(2) with
//! `MODULE_INIT_COMPRESSED_FILE` (Linux 5.17+, CONFIG_MODULE_DECOMPRESS) has
//! the kernel decompress them. Their `.modinfo` is not read, so the module
//! name comes from the file name and `livepatch=Y` is not checked.

use crate::elf;
use crate::error::{describe_io, KlpError, Result};
use crate::model;
use nix::kmod::ModuleInitFlags;
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// finit_module(2)'s flag for a compressed file (include/uapi/linux/module.h).
const MODULE_INIT_COMPRESSED_FILE: ModuleInitFlags = ModuleInitFlags::from_bits_retain(4);

/// For a compressed module file: the name to load it as (the file name
/// without `.ko.*`, `-` read as `_`), after saying so on `err`. None for a
/// plain file, whose `.modinfo` has to be read instead.
pub fn name_to_load(err: &mut dyn Write, file: &Path, bytes: &[u8]) -> Result<Option<String>> {
    let Some(c) = elf::compression(bytes) else {
        return Ok(None);
    };
    let base = file.file_name().unwrap_or_default().to_string_lossy();
    let name = model::patch_name(&base).map_err(|_| {
        KlpError::error(format!(
            "{}: no module name in the file name of a compressed module; decompress it and \
             load the .ko",
            file.display()
        ))
    })?;
    let _ = writeln!(
        err,
        "klp: {} is {c}-compressed: the kernel decompresses it; its .modinfo is not read, so \
         it is loaded as '{name}' (its file name) without checking that it is a livepatch",
        file.display()
    );
    Ok(Some(name))
}

/// The finit_module(2) flags for an opened module file, and whether it is compressed.
pub fn init_flags(file: &File) -> io::Result<(ModuleInitFlags, bool)> {
    let mut magic = [0u8; 6];
    let n = file.read_at(&mut magic, 0)?;
    Ok(match elf::compression(&magic[..n]) {
        Some(_) => (MODULE_INIT_COMPRESSED_FILE, true),
        None => (ModuleInitFlags::empty(), false),
    })
}

/// finit_module's error, explained for a compressed file where the kernel
/// cannot decompress modules.
pub fn explain(e: io::Error, compressed: bool) -> io::Error {
    if !compressed {
        return e;
    }
    let why = match e.raw_os_error() {
        Some(libc::EOPNOTSUPP) => {
            "this kernel cannot decompress modules (CONFIG_MODULE_DECOMPRESS)"
        }
        Some(libc::EINVAL) => "kernels before 5.17 cannot load compressed modules",
        _ => return e,
    };
    io::Error::new(
        e.kind(),
        format!(
            "{}: {why}; decompress the file and load the .ko",
            describe_io(&e)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_compressed_files_get_the_flag_and_the_explanation() {
        let d = tempfile::tempdir().unwrap();
        let flags = |bytes: &[u8]| {
            let p = d.path().join("m");
            std::fs::write(&p, bytes).unwrap();
            init_flags(&File::open(&p).unwrap()).unwrap()
        };
        assert_eq!(
            flags(&[0x1f, 0x8b, 8]),
            (ModuleInitFlags::from_bits_retain(4), true)
        );
        assert_eq!(flags(b"\x7fELF\x02\x01"), (ModuleInitFlags::empty(), false));
        assert_eq!(flags(b""), (ModuleInitFlags::empty(), false));

        let e = || io::Error::from_raw_os_error(libc::EOPNOTSUPP);
        assert_eq!(explain(e(), false).raw_os_error(), Some(libc::EOPNOTSUPP));
        assert!(explain(e(), true)
            .to_string()
            .contains("CONFIG_MODULE_DECOMPRESS"));
        let busy = explain(io::Error::from_raw_os_error(libc::EBUSY), true);
        assert_eq!(busy.raw_os_error(), Some(libc::EBUSY));
    }

    #[test]
    fn a_compressed_file_is_named_by_its_file_name() {
        let mut err = Vec::new();
        let zst = [0x28, 0xb5, 0x2f, 0xfd];
        let name = name_to_load(&mut err, Path::new("/m/livepatch-x.ko.zst"), &zst).unwrap();
        assert_eq!(name.as_deref(), Some("livepatch_x"));
        assert!(String::from_utf8_lossy(&err).contains("zstd-compressed"));
        assert_eq!(
            name_to_load(&mut err, Path::new("a.ko"), b"\x7fELF").unwrap(),
            None
        );
        let e = name_to_load(&mut err, Path::new("/m/.ko.xz"), b"\xfd7zXZ\0").unwrap_err();
        assert!(
            e.message.contains("/m/.ko.xz: no module name"),
            "{}",
            e.message
        );
    }
}
