// SPDX-License-Identifier: GPL-2.0
//! The changed and new functions of a patched object, and what they need,
//! extracted into a relocatable object of their own (the `object` crate's
//! writer) that kbuild links into the patch module.
//! A new function named as a callback ([`CALLBACKS`]) is copied as a global
//! `__klp_callback_<kind>`, for the generated `klp_object`.
//!
//! Copied from the patched object: the section of each changed or new function
//! (`-ffunction-sections`: one each), a changed function's renamed
//! `__klp_new_<name>` (global, for the generated `klp_func`); the merged
//! string and constant sections they use; the sections of data objects that the
//! original object does not have (new static variables); a read-only section
//! that no symbol names. The relocations of what is copied are copied; a
//! relocation to anything else (an unchanged function of the file, a variable
//! that the original object has too, an undefined symbol) names the symbol of
//! the patched object (vmlinux or a module) or of vmlinux that it means: one
//! that vmlinux exports as an undefined symbol, to be linked as usual; any
//! other as an undefined `.klp.sym.<object>.<name>,<sympos>`, which
//! [`super::module::klp_relocations`] turns into a klp relocation once the
//! module is linked (a linker keeps no `SHN_LIVEPATCH` symbol).
//!
//! The entries of the bug table (`__bug_table`: WARN and BUG) for copied code
//! are copied into the module's own, where the module loader finds them. The
//! other tables that code of the kernel reads for a function (jump labels,
//! alternatives, exception tables, static calls) are not copied: a function
//! with entries in one is refused.

use super::compare::{is_merged, is_string_literal, is_writable, symbol_at};
use super::symbols::Link;
use object::write::{self, SectionId, StandardSegment, SymbolId, SymbolSection};
use object::{
    Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget, SectionFlags,
    SectionIndex, SectionKind, SymbolFlags, SymbolKind, SymbolScope,
};
use std::collections::{HashMap, HashSet};

/// The prefix of the copies of changed functions.
pub const NEW_PREFIX: &str = "__klp_new_";

/// The callbacks a patch source can define, new functions of these names
/// (`static __used`, or the compiler drops them: the copy is global), and
/// their prototypes: the `klp_object` of the file's object gets them
/// (`klp_build_pre_patch` is its `callbacks.pre_patch`).
pub const CALLBACKS: &[(&str, &str)] = &[
    ("pre_patch", "int klp_build_pre_patch(struct klp_object *)"),
    (
        "post_patch",
        "void klp_build_post_patch(struct klp_object *)",
    ),
    (
        "pre_unpatch",
        "void klp_build_pre_unpatch(struct klp_object *)",
    ),
    (
        "post_unpatch",
        "void klp_build_post_unpatch(struct klp_object *)",
    ),
];

/// The callback (`pre_patch`, ...) that a function of this name is, if any.
pub fn callback_of(name: &str) -> Option<&'static str> {
    let kind = name.strip_prefix("klp_build_")?;
    CALLBACKS.iter().map(|c| c.0).find(|k| *k == kind)
}

/// The global name of the copy of a callback in the module.
pub fn callback_symbol(kind: &str) -> String {
    format!("__klp_callback_{kind}")
}

/// The symbol a klp relocation to `object`'s `name` at `sympos` names.
pub fn klp_sym(object: &str, name: &str, sympos: u64) -> String {
    format!(".klp.sym.{object}.{name},{sympos}")
}

/// The bug table: a `struct bug_entry` for each `ud2` of a WARN or BUG, which
/// report_bug() looks up to tell a warning from a BUG (and a module's in the
/// module's own table, module_bug_finalize()): without its entry, a WARN in a
/// copied function would be an invalid opcode.
const BUG_TABLE: &str = "__bug_table";

/// Tables of the kernel with entries for a function's instructions: a copied
/// function with entries in one is refused (the copy would need them too).
const TABLES: &[&str] = &[
    "__jump_table",
    "__ex_table",
    ".altinstructions",
    ".static_call_sites",
    ".retpoline_sites",
    ".return_sites",
    ".call_sites",
    ".ibt_endbr_seal",
    ".orc_unwind_ip",
    ".kcfi_traps",
];

/// Extracts the `changed` and `new` functions of the `patched` object (compiled
/// from `file`) into a new relocatable object, with a copy of each of the
/// `static_consts` (changed read-only static locals of changed functions, which
/// are otherwise the kernel's); `link` says how to reach a
/// symbol outside the module: (name, local), the name as in `original`, the object of
/// the unpatched file.
pub fn extract(
    original: &[u8],
    patched: &[u8],
    changed: &[String],
    new: &[String],
    static_consts: &[String],
    link: &dyn Fn(&str, bool) -> Result<Link, String>,
) -> Result<Vec<u8>, String> {
    let orig = object::File::parse(original).map_err(|e| format!("the original object: {e}"))?;
    let file = object::File::parse(patched).map_err(|e| format!("the patched object: {e}"))?;
    let old_names: HashSet<&str> = orig
        .symbols()
        .filter(|s| s.is_definition())
        .filter_map(|s| s.name().ok())
        .filter(|n| !static_consts.iter().any(|c| c == n))
        .collect();
    let mut x = Extractor {
        file: &file,
        out: write::Object::new(
            object::BinaryFormat::Elf,
            file.architecture(),
            file.endianness(),
        ),
        old_names,
        link,
        copies: HashMap::new(),
        queue: Vec::new(),
        undefined: HashMap::new(),
        renamed: HashMap::new(),
    };
    for name in changed {
        x.renamed
            .insert(name.clone(), format!("{NEW_PREFIX}{name}"));
    }
    for name in new {
        if let Some(kind) = callback_of(name) {
            x.renamed.insert(name.clone(), callback_symbol(kind));
        }
    }
    for name in changed.iter().chain(new) {
        let sym = x
            .function(name)
            .ok_or_else(|| format!("{name} has no function symbol in the patched object"))?;
        let index = sym.section_index().expect("a defined function");
        x.check_alone(index, name)?;
        x.copy(index)?;
    }
    while let Some(index) = x.queue.pop() {
        x.relocate(index)?;
    }
    x.copy_bug_entries()?;
    while let Some(index) = x.queue.pop() {
        x.relocate(index)?;
    }
    x.check_tables()?;
    x.out.write().map_err(|e| e.to_string())
}

struct Extractor<'a, 'data> {
    file: &'a object::File<'data>,
    out: write::Object<'static>,
    /// The names the original object defines but for the static constants to
    /// copy: data only the patched one has is new.
    old_names: HashSet<&'a str>,
    link: &'a dyn Fn(&str, bool) -> Result<Link, String>,
    /// The copied sections of the patched object, by their index there.
    copies: HashMap<SectionIndex, SectionId>,
    /// Copied sections whose relocations are still to copy.
    queue: Vec<SectionIndex>,
    /// The undefined symbols of the output, by name.
    undefined: HashMap<String, SymbolId>,
    /// The changed functions, and the names of their copies.
    renamed: HashMap<String, String>,
}

impl<'data> Extractor<'_, 'data> {
    fn function(&self, name: &str) -> Option<object::Symbol<'data, '_>> {
        self.file
            .symbols()
            .find(|s| s.kind() == SymbolKind::Text && s.is_definition() && s.name() == Ok(name))
    }

    /// A function must have its section to itself (`-ffunction-sections`): one
    /// put in a named section by an attribute shares it with others.
    fn check_alone(&self, index: SectionIndex, name: &str) -> Result<(), String> {
        let others: Vec<&str> = self
            .file
            .symbols()
            .filter(|s| s.section_index() == Some(index) && s.kind() == SymbolKind::Text)
            .filter_map(|s| s.name().ok())
            .filter(|n| !n.is_empty() && *n != name)
            .filter(|n| *n != format!("__pfx_{name}") && *n != format!("__cfi_{name}"))
            .collect();
        if others.is_empty() {
            return Ok(());
        }
        let section = self.section_name(index);
        Err(format!(
            "{name} shares its section {section} with {} (a section attribute?): \
             extracting it alone is not supported",
            others.join(", ")
        ))
    }

    fn section_name(&self, index: SectionIndex) -> String {
        self.file
            .section_by_index(index)
            .and_then(|s| s.name().map(str::to_string))
            .unwrap_or_else(|_| format!("section {}", index.0))
    }

    /// Copies a section of the patched object, once; its relocations later.
    fn copy(&mut self, index: SectionIndex) -> Result<SectionId, String> {
        if let Some(&id) = self.copies.get(&index) {
            return Ok(id);
        }
        let sec = self
            .file
            .section_by_index(index)
            .map_err(|e| e.to_string())?;
        let name = sec.name().map_err(|e| e.to_string())?;
        let SectionFlags::Elf { sh_flags, sh_type } = sec.flags() else {
            return Err(format!("{name}: not an ELF section"));
        };
        // A merged section is copied as plain data (its entries' size is not kept).
        let sh_flags = object::elf::SectionFlags(
            sh_flags.0 & !(object::elf::SHF_MERGE.0 | object::elf::SHF_STRINGS.0),
        );
        let mut kind = sec.kind();
        if matches!(kind, SectionKind::ReadOnlyString) {
            kind = SectionKind::ReadOnlyData;
        }
        let segment = self.out.segment_name(StandardSegment::Data).to_vec();
        let out_name = match self.function_of(index) {
            Some(f) => match self.renamed.get(&f) {
                Some(new) => format!(".text.{new}"),
                None => name.to_string(),
            },
            None => name.to_string(),
        };
        let id = self.out.add_section(segment, out_name.into_bytes(), kind);
        if kind == SectionKind::UninitializedData || kind == SectionKind::UninitializedTls {
            self.out.append_section_bss(id, sec.size(), sec.align());
        } else {
            let data = sec.data().map_err(|e| e.to_string())?;
            self.out.set_section_data(id, data.to_vec(), sec.align());
        }
        self.out.section_mut(id).flags = SectionFlags::Elf { sh_flags, sh_type };
        self.copies.insert(index, id);
        self.queue.push(index);
        // The named symbols of the section come along: a changed function as its
        // copy (global, for the klp_func), the others local.
        let base = sec.address();
        for sym in self.file.symbols() {
            if sym.section_index() != Some(index) || sym.name().is_err() {
                continue;
            }
            let name = sym.name().unwrap_or_default();
            if name.is_empty() || !matches!(sym.kind(), SymbolKind::Text | SymbolKind::Data) {
                continue;
            }
            let (out_name, scope) = match self.renamed.get(name) {
                Some(new) => (new.clone(), SymbolScope::Dynamic),
                None => (name.to_string(), SymbolScope::Compilation),
            };
            self.out.add_symbol(write::Symbol {
                name: out_name.into_bytes(),
                value: sym.address() - base,
                size: sym.size(),
                kind: sym.kind(),
                scope,
                weak: false,
                section: SymbolSection::Section(id),
                flags: SymbolFlags::None,
            });
        }
        Ok(id)
    }

    /// The changed or new function whose section `index` is, if any.
    fn function_of(&self, index: SectionIndex) -> Option<String> {
        self.file
            .symbols()
            .filter(|s| s.section_index() == Some(index) && s.kind() == SymbolKind::Text)
            .filter_map(|s| s.name().ok().map(str::to_string))
            .find(|n| self.renamed.contains_key(n))
    }

    /// Copies the relocations of a copied section.
    fn relocate(&mut self, index: SectionIndex) -> Result<(), String> {
        let sec = self
            .file
            .section_by_index(index)
            .map_err(|e| e.to_string())?;
        let sec_name = sec.name().unwrap_or_default().to_string();
        let id = self.copies[&index];
        let base = sec.address();
        let ends = super::insn::Ends::of(&sec, sec.data().unwrap_or_default(), 0);
        for (offset, r) in sec.relocations() {
            let at = offset - base;
            let bias = ends.pc_bias(&r, at);
            self.copy_relocation(&r, bias, id, at)
                .map_err(|e| format!("{sec_name}+{at:#x}: {e}"))?;
        }
        Ok(())
    }

    /// Adds relocation `r` of the patched object, whose place is `bias` away
    /// from what it means ([`super::insn::Ends::pc_bias`]), to the output's
    /// section `id` at `offset`.
    fn copy_relocation(
        &mut self,
        r: &object::Relocation,
        bias: i64,
        id: SectionId,
        offset: u64,
    ) -> Result<(), String> {
        let RelocationFlags::Elf { r_type } = r.flags() else {
            return Err("not an ELF relocation".into());
        };
        let RelocationTarget::Symbol(target) = r.target() else {
            return Err("a relocation without a symbol".into());
        };
        let (symbol, addend) = self.target(target, r.addend(), bias)?;
        self.out
            .add_relocation(
                id,
                write::Relocation {
                    offset,
                    symbol,
                    addend,
                    flags: RelocationFlags::Elf { r_type },
                },
            )
            .map_err(|e| e.to_string())
    }

    /// Copies the bug table's entries for copied code into a `__bug_table`
    /// of the output, with their relocations (the code's `ud2`, the file's
    /// name); the rest of the table stays the kernel's.
    fn copy_bug_entries(&mut self) -> Result<(), String> {
        let Some(sec) = self.file.section_by_name(BUG_TABLE) else {
            return Ok(());
        };
        let data = sec.data().map_err(|e| e.to_string())?;
        let base = sec.address();
        let relocs: Vec<(u64, object::Relocation)> =
            sec.relocations().map(|(o, r)| (o - base, r)).collect();
        let offsets: Vec<u64> = relocs.iter().map(|(o, _)| *o).collect();
        let size = bug_entry_size(data.len() as u64, &offsets)
            .ok_or_else(|| format!("{BUG_TABLE}: entries of a layout klp build does not know"))?;
        let mut out = None;
        for start in (0..data.len() as u64).step_by(size as usize) {
            let entry: Vec<&(u64, object::Relocation)> = relocs
                .iter()
                .filter(|(o, _)| (start..start + size).contains(o))
                .collect();
            // The first field is the code's address.
            let code = entry
                .iter()
                .find(|(o, _)| *o == start)
                .map(|(_, r)| r.target());
            let code = match code {
                Some(RelocationTarget::Symbol(i)) => self
                    .file
                    .symbol_by_index(i)
                    .ok()
                    .and_then(|s| s.section_index()),
                _ => None,
            };
            if !code.is_some_and(|c| self.copies.contains_key(&c)) {
                continue;
            }
            let id = match out {
                Some(id) => id,
                None => {
                    let segment = self.out.segment_name(StandardSegment::Data).to_vec();
                    let id = self.out.add_section(segment, BUG_TABLE.into(), sec.kind());
                    self.out.section_mut(id).flags = sec.flags();
                    out = Some(id);
                    id
                }
            };
            let bytes = &data[start as usize..(start + size) as usize];
            let at = self.out.append_section_data(id, bytes, sec.align());
            for (offset, r) in entry {
                // Data: the field is the place it names (`.long 1b - .`).
                self.copy_relocation(r, 0, id, at + offset - start)
                    .map_err(|e| format!("{BUG_TABLE}+{offset:#x}: {e}"))?;
            }
        }
        Ok(())
    }

    /// The output symbol and addend of a relocation to `target` + `addend`.
    fn target(
        &mut self,
        target: object::SymbolIndex,
        addend: i64,
        bias: i64,
    ) -> Result<(SymbolId, i64), String> {
        let sym = self
            .file
            .symbol_by_index(target)
            .map_err(|e| e.to_string())?;
        let name = sym.name().map_err(|e| e.to_string())?.to_string();
        let Some(section) = sym.section_index() else {
            if sym.is_undefined() {
                return Ok((self.outside(&name, false)?, addend));
            }
            return Err(format!("{name}: an absolute or common symbol"));
        };
        let sec = self
            .file
            .section_by_index(section)
            .map_err(|e| e.to_string())?;
        let place = sym.address() as i64 + addend + bias;
        let named = symbol_at(self.file, section, place);
        let copy = match &named {
            _ if self.copies.contains_key(&section) => true,
            _ if is_merged(&sec, false) => true,
            Some((n, _, _)) if is_string_literal(n) => true,
            Some((n, _, _)) if self.renamed.contains_key(n) => true,
            // What the original object does not have is new: the module's own.
            Some((n, _, _)) => !self.old_names.contains(n.as_str()),
            None => !is_writable(&sec),
        };
        if copy {
            let id = self.copy(section)?;
            let off = sym.address() as i64 - sec.address() as i64;
            return Ok((self.out.section_symbol(id), addend + off));
        }
        let Some((n, _, start)) = named else {
            return Err(format!(
                "nothing to name the target {}+{:#x}, writable data without a symbol",
                sec.name().unwrap_or_default(),
                place - bias
            ));
        };
        let local = self
            .file
            .symbols()
            .find(|s| s.name() == Ok(n.as_str()) && s.section_index() == Some(section))
            .is_some_and(|s| s.is_local());
        let symbol = self.outside(&n, local)?;
        Ok((symbol, addend + sym.address() as i64 - start))
    }

    /// The undefined symbol of the output for `name`, a symbol of the patched
    /// object or of vmlinux.
    fn outside(&mut self, name: &str, local: bool) -> Result<SymbolId, String> {
        let out_name = match (self.link)(name, local)? {
            Link::Export => name.to_string(),
            Link::Klp { object, sympos } => klp_sym(&object, name, sympos),
        };
        if let Some(&id) = self.undefined.get(&out_name) {
            return Ok(id);
        }
        let id = self.out.add_symbol(write::Symbol {
            name: out_name.clone().into_bytes(),
            value: 0,
            size: 0,
            kind: SymbolKind::Unknown,
            scope: SymbolScope::Unknown,
            weak: false,
            section: SymbolSection::Undefined,
            flags: SymbolFlags::None,
        });
        self.undefined.insert(out_name, id);
        Ok(id)
    }

    /// Refuses copied code that a kernel table has entries for.
    fn check_tables(&self) -> Result<(), String> {
        for sec in self.file.sections() {
            let name = sec.name().unwrap_or_default();
            if !TABLES
                .iter()
                .any(|t| name == *t || name.starts_with(&format!("{t}.")))
            {
                continue;
            }
            for (_, r) in sec.relocations() {
                let RelocationTarget::Symbol(i) = r.target() else {
                    continue;
                };
                let Ok(sym) = self.file.symbol_by_index(i) else {
                    continue;
                };
                let Some(target) = sym.section_index() else {
                    continue;
                };
                // Code only: the tables name strings too (a bug entry's file),
                // and a merged string section is copied whole.
                let code = self
                    .file
                    .section_by_index(target)
                    .is_ok_and(|s| s.kind() == SectionKind::Text);
                if !code {
                    continue;
                }
                if let Some(f) = self.function_of(target).or_else(|| {
                    self.copies
                        .contains_key(&target)
                        .then(|| self.section_name(target))
                }) {
                    return Err(format!(
                        "{f} has entries in {name} (jump labels, alternatives, \
                         exception tables, static calls): copying them is not supported yet"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The size of an entry of a bug table of `len` bytes whose relocations are
/// at `offsets`: `struct bug_entry` with relative pointers (x86-64) is the
/// code's address, with CONFIG_DEBUG_BUGVERBOSE the file's name and the line,
/// then the flags: 12 bytes with two relocations, or 8 with one.
fn bug_entry_size(len: u64, offsets: &[u64]) -> Option<u64> {
    let mut offsets = offsets.to_vec();
    offsets.sort_unstable();
    [(12, &[0, 4][..]), (8, &[0][..])]
        .into_iter()
        .find(|&(size, fields)| {
            let entries = (0..len / size).map(|k| k * size);
            len % size == 0
                && entries
                    .flat_map(|start| fields.iter().map(move |f| start + f))
                    .eq(offsets.iter().copied())
        })
        .map(|(size, _)| size)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::Path;

    /// Compiles C source with the host's `cc` as the kernel compiles: one
    /// section per function and data object.
    pub fn cc(dir: &Path, name: &str, source: &str) -> Vec<u8> {
        let flags = [
            "-O2",
            "-fno-pic",
            "-mcmodel=kernel",
            "-ffunction-sections",
            "-fdata-sections",
            "-fno-asynchronous-unwind-tables",
        ];
        crate::build::compare::tests::cc_with(dir, name, source, &flags)
    }

    pub const OLD: &str = r#"
int printk(const char *, ...);
extern int hidden_global;
int counter;
static int __attribute__((noinline)) helper(int x) { counter += x; return x * 3; }
int __attribute__((noinline)) show(int v) { return helper(v) + hidden_global; }
int __attribute__((noinline)) other(int v) { return helper(v + 1); }
"#;

    /// show prints, calls a new function, a static one and reads an unexported
    /// global; a new static variable.
    pub const NEW: &str = r#"
int printk(const char *, ...);
extern int hidden_global;
int counter;
static int fresh_count = 5;
static int __attribute__((noinline)) helper(int x) { counter += x; return x * 3; }
static int __attribute__((noinline)) added(int x) { fresh_count++; return x ^ fresh_count; }
int __attribute__((noinline)) show(int v) { printk("patched %d\n", v); return added(helper(v)) + hidden_global; }
int __attribute__((noinline)) other(int v) { return helper(v + 1); }
"#;

    pub fn link(name: &str, local: bool) -> Result<Link, String> {
        match (name, local) {
            ("printk", false) => Ok(Link::Export),
            ("helper", true) => Ok(Link::Klp {
                object: "vmlinux".into(),
                sympos: 2,
            }),
            ("counter" | "hidden_global", false) => Ok(Link::Klp {
                object: "vmlinux".into(),
                sympos: 0,
            }),
            _ => Err(format!("unexpected reference to {name} (local: {local})")),
        }
    }

    pub fn extracted() -> Vec<u8> {
        let d = tempfile::tempdir().unwrap();
        let (old, new) = (cc(d.path(), "old", OLD), cc(d.path(), "new", NEW));
        extract(&old, &new, &["show".into()], &["added".into()], &[], &link).unwrap()
    }

    /// Each relocation of `section` as "target symbol" (section symbols by
    /// their section's name).
    fn targets(f: &object::File, section: &str) -> Vec<String> {
        let sec = f.section_by_name(section).unwrap();
        sec.relocations()
            .map(|(_, r)| {
                let RelocationTarget::Symbol(i) = r.target() else {
                    panic!("{r:?}")
                };
                let s = f.symbol_by_index(i).unwrap();
                match s.section_index() {
                    Some(j) if s.kind() == SymbolKind::Section => {
                        f.section_by_index(j).unwrap().name().unwrap().to_string()
                    }
                    _ => s.name().unwrap().to_string(),
                }
            })
            .collect()
    }

    #[test]
    fn changed_and_new_functions_are_extracted_with_their_references() {
        let out = extracted();
        let f = object::File::parse(&*out).unwrap();
        let names: Vec<String> = f
            .sections()
            .map(|s| s.name().unwrap().to_string())
            .collect();
        assert!(names.contains(&".text.__klp_new_show".into()), "{names:?}");
        assert!(names.contains(&".text.added".into()), "{names:?}");
        // The unchanged functions stay in vmlinux.
        assert!(
            !names
                .iter()
                .any(|n| n.contains("helper") || n.contains("other")),
            "{names:?}"
        );
        let new_show = f.symbol_by_name("__klp_new_show").unwrap();
        assert!(new_show.is_global() && new_show.kind() == SymbolKind::Text);
        assert!(f.symbol_by_name("show").is_none());
        let added = f.symbol_by_name("added").unwrap();
        assert!(added.is_local());
        let mut t = targets(&f, ".text.__klp_new_show");
        t.sort();
        t.dedup();
        // printk is exported: linked as usual; the string is copied; helper (a
        // static function of the file) and the unexported global are klp symbols;
        // the new function is called in the module.
        let str_section = t.iter().find(|n| n.starts_with(".rodata")).cloned();
        assert!(str_section.is_some(), "{t:?}");
        for want in [
            ".klp.sym.vmlinux.helper,2",
            ".klp.sym.vmlinux.hidden_global,0",
            "printk",
            ".text.added",
        ] {
            assert!(
                t.iter().any(|n| n == want),
                "no relocation to {want}: {t:?}"
            );
        }
        let s = f.section_by_name(&str_section.unwrap()).unwrap();
        assert!(
            s.data().unwrap().windows(10).any(|w| w == b"patched %d"),
            "the string is not copied"
        );
        // The new static variable is copied; counter, which the original has, is not.
        let t = targets(&f, ".text.added");
        assert!(t.iter().any(|n| n.contains("fresh_count")), "{t:?}");
        assert!(f.symbol_by_name("fresh_count").is_some());
        assert!(f.symbol_by_name("counter").is_none());
        for sym in f
            .symbols()
            .filter(|s| s.name().unwrap_or("").starts_with(".klp.sym."))
        {
            assert!(sym.is_undefined(), "{sym:?}");
        }
    }

    #[test]
    fn a_callback_is_copied_as_a_global_symbol() {
        let d = tempfile::tempdir().unwrap();
        let with = format!(
            "{NEW}struct klp_object;\n\
             int klp_build_pre_patch(struct klp_object *o) {{ printk(\"pre\"); return 0; }}\n"
        );
        let (old, new) = (cc(d.path(), "old", OLD), cc(d.path(), "new", &with));
        let new_fns = ["added".to_string(), "klp_build_pre_patch".to_string()];
        let out = extract(&old, &new, &["show".into()], &new_fns, &[], &link).unwrap();
        let f = object::File::parse(&*out).unwrap();
        let cb = f.symbol_by_name("__klp_callback_pre_patch").unwrap();
        assert!(cb.is_global() && cb.kind() == SymbolKind::Text, "{cb:?}");
        assert!(f
            .section_by_name(".text.__klp_callback_pre_patch")
            .is_some());
        assert_eq!(callback_of("klp_build_post_unpatch"), Some("post_unpatch"));
        assert_eq!(callback_of("klp_build_other"), None);
    }

    #[test]
    fn a_reference_vmlinux_does_not_have_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let (old, new) = (cc(d.path(), "old", OLD), cc(d.path(), "new", NEW));
        let no_printk = |name: &str, local: bool| match name {
            "printk" => Err("printk is not a symbol of vmlinux".to_string()),
            _ => link(name, local),
        };
        let e = extract(
            &old,
            &new,
            &["show".into()],
            &["added".into()],
            &[],
            &no_printk,
        )
        .unwrap_err();
        assert!(e.contains("printk is not a symbol of vmlinux"), "{e}");
        let e = extract(&old, &new, &["nothing".into()], &[], &[], &link).unwrap_err();
        assert!(e.contains("nothing has no function symbol"), "{e}");
    }

    #[test]
    fn a_changed_static_constant_is_copied_with_its_function() {
        let src = r#"
int __attribute__((noinline)) show(int i) {
	static const char flags[8] = "abcdefg";
	return flags[i & 7];
}
"#;
        let d = tempfile::tempdir().unwrap();
        let old = cc(d.path(), "old", src);
        let new = cc(d.path(), "new", &src.replace("abcdefg", "ABCDEFG"));
        // The compiler's name for it: clang's show.flags, gcc's flags.N.
        let parsed = object::File::parse(&*new).unwrap();
        let flags = parsed
            .symbols()
            .filter_map(|s| s.name().ok())
            .find(|n| n.contains("flags"))
            .unwrap()
            .to_string();
        let out = extract(
            &old,
            &new,
            &["show".into()],
            &[],
            std::slice::from_ref(&flags),
            &link,
        )
        .unwrap();
        let out = object::File::parse(&*out).unwrap();
        assert!(
            out.sections()
                .any(|s| s.data().is_ok_and(|d| d.starts_with(b"ABCDEFG"))),
            "the new constant is in the module"
        );
        assert!(out
            .symbols()
            .all(|s| !s.is_undefined() || !s.name().unwrap_or("").contains("flags")));
        // Not named a static constant to copy, it is the kernel's.
        let e = extract(&old, &new, &["show".into()], &[], &[], &link).unwrap_err();
        assert!(
            e.contains(&format!("unexpected reference to {flags}")),
            "{e}"
        );
    }

    /// Two functions with a WARN each, as x86-64's _BUG_FLAGS() writes it: a
    /// `ud2` and its bug_entry, with (`verbose`, CONFIG_DEBUG_BUGVERBOSE) or
    /// without the file and line; f is patched.
    fn bug_table(verbose: bool) -> (Vec<u8>, Vec<u8>) {
        let entry = if verbose {
            r#""2: .long 1b - .\n .long %c0 - .\n .word %c1\n .word 0\n .org 2b+12\n""#
        } else {
            r#""2: .long 1b - .\n .word 0\n .org 2b+8\n""#
        };
        let src = format!(
            r#"
#define WARN(line) asm volatile("1: ud2\n .pushsection __bug_table,\"aw\"\n" {entry} \
	".popsection" :: "i" ("lib/f.c"), "i" (line))
int __attribute__((noinline)) g(int x) {{ if (x > 100) WARN(20); return x + 1; }}
int __attribute__((noinline)) f(int x) {{ if (x < 0) WARN(10); return x; }}
"#
        );
        let d = tempfile::tempdir().unwrap();
        let old = cc(d.path(), "old", &src);
        let new = cc(d.path(), "new", &src.replace("return x;", "return x * 2;"));
        (old, new)
    }

    #[test]
    fn the_bug_table_entries_of_a_copied_function_are_copied() {
        for (verbose, size) in [(true, 12), (false, 8)] {
            let (old, new) = bug_table(verbose);
            let out = extract(&old, &new, &["f".into()], &[], &[], &link).unwrap();
            let out = object::File::parse(&*out).unwrap();
            let table = out.section_by_name(BUG_TABLE).expect("a bug table");
            // f's entry only, not g's.
            let data = table.data().unwrap();
            assert_eq!(data.len(), size, "verbose: {verbose}");
            let mut t = targets(&out, BUG_TABLE);
            assert_eq!(t.remove(0), ".text.__klp_new_f");
            if verbose {
                assert_eq!(u16::from_le_bytes([data[8], data[9]]), 10);
                let file = out.section_by_name(&t[0]).unwrap();
                assert!(file.data().unwrap().windows(7).any(|w| w == b"lib/f.c"));
            }
            assert_eq!(t.len(), usize::from(verbose), "{t:?}");
        }
    }

    #[test]
    fn a_bug_table_of_another_layout_is_refused() {
        assert_eq!(bug_entry_size(24, &[12, 0, 4, 16]), Some(12));
        assert_eq!(bug_entry_size(16, &[8, 0]), Some(8));
        // An entry without its file, or a size that is neither.
        assert_eq!(bug_entry_size(24, &[0, 4, 12]), None);
        assert_eq!(bug_entry_size(20, &[0, 10]), None);
    }

    #[test]
    fn a_function_with_a_jump_table_entry_is_refused() {
        let src = r#"
int __attribute__((noinline)) f(int x) {
	asm goto("1: nop\n .pushsection __jump_table, \"aw\"\n .quad 1b, %l[out]\n .popsection" :::: out);
	return x;
out:
	return x + 1;
}
"#;
        let d = tempfile::tempdir().unwrap();
        let old = cc(d.path(), "old", src);
        let new = cc(d.path(), "new", &src.replace("x + 1", "x + 2"));
        let e = extract(&old, &new, &["f".into()], &[], &[], &link).unwrap_err();
        assert!(e.contains("f has entries in __jump_table"), "{e}");
    }
}
