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
//! The tables that code of the kernel reads for a function (jump labels,
//! alternatives, bug and exception tables, static calls) are not copied: a
//! function with entries in one is refused.

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

/// Tables of the kernel with entries for a function's instructions: a copied
/// function with entries in one is refused (the copy would need them too).
const TABLES: &[&str] = &[
    "__jump_table",
    "__bug_table",
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
            let RelocationFlags::Elf { r_type } = r.flags() else {
                return Err("not an ELF relocation".into());
            };
            let RelocationTarget::Symbol(target) = r.target() else {
                return Err(format!(
                    "{sec_name}+{:#x}: a relocation without a symbol",
                    offset - base
                ));
            };
            let (symbol, addend) = self
                .target(target, r.addend(), ends.pc_bias(&r, offset - base))
                .map_err(|e| format!("{sec_name}+{:#x}: {e}", offset - base))?;
            self.out
                .add_relocation(
                    id,
                    write::Relocation {
                        offset: offset - base,
                        symbol,
                        addend,
                        flags: RelocationFlags::Elf { r_type },
                    },
                )
                .map_err(|e| e.to_string())?;
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
                        "{f} has entries in {name} (jump labels, alternatives, bug or \
                         exception tables, static calls): copying them is not supported yet"
                    ));
                }
            }
        }
        Ok(())
    }
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
