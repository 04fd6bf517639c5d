// SPDX-License-Identifier: GPL-2.0
//! Fake sysfs/proc trees for the tests (unit and end to end).
//!
//! Layout under a root directory: `sys/` (the `--sysfs-root`) and `proc/`
//! (the `--proc-root`). See [`crate::kernel::FakeKernel`] for how the fake
//! kernel acts on it.

use crate::kernel::fail_path;
use crate::model::Env;
use object::write::{Object, Relocation, Symbol, SymbolId, SymbolSection};
use object::{
    Architecture, BinaryFormat, Endianness, RelocationEncoding, RelocationFlags, RelocationKind,
    SectionKind, SymbolFlags, SymbolKind, SymbolScope,
};
use std::fs;
use std::path::{Path, PathBuf};

/// Replace a file's contents in one step, as a sysfs or procfs read sees
/// them: a reader racing the writer gets the old or the new value, never an
/// empty or partial file.
pub fn write_atomic(path: &Path, contents: impl AsRef<[u8]>) -> std::io::Result<()> {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("klp-tmp-{}-{seq}", std::process::id()));
    fs::write(&tmp, contents)?;
    fs::rename(&tmp, path)
}

pub struct FakeTree {
    root: PathBuf,
    _guard: Option<Box<dyn std::any::Any>>,
}

pub struct PatchBuilder {
    dir: PathBuf,
}

impl PatchBuilder {
    /// Add an object directory with `patched` and `<func,sympos>` dirs.
    pub fn object(&self, name: &str, patched: bool, funcs: &[&str]) -> &Self {
        let o = self.dir.join(name);
        fs::create_dir_all(&o).unwrap();
        fs::write(o.join("patched"), if patched { "1\n" } else { "0\n" }).unwrap();
        for f in funcs {
            fs::create_dir_all(o.join(f)).unwrap();
        }
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl FakeTree {
    /// A fake tree in `root` (which must exist); livepatch support included.
    pub fn at(root: &Path) -> FakeTree {
        let t = FakeTree {
            root: root.to_path_buf(),
            _guard: None,
        };
        fs::create_dir_all(t.sysfs().join("kernel/livepatch")).unwrap();
        fs::create_dir_all(t.sysfs().join("module")).unwrap();
        fs::create_dir_all(t.proc()).unwrap();
        t
    }

    /// A fake tree in a directory that lives as long as the value.
    #[cfg(test)]
    pub fn temp() -> FakeTree {
        let d = tempfile::tempdir().unwrap();
        let mut t = FakeTree::at(d.path());
        t._guard = Some(Box::new(d));
        t
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn sysfs(&self) -> PathBuf {
        self.root.join("sys")
    }
    pub fn proc(&self) -> PathBuf {
        self.root.join("proc")
    }
    pub fn env(&self) -> Env {
        Env::new(self.sysfs(), self.proc(), false)
    }
    /// A path under the sysfs root.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.sysfs().join(rel)
    }

    fn write_patch(dir: &Path, enabled: bool, transition: bool) {
        fs::create_dir_all(dir).unwrap();
        let b = |v: bool| if v { "1\n" } else { "0\n" };
        fs::write(dir.join("enabled"), b(enabled)).unwrap();
        fs::write(dir.join("transition"), b(transition)).unwrap();
        fs::write(dir.join("replace"), "0\n").unwrap();
        fs::write(dir.join("force"), "").unwrap();
    }

    /// A patch directory in /sys/kernel/livepatch.
    pub fn patch(&self, name: &str, enabled: bool, transition: bool) -> PatchBuilder {
        let dir = self.path("kernel/livepatch").join(name);
        Self::write_patch(&dir, enabled, transition);
        PatchBuilder { dir }
    }

    /// A patch the fake finit_module will put in place when `name` is loaded.
    pub fn staged_patch(&self, name: &str, enabled: bool, transition: bool) -> PatchBuilder {
        let dir = self.path(".klp-fake/staged").join(name);
        Self::write_patch(&dir, enabled, transition);
        PatchBuilder { dir }
    }

    /// A loaded module in /sys/module (`livepatch`: taint K).
    pub fn module(&self, name: &str, refcnt: u32, livepatch: bool) {
        let d = self.path("module").join(name);
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("initstate"), "live\n").unwrap();
        fs::write(d.join("refcnt"), format!("{refcnt}\n")).unwrap();
        fs::write(d.join("taint"), if livepatch { "K\n" } else { "\n" }).unwrap();
    }

    /// A task in /proc with its patch_state, comm and kernel stack.
    pub fn task(&self, pid: i32, tid: i32, comm: &str, state: i32, stack: &[&str]) {
        let d = crate::tasks::task_dir(&self.proc(), pid, tid);
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("patch_state"), format!("{state}\n")).unwrap();
        fs::write(d.join("comm"), format!("{comm}\n")).unwrap();
        let mut s = stack.join("\n");
        s.push('\n');
        fs::write(d.join("stack"), s).unwrap();
    }

    pub fn set_task_state(&self, pid: i32, tid: i32, state: i32) {
        let d = crate::tasks::task_dir(&self.proc(), pid, tid);
        write_atomic(&d.join("patch_state"), format!("{state}\n")).unwrap();
    }

    /// Write a file under the sysfs root.
    pub fn set(&self, rel: &str, value: &str) {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        write_atomic(&p, format!("{value}\n")).unwrap();
    }

    pub fn get(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel))
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    /// Make writes to (or, for `.klp-fake/finit_module` and
    /// `.klp-fake/delete_module`, calls of) `rel` fail with `errno`.
    pub fn fail(&self, rel: &str, errno: &str) {
        let p = fail_path(&self.path(rel));
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, errno).unwrap();
    }

    pub fn not_root(&self) {
        fs::create_dir_all(self.path(".klp-fake")).unwrap();
        fs::write(self.path(".klp-fake/not-root"), "").unwrap();
    }

    /// The fake kernel's call log.
    pub fn calls(&self) -> String {
        fs::read_to_string(self.path(".klp-fake/calls")).unwrap_or_default()
    }

    /// Write a tiny module file with the given .modinfo entries.
    pub fn module_file(&self, file: &str, modinfo: &[&str]) -> PathBuf {
        let p = self.root.join(file);
        fs::write(&p, module_elf(modinfo)).unwrap();
        p
    }
}

/// A relocatable ELF object as a module file, with a `.text` section and,
/// unless `modinfo` is empty, a `.modinfo` section of those entries.
pub fn module_object(arch: Architecture, endian: Endianness, modinfo: &[&str]) -> Object<'static> {
    let mut o = Object::new(BinaryFormat::Elf, arch, endian);
    let text = o.add_section(vec![], b".text".to_vec(), SectionKind::Text);
    o.append_section_data(text, b"\xc3", 1);
    if !modinfo.is_empty() {
        let mi = o.add_section(vec![], b".modinfo".to_vec(), SectionKind::ReadOnlyData);
        let bytes: Vec<u8> = modinfo.iter().flat_map(|e| e.bytes().chain([0])).collect();
        o.append_section_data(mi, &bytes, 1);
    }
    o
}

/// An x86_64 module file with the given `.modinfo` entries.
pub fn module_elf(modinfo: &[&str]) -> Vec<u8> {
    module_object(Architecture::X86_64, Endianness::Little, modinfo)
        .write()
        .unwrap()
}

/// The `.modinfo` of [`livepatch_elf`].
pub const LIVEPATCH_MODINFO: &[&str] = &[
    "license=GPL",
    "livepatch=Y",
    "depends=",
    "srcversion=0123456789ABCDEF012345",
    "name=livepatch_sample",
    "vermagic=6.8.0-klp SMP preempt mod_unload ",
];

/// A livepatch module as the kernel's build makes it, in little-endian `arch`
/// (x86_64 or i386): `struct klp_func` arrays for vmlinux
/// (cmdline_proc_show, meminfo_proc_show; a sized `funcs` symbol), for
/// test_klp_mod (mod_func, sympos 2; no symbol) and an empty one in .bss
/// for test_klp_other, the `struct klp_object` array pointing at them (vmlinux
/// with a callback), the `struct klp_patch` right after it, and a
/// `.klp.rela.test_klp_mod..text` section. Sizes of the structures are made
/// up: the reader must not depend on them.
pub fn livepatch_elf(arch: Architecture) -> Vec<u8> {
    let mut o = module_object(arch, Endianness::Little, LIVEPATCH_MODINFO);
    let ptr: u64 = if arch == Architecture::X86_64 { 8 } else { 4 };
    let (fs, os) = (0x50, 0x60); // sizeof(struct klp_func), sizeof(struct klp_object)

    let strs = o.add_section(
        vec![],
        b".rodata.str1.1".to_vec(),
        SectionKind::ReadOnlyString,
    );
    let str_at =
        |o: &mut Object, s: &str| o.append_section_data(strs, format!("{s}\0").as_bytes(), 1);
    let names = [
        "cmdline_proc_show",
        "meminfo_proc_show",
        "test_klp_mod",
        "mod_func",
        "test_klp_other",
    ];
    let [cmdline, meminfo, test_mod, mod_func, other] = names.map(|s| str_at(&mut o, s));
    let str_sym = o.section_symbol(strs);

    let text = o.section_id(object::write::StandardSection::Text);
    let func_sym = |o: &mut Object, name: &str| {
        let at = o.append_section_data(text, &[0xc3; 0x10], 0x10);
        o.add_symbol(Symbol {
            name: name.as_bytes().to_vec(),
            value: at,
            size: 0x10,
            kind: SymbolKind::Text,
            scope: SymbolScope::Compilation,
            weak: false,
            section: SymbolSection::Section(text),
            flags: SymbolFlags::None,
        })
    };
    let new_cmdline = func_sym(&mut o, "livepatch_cmdline_proc_show");
    let new_meminfo = func_sym(&mut o, "livepatch_meminfo_proc_show");
    let new_meminfo_at = o.symbol(new_meminfo).value;
    let new_mod_func = func_sym(&mut o, "livepatch_mod_func");
    let text_sym = o.section_symbol(text);

    let data = o.add_section(vec![], b".data".to_vec(), SectionKind::Data);
    let (vmlinux_funcs, mod_funcs, objs) = (0, 3 * fs, 5 * fs);
    let patch = objs + 4 * os;
    let mut bytes = vec![0u8; (patch + 2 * ptr) as usize];
    let sympos = |b: &mut [u8], entry: u64, v: u8| b[(entry + 2 * ptr) as usize] = v;
    sympos(&mut bytes, mod_funcs, 2);
    o.append_section_data(data, &bytes, 8);
    let data_symbol = |o: &mut Object, name: &str, section, value, size| {
        o.add_symbol(Symbol {
            name: name.as_bytes().to_vec(),
            value,
            size,
            kind: SymbolKind::Data,
            scope: SymbolScope::Compilation,
            weak: false,
            section: SymbolSection::Section(section),
            flags: SymbolFlags::None,
        })
    };
    data_symbol(&mut o, "funcs", data, vmlinux_funcs, 3 * fs);
    // An empty funcs[] is all zeroes: the compiler puts it in .bss.
    let bss = o.add_section(vec![], b".bss".to_vec(), SectionKind::UninitializedData);
    let no_funcs = o.append_section_bss(bss, fs, 8);
    data_symbol(&mut o, "no_funcs", bss, no_funcs, fs);
    let bss_sym = o.section_symbol(bss);
    let this = o.add_section(
        vec![],
        b".gnu.linkonce.this_module".to_vec(),
        SectionKind::Data,
    );
    o.append_section_data(this, &[0; 0x40], 8);
    let this_module = data_symbol(&mut o, "__this_module", this, 0, 0x40);
    let data_sym = o.section_symbol(data);
    let pointer = |o: &mut Object, offset: u64, symbol: SymbolId, addend: u64| {
        let flags = RelocationFlags::Generic {
            kind: RelocationKind::Absolute,
            encoding: RelocationEncoding::Generic,
            size: (ptr * 8) as u8,
        };
        let addend = addend as i64;
        o.add_relocation(
            data,
            Relocation {
                offset,
                symbol,
                addend,
                flags,
            },
        )
        .unwrap();
    };
    // vmlinux's funcs[]: by symbol, then by section and offset.
    pointer(&mut o, vmlinux_funcs, str_sym, cmdline);
    pointer(&mut o, vmlinux_funcs + ptr, new_cmdline, 0);
    pointer(&mut o, vmlinux_funcs + fs, str_sym, meminfo);
    pointer(&mut o, vmlinux_funcs + fs + ptr, text_sym, new_meminfo_at);
    // test_klp_mod's funcs[].
    pointer(&mut o, mod_funcs, str_sym, mod_func);
    pointer(&mut o, mod_funcs + ptr, new_mod_func, 0);
    // objs[]: vmlinux has a NULL name, and a callback.
    pointer(&mut o, objs + ptr, data_sym, vmlinux_funcs);
    pointer(&mut o, objs + 2 * ptr, new_cmdline, 0);
    pointer(&mut o, objs + os, str_sym, test_mod);
    pointer(&mut o, objs + os + ptr, data_sym, mod_funcs);
    pointer(&mut o, objs + 2 * os, str_sym, other);
    pointer(&mut o, objs + 2 * os + ptr, bss_sym, no_funcs);
    // struct klp_patch: .mod = THIS_MODULE, .objs = objs.
    pointer(&mut o, patch, this_module, 0);
    pointer(&mut o, patch + ptr, data_sym, objs);

    o.add_section(
        vec![],
        b".klp.rela.test_klp_mod..text".to_vec(),
        SectionKind::Other,
    );
    o.write().unwrap()
}
