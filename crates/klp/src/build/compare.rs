// SPDX-License-Identifier: GPL-2.0
//! Two objects compiled from the original and the patched source, with
//! `-ffunction-sections -fdata-sections`, compared function by function (and
//! data object by object).
//!
//! A function is its symbol's bytes and the relocations inside them. What
//! carries no meaning is normalised away: the section a function or object is
//! in (it is found by its symbol), the `.llvm.NNNN` suffix of local symbols, the
//! place of a string literal in a merged `.rodata.str*` section (a relocation to
//! one compares the string), and a relocation's form "section symbol + offset"
//! (it names the symbol at that offset).

use object::{
    Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget, SectionIndex,
    SymbolKind,
};
use std::collections::BTreeMap;

/// What differs between the original and the patched object.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    /// Functions in both whose code differs.
    pub changed: Vec<String>,
    /// Functions only in the patched object.
    pub new: Vec<String>,
    /// Functions only in the original object.
    pub removed: Vec<String>,
    /// The changed functions that are `__init` (in `.init.text`).
    pub changed_init: Vec<String>,
    /// Data objects (`.data*`, `.rodata*`, `.bss*`: an initial value of 0) in
    /// both whose bytes differ, but for the `static_consts`.
    pub changed_data: Vec<String>,
    /// Read-only static local variables whose initial value differs (local
    /// symbols named `show.flags`, clang's name for `flags` in `show`, inlined
    /// or not; gcc's `flags.0`): only the functions of the file can name them,
    /// so the module gets a copy of each, and each function that refers to one
    /// is a changed function.
    pub static_consts: Vec<String>,
    /// Functions in both whose prototypes (from DWARF) differ, changed or not.
    pub changed_prototypes: Vec<PrototypeChange>,
}

/// A function whose prototype differs between the original and the patched object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrototypeChange {
    pub function: String,
    pub old: String,
    pub new: String,
}

/// Compares two relocatable objects (ELF), `old` and `new`.
///
/// Function prototypes are compared where both objects have DWARF (`-g`) for
/// the function; the `.debug_*` sections take no other part.
pub fn compare(old: &[u8], new: &[u8]) -> Result<Changes, String> {
    let old_protos =
        super::dwarf::prototypes(old).map_err(|e| format!("the original object: {e}"))?;
    let new_protos =
        super::dwarf::prototypes(new).map_err(|e| format!("the patched object: {e}"))?;
    let old = Items::read(old).map_err(|e| format!("the original object: {e}"))?;
    let new = Items::read(new).map_err(|e| format!("the patched object: {e}"))?;
    let mut c = Changes::default();
    for (name, f) in &old.functions {
        match new.functions.get(name) {
            None => c.removed.push(name.clone()),
            Some(g) if g.content != f.content && !lines_only(&f.content, &g.content) => {
                c.changed.push(name.clone());
                if g.init || f.init {
                    c.changed_init.push(name.clone());
                }
            }
            Some(_) => {}
        }
    }
    c.new = new
        .functions
        .keys()
        .filter(|n| !old.functions.contains_key(*n))
        .cloned()
        .collect();
    let changed_data = old
        .data
        .iter()
        .filter(|(n, d)| new.data.get(*n).is_some_and(|e| e.content != d.content));
    for (name, d) in changed_data {
        if d.local && !d.writable && name.contains('.') {
            c.static_consts.push(name.clone());
        } else {
            c.changed_data.push(name.clone());
        }
    }
    for (name, f) in &new.functions {
        let uses_const = f.content.relocs.iter().any(
            |r| matches!(&r.target, Target::Symbol { name, .. } if c.static_consts.contains(name)),
        );
        if uses_const && old.functions.contains_key(name) && !c.changed.contains(name) {
            c.changed.push(name.clone());
        }
    }
    c.changed.sort();
    c.changed_prototypes = old
        .functions
        .keys()
        .filter(|n| new.functions.contains_key(*n))
        .filter_map(|n| match (old_protos.get(n), new_protos.get(n)) {
            (Some(a), Some(b)) if a != b => Some(PrototypeChange {
                function: n.clone(),
                old: a.clone(),
                new: b.clone(),
            }),
            _ => None,
        })
        .collect();
    Ok(c)
}

/// The functions that one of two objects defines and the other does not, but
/// for objtool's `__pfx_<fn>` padding symbols (which a kernel's object has and
/// a compile alone does not): of `kernel`, kbuild's object of a file, and
/// `compiled`, the same file compiled from the source tree, empty if they
/// match.
pub fn function_differences(kernel: &[u8], compiled: &[u8]) -> Result<Vec<String>, String> {
    let names = |bytes: &[u8]| -> Result<std::collections::BTreeSet<String>, String> {
        let items = Items::read(bytes)?;
        Ok(items
            .functions
            .into_keys()
            .filter(|n| !n.starts_with("__pfx_"))
            .collect())
    };
    let (a, b) = (names(kernel)?, names(compiled)?);
    Ok(a.symmetric_difference(&b).cloned().collect())
}

/// The name a symbol is compared by: ThinLTO's `.llvm.<digits>` suffix, which
/// promoted local symbols carry and which changes with any change to the
/// module, removed.
pub fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(i) = rest.find(".llvm.") {
        let after = &rest[i + ".llvm.".len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let ends = after[digits..].is_empty() || after[digits..].starts_with('.');
        out.push_str(&rest[..i]);
        if digits == 0 || !ends {
            out.push_str(".llvm.");
        }
        rest = if digits > 0 && ends {
            &after[digits..]
        } else {
            after
        };
    }
    out.push_str(rest);
    out
}

/// A relocation, in terms that do not depend on the layout of the object.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reloc {
    /// From the start of the function or data object.
    offset: u64,
    r_type: u32,
    target: Target,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// A symbol (or the symbol at that offset of a section), and the addend from it.
    Symbol { name: String, addend: i64 },
    /// A string of a merged string section, and where in it the relocation points.
    String { text: Vec<u8>, at: i64 },
    /// A place in a section that holds no symbol there.
    Section { name: String, addend: i64 },
}

#[derive(Debug, PartialEq, Eq)]
struct Content {
    bytes: Vec<u8>,
    relocs: Vec<Reloc>,
}

struct Item {
    init: bool,
    /// In a writable section.
    writable: bool,
    /// A local symbol.
    local: bool,
    content: Content,
}

/// The functions that clang's KASAN instrumentation adds to an object.
const ASAN_FUNCTIONS: &[&str] = &["asan.module_ctor", "asan.module_dtor"];

/// The functions and data objects of one object, by name.
struct Items {
    functions: BTreeMap<String, Item>,
    data: BTreeMap<String, Item>,
}

impl Items {
    fn read(bytes: &[u8]) -> Result<Items, String> {
        let file = object::File::parse(bytes).map_err(|e| e.to_string())?;
        let mut items = Items {
            functions: BTreeMap::new(),
            data: BTreeMap::new(),
        };
        for sym in file.symbols() {
            let (Some(index), Ok(name)) = (sym.section_index(), sym.name()) else {
                continue;
            };
            if name.is_empty() || is_string_literal(name) {
                continue;
            }
            let section = file.section_by_index(index).map_err(|e| e.to_string())?;
            let map = match sym.kind() {
                SymbolKind::Text => &mut items.functions,
                SymbolKind::Data if is_data(&section) => &mut items.data,
                _ => continue,
            };
            let item = Item {
                init: section.name() == Ok(".init.text"),
                writable: is_writable(&section),
                local: sym.is_local(),
                content: content(&file, &section, sym.address(), sym.size())?,
            };
            let name = normalise(name);
            // Two local symbols of one name: told apart by their order.
            let mut key = name.clone();
            let mut n = 1;
            while map.contains_key(&key) {
                n += 1;
                key = format!("{name}#{n}");
            }
            map.insert(key, item);
        }
        // KASAN's constructor and destructor register the file's globals with
        // a table of descriptors (`__unnamed_N`): compiler artefacts, which
        // change with any global added and which no live patch replaces.
        for f in ASAN_FUNCTIONS {
            let Some(f) = items.functions.remove(*f) else {
                continue;
            };
            for r in f.content.relocs {
                if let Target::Symbol { name, .. } = r.target {
                    items.data.remove(&name);
                }
            }
        }
        Ok(items)
    }
}

/// `.data`, `.data.*`, `.rodata`, `.rodata.*`, `.bss`, `.bss.*`, but not merged
/// strings and constants (`.rodata.str1.1`, gcc's `.rodata.<fn>.str1.1`,
/// `.rodata.cst16`), which have no symbols of their own.
fn is_data(section: &object::Section) -> bool {
    let name = section.name().unwrap_or_default();
    let tail = |prefix: &str| {
        name.strip_prefix(prefix)
            .is_some_and(|t| t.is_empty() || t.starts_with('.'))
    };
    (tail(".data") || tail(".rodata") || tail(".bss")) && !is_merged(section, false)
}

/// A section of merged constants (`SHF_MERGE`), of strings if `strings`.
pub fn is_merged(section: &object::Section, strings: bool) -> bool {
    let want = object::elf::SHF_MERGE.0
        | if strings {
            object::elf::SHF_STRINGS.0
        } else {
            0
        };
    sh_flags(section) & want == want
}

/// A writable section (`SHF_WRITE`).
pub fn is_writable(section: &object::Section) -> bool {
    sh_flags(section) & object::elf::SHF_WRITE.0 != 0
}

/// The section's ELF flags (0 for another format).
fn sh_flags(section: &object::Section) -> u64 {
    match section.flags() {
        object::SectionFlags::Elf { sh_flags, .. } => sh_flags.0,
        _ => 0,
    }
}

/// The bytes of `[start, start + size)` of a section (to its end if `size` is 0,
/// as for an assembler label) and the relocations there.
fn content(
    file: &object::File,
    section: &object::Section,
    start: u64,
    size: u64,
) -> Result<Content, String> {
    let data = section.data().map_err(|e| e.to_string())?;
    let base = section.address();
    let from = start.saturating_sub(base) as usize;
    let to = if size == 0 {
        data.len()
    } else {
        (from + size as usize).min(data.len())
    };
    let bytes = if section.kind() == object::SectionKind::UninitializedData {
        vec![0; size as usize]
    } else {
        data.get(from..to).unwrap_or_default().to_vec()
    };
    let ends = super::insn::Ends::of(section, &bytes, from as u64);
    let mut relocs = Vec::new();
    for (offset, r) in section.relocations() {
        let at = offset.wrapping_sub(base);
        if at < from as u64 || at >= to as u64 {
            continue;
        }
        let RelocationFlags::Elf { r_type } = r.flags() else {
            return Err("not an ELF relocation".into());
        };
        let target = match r.target() {
            RelocationTarget::Symbol(i) => target(file, i, r.addend(), ends.pc_bias(&r, at))?,
            other => Target::Section {
                name: format!("{other:?}"),
                addend: r.addend(),
            },
        };
        relocs.push(Reloc {
            offset: at - from as u64,
            r_type: r_type.0,
            target,
        });
    }
    relocs.sort_by_key(|r| r.offset);
    Ok(Content { bytes, relocs })
}

fn target(
    file: &object::File,
    index: object::SymbolIndex,
    addend: i64,
    bias: i64,
) -> Result<Target, String> {
    let sym = file.symbol_by_index(index).map_err(|e| e.to_string())?;
    let name = sym.name().map_err(|e| e.to_string())?;
    let named = |name: &str| Target::Symbol {
        name: normalise(name),
        addend,
    };
    let Some(section) = sym.section_index() else {
        return Ok(named(name));
    };
    let sec = file.section_by_index(section).map_err(|e| e.to_string())?;
    let place = sym.address() as i64 + addend + bias;
    let at_place = symbol_at(file, section, place);
    let literal = is_string_literal(name)
        || at_place
            .as_ref()
            .is_some_and(|(n, _, _)| is_string_literal(n));
    if is_merged(&sec, true) || literal {
        if let Some((text, at)) = string_at(sec.data().unwrap_or_default(), place) {
            return Ok(Target::String { text, at });
        }
    }
    // An assembler's local label (gcc's `.LC0`) is named by its number, which
    // counts from the start of the file: it counts as a section symbol.
    if sym.kind() != SymbolKind::Section && !name.is_empty() && !name.starts_with(".L") {
        return Ok(named(name));
    }
    Ok(match at_place {
        Some((name, _, start)) => Target::Symbol {
            name: normalise(&name),
            addend: addend + sym.address() as i64 - start,
        },
        None => Target::Section {
            name: normalise(sec.name().map_err(|e| e.to_string())?),
            addend: place - bias,
        },
    })
}

/// The functions that take a caller's `__LINE__` as their second argument
/// (`might_fault()` and the like, in a kernel with `CONFIG_DEBUG_ATOMIC_SLEEP`
/// or lockdep).
const LINE_TAKERS: &[&str] = &[
    "__might_fault",
    "__might_sleep",
    "__might_resched",
    "lockdep_rcu_suspicious",
];

/// Whether two functions differ only in line numbers that they pass to a
/// [`LINE_TAKERS`] function: the same relocations, the same bytes but in the
/// immediates of `mov $imm32, %esi` instructions (x86: `be imm32`) that a call
/// to one follows within 32 bytes. A diff that adds or removes lines above a
/// function shifts these without changing what it does.
fn lines_only(a: &Content, b: &Content) -> bool {
    if a.relocs != b.relocs || a.bytes.len() != b.bytes.len() {
        return false;
    }
    let line_call_after = |end: usize| {
        a.relocs.iter().any(|r| {
            let at = r.offset as usize;
            at >= end
                && at < end + 32
                && matches!(&r.target, Target::Symbol { name, .. } if LINE_TAKERS.contains(&name.as_str()))
        })
    };
    let mut i = 0;
    while i < a.bytes.len() {
        if a.bytes[i] == b.bytes[i] {
            i += 1;
            continue;
        }
        // The differing byte must be in the immediate of a `mov $imm32, %esi`
        // that starts at most 4 bytes before it.
        let Some(op) = (i.saturating_sub(4)..i)
            .rev()
            .find(|&p| a.bytes[p] == 0xbe && b.bytes[p] == 0xbe && i < p + 5)
        else {
            return false;
        };
        let end = op + 5;
        if end > a.bytes.len() || !line_call_after(end) {
            return false;
        }
        i = end;
    }
    true
}

/// Whether `name` is clang's for a string literal that is an object of its
/// own (`.str`, `.str.12`: KASAN gives each a red zone, so they are not
/// merged). They are numbered in the order of the file, so a string added
/// renumbers the ones after it: they are compared by their text, and a copied
/// function takes a copy of each it uses.
pub fn is_string_literal(name: &str) -> bool {
    name.strip_prefix(".str").is_some_and(|n| {
        n.is_empty()
            || n.strip_prefix('.')
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// The NUL-terminated string of `data` holding offset `place`, and where in it
/// `place` is.
fn string_at(data: &[u8], place: i64) -> Option<(Vec<u8>, i64)> {
    let p = usize::try_from(place).ok().filter(|&p| p < data.len())?;
    let start = data[..p].iter().rposition(|&b| b == 0).map_or(0, |i| i + 1);
    let end = data[p..]
        .iter()
        .position(|&b| b == 0)
        .map_or(data.len(), |i| p + i);
    Some((data[start..end].to_vec(), (p - start) as i64))
}

/// The named function or data symbol of `section` that covers `place`: its
/// name, kind and address.
pub(super) fn symbol_at(
    file: &object::File,
    section: SectionIndex,
    place: i64,
) -> Option<(String, SymbolKind, i64)> {
    file.symbols()
        .filter(|s| s.section_index() == Some(section))
        .filter(|s| matches!(s.kind(), SymbolKind::Text | SymbolKind::Data))
        .filter_map(|s| {
            let start = s.address() as i64;
            let covers = place >= start && place < start + (s.size() as i64).max(1);
            let name = s.name().ok().filter(|n| !n.is_empty())?;
            covers.then(|| (name.to_string(), s.kind(), start))
        })
        .next()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::Path;
    use std::process::Command;

    /// Compiles C source with the host's `cc`, as `klp build` compiles the
    /// kernel's: with DWARF, which must change no function (every test here
    /// compares objects that have it: lines that move move only `.debug_line`).
    fn cc(dir: &Path, name: &str, source: &str) -> Vec<u8> {
        cc_with(
            dir,
            name,
            source,
            &[
                "-O2",
                "-ffunction-sections",
                "-fdata-sections",
                "-g",
                "-gdwarf-5",
            ],
        )
    }

    /// Compiles C source `name.c` in `dir` with the host's `cc` and `flags`: the object's bytes.
    pub(crate) fn cc_with(dir: &Path, name: &str, source: &str, flags: &[&str]) -> Vec<u8> {
        let c = dir.join(format!("{name}.c"));
        let o = dir.join(format!("{name}.o"));
        std::fs::write(&c, source).unwrap();
        let st = Command::new("cc")
            .arg("-c")
            .args(flags)
            .arg("-o")
            .arg(&o)
            .arg(&c)
            .status()
            .expect("the host's cc (gcc or clang) runs");
        assert!(st.success(), "cc failed on {name}.c");
        std::fs::read(o).unwrap()
    }

    fn changes(old: &str, new: &str) -> Changes {
        let d = tempfile::tempdir().unwrap();
        compare(&cc(d.path(), "old", old), &cc(d.path(), "new", new)).unwrap()
    }

    const BASE: &str = r#"
int puts(const char *);
int counter = 1;
const int table[3] = { 1, 2, 3 };
void __attribute__((noinline)) greet(void) { puts("hello"); }
int __attribute__((noinline)) twice(int x) { counter++; return 2 * x + table[x & 1]; }
"#;

    #[test]
    fn identical_sources_have_no_changes() {
        assert_eq!(changes(BASE, BASE), Changes::default());
    }

    #[test]
    fn a_moved_string_literal_and_shifted_lines_change_nothing() {
        // A new string before "hello" in .rodata.str1.1 moves it; blank lines move
        // every function down. Only the function that uses the new string changes.
        let new = r#"
int puts(const char *);


void __attribute__((noinline)) first(void) { puts("abc"); }
int counter = 1;
const int table[3] = { 1, 2, 3 };

void __attribute__((noinline)) greet(void) { puts("hello"); }

int __attribute__((noinline)) twice(int x) { counter++; return 2 * x + table[x & 1]; }
"#;
        let d = tempfile::tempdir().unwrap();
        let (old, new) = (cc(d.path(), "old", BASE), cc(d.path(), "new", new));
        assert_ne!(hello_ref(&old), hello_ref(&new), "the string did not move");
        let c = compare(&old, &new).unwrap();
        assert_eq!(c.changed, Vec::<String>::new(), "{c:?}");
        assert_eq!(c.new, vec!["first"]);
        assert!(c.removed.is_empty() && c.changed_data.is_empty(), "{c:?}");
    }

    /// How greet's first relocation, to "hello", names it: the symbol, and the
    /// place in its section (gcc names it by a label that counts the strings of
    /// the file, `.LC1`; clang by the section symbol and the string's offset).
    fn hello_ref(o: &[u8]) -> (String, i64) {
        let f = object::File::parse(o).unwrap();
        let text = f.section_by_name(".text.greet").unwrap();
        let (_, r) = text.relocations().next().unwrap();
        let RelocationTarget::Symbol(i) = r.target() else {
            panic!("{r:?}")
        };
        let sym = f.symbol_by_index(i).unwrap();
        (
            sym.name().unwrap().to_string(),
            sym.address() as i64 + r.addend(),
        )
    }

    #[test]
    fn a_changed_string_or_body_is_a_changed_function() {
        let c = changes(BASE, &BASE.replace("\"hello\"", "\"hello, patched\""));
        assert_eq!(c.changed, vec!["greet"]);
        let c = changes(BASE, &BASE.replace("2 * x", "3 * x"));
        assert_eq!(c.changed, vec!["twice"]);
        assert!(c.new.is_empty() && c.removed.is_empty() && c.changed_init.is_empty());
    }

    #[test]
    fn new_and_removed_functions() {
        let more =
            format!("{BASE}int __attribute__((noinline)) added(int y) {{ return y ^ 7; }}\n");
        let c = changes(BASE, &more);
        assert_eq!(
            (c.new.clone(), c.changed.clone()),
            (vec!["added".to_string()], vec![])
        );
        let c = changes(&more, BASE);
        assert_eq!(c.removed, vec!["added"]);
    }

    #[test]
    fn changed_initialised_data_is_reported() {
        let c = changes(BASE, &BASE.replace("counter = 1", "counter = 2"));
        assert_eq!(c.changed_data, vec!["counter"]);
        assert!(c.changed.is_empty(), "{c:?}");
        let c = changes(BASE, &BASE.replace("{ 1, 2, 3 }", "{ 1, 2, 4 }"));
        assert_eq!(c.changed_data, vec!["table"]);
        // An initial value of 0 moves it to .bss: a change all the same.
        let c = changes(BASE, &BASE.replace("counter = 1", "counter = 0"));
        assert_eq!(c.changed_data, vec!["counter"]);
    }

    #[test]
    fn shifted_line_numbers_of_might_fault_change_nothing() {
        let src = r#"
void __might_fault(const char *file, int line);
int other(int);
int __attribute__((noinline)) f(int x) { __might_fault("f.c", 1000); return other(x); }
"#;
        let c = changes(src, &src.replace("1000", "1002"));
        assert!(c.changed.is_empty(), "{c:?}");
        // Another argument, or another callee, is a change.
        let c = changes(src, &src.replace("other(x)", "other(x + 1)"));
        assert_eq!(c.changed, vec!["f"]);
        let moved = src.replace("__might_fault(\"f.c\", 1000)", "other(1000)");
        let c = changes(&moved, &moved.replace("1000", "1002"));
        assert_eq!(c.changed, vec!["f"]);
    }

    #[test]
    fn string_literals_are_told_by_their_name() {
        for n in [".str", ".str.1", ".str.12"] {
            assert!(is_string_literal(n), "{n}");
        }
        for n in [".strtab", ".str.", ".str.1a", "str.1", "x.str"] {
            assert!(!is_string_literal(n), "{n}");
        }
    }

    #[test]
    fn a_changed_static_constant_changes_its_function() {
        // asm names the variables as clang does (show.flags); gcc numbers them.
        let src = r#"
int __attribute__((noinline)) show(int i) {
	static const char flags[8] asm("show.flags") = "abcdefg";
	static char state[8] asm("show.state") = "0000000";
	state[i & 7]++;
	return flags[i & 7];
}
"#;
        let c = changes(src, &src.replace("abcdefg", "ABCDEFG"));
        assert_eq!(c.changed, vec!["show"], "{c:?}");
        assert_eq!(c.static_consts, vec!["show.flags"], "{c:?}");
        assert!(c.changed_data.is_empty(), "{c:?}");
        // A writable one keeps the kernel's value: changed data, refused.
        let c = changes(src, &src.replace("0000000", "1111111"));
        assert_eq!(c.changed_data, vec!["show.state"], "{c:?}");
        assert!(c.static_consts.is_empty(), "{c:?}");
    }

    #[test]
    fn a_changed_init_function_is_marked() {
        let init = "int puts(const char *);\n\
            __attribute__((section(\".init.text\"), noinline)) int setup(void) { return puts(\"x\"); }\n";
        let c = changes(init, &init.replace("\"x\"", "\"y\""));
        assert_eq!(c.changed, vec!["setup"]);
        assert_eq!(c.changed_init, vec!["setup"]);
    }

    const SHOW: &str = r#"
struct seq_file { int fd; };
struct other_file { int fd; };
int __attribute__((noinline)) show(struct seq_file *m, int v) { return m->fd + v; }
"#;

    /// The prototype changes between SHOW and `new`, as `(function, old, new)`.
    fn prototype_changes(new: &str) -> Vec<(String, String, String)> {
        changes(SHOW, new)
            .changed_prototypes
            .into_iter()
            .map(|p| (p.function, p.old, p.new))
            .collect()
    }

    fn change(old: &str, new: &str) -> Vec<(String, String, String)> {
        vec![("show".into(), old.into(), new.into())]
    }

    #[test]
    fn a_changed_body_with_the_same_prototype_is_only_changed() {
        let c = changes(SHOW, &SHOW.replace("m->fd + v", "m->fd - v"));
        assert_eq!(c.changed, vec!["show"]);
        assert_eq!(c.changed_prototypes, vec![], "{c:?}");
    }

    #[test]
    fn a_changed_argument_type_is_a_changed_prototype() {
        let p = prototype_changes(&SHOW.replace("int v)", "long v)"));
        // gcc names the base type `long int`, clang `long`.
        let long = if p.first().is_some_and(|c| c.2.contains("long int")) {
            "long int"
        } else {
            "long"
        };
        assert_eq!(
            p,
            change(
                "int show(struct seq_file *, int)",
                &format!("int show(struct seq_file *, {long})")
            )
        );
    }

    #[test]
    fn an_added_argument_is_a_changed_prototype() {
        let p = prototype_changes(&SHOW.replace("int v)", "int v, int w)"));
        assert_eq!(
            p,
            change(
                "int show(struct seq_file *, int)",
                "int show(struct seq_file *, int, int)"
            )
        );
    }

    #[test]
    fn a_renamed_struct_behind_a_pointer_is_a_changed_prototype() {
        // The same layout, and the same code: only the type's name differs.
        let new = SHOW.replace("show(struct seq_file *m", "show(struct other_file *m");
        let c = changes(SHOW, &new);
        assert_eq!(c.changed, Vec::<String>::new(), "{c:?}");
        assert_eq!(
            prototype_changes(&new),
            change(
                "int show(struct seq_file *, int)",
                "int show(struct other_file *, int)"
            )
        );
    }

    #[test]
    fn renamed_or_top_level_const_parameters_are_the_same_prototype() {
        let new = SHOW
            .replace("*m, int v)", "*const file, const int value)")
            .replace("m->fd + v", "file->fd + value + 1");
        let c = changes(SHOW, &new);
        assert_eq!(c.changed, vec!["show"]);
        assert_eq!(c.changed_prototypes, vec![], "{c:?}");
    }

    #[test]
    fn llvm_suffixes_are_normalised() {
        assert_eq!(normalise("foo.llvm.1234567890"), "foo");
        assert_eq!(normalise("foo.llvm.12.cold"), "foo.cold");
        assert_eq!(normalise("foo.llvm.x"), "foo.llvm.x");
        assert_eq!(normalise("foo.llvm."), "foo.llvm.");
        assert_eq!(normalise("foo.llvm.12abc"), "foo.llvm.12abc");
        assert_eq!(normalise("foo.isra.0"), "foo.isra.0");
        assert_eq!(normalise("a.llvm.1.b.llvm.2"), "a.b");
    }

    #[test]
    fn strings_are_found_in_merged_sections() {
        let data = b"one\0two\0three\0";
        assert_eq!(string_at(data, 4), Some((b"two".to_vec(), 0)));
        assert_eq!(string_at(data, 0), Some((b"one".to_vec(), 0)));
        assert_eq!(string_at(data, 10), Some((b"three".to_vec(), 2)));
        assert_eq!(string_at(data, 14), None);
        assert_eq!(string_at(data, -4), None);
    }
}
