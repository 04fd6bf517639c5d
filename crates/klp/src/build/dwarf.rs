// SPDX-License-Identifier: GPL-2.0
//! The prototypes of an object's functions, from its DWARF debug info (`klp
//! build` compiles with `-g`), rendered as C declarations: `int
//! cmdline_proc_show(struct seq_file *, void *)`.
//!
//! A type is rendered by following its `DW_AT_type` chain: base types, typedef
//! names, `struct`/`union`/`enum` tags (not their members), pointers, arrays,
//! function types and `const`/`volatile`/`restrict`/`_Atomic`. Parameter names
//! are not part of a prototype; neither are the qualifiers at the top of a
//! parameter's or the result's type (`int *const p` is an `int *` parameter), as
//! in C's own rule for when two function types are compatible.
//!
//! The debug sections of a relocatable object are read with their relocations
//! applied (a `.debug_info` compiled to RELA holds zeros where the offsets into
//! `.debug_str`, `.debug_str_offsets`, `.debug_abbrev` ... go).

use gimli::{AttributeValue, EndianSlice, RunTimeEndian, UnitOffset};
use object::{Object, ObjectSection, ObjectSymbol, RelocationKind, RelocationTarget};
use std::collections::BTreeMap;

type Reader<'a> = EndianSlice<'a, RunTimeEndian>;
type Die<'a, 'u> = gimli::DebuggingInformationEntry<'u, 'u, Reader<'a>>;

/// How deep a type may nest before it is taken for a loop.
const MAX_DEPTH: usize = 64;

/// The prototype of each function defined in the object (by its name in the
/// source), or none if the object has no DWARF.
pub fn prototypes(bytes: &[u8]) -> Result<BTreeMap<String, String>, String> {
    let file = object::File::parse(bytes).map_err(|e| e.to_string())?;
    if file.section_by_name(".debug_info").is_none() {
        return Ok(BTreeMap::new());
    }
    let endian = if file.is_little_endian() {
        RunTimeEndian::Little
    } else {
        RunTimeEndian::Big
    };
    let sections = gimli::DwarfSections::load(|id| relocated(&file, id.name()))?;
    let dwarf = sections.borrow(|s| EndianSlice::new(s, endian));
    let err = |e: gimli::Error| format!("reading DWARF: {e}");
    let mut found = BTreeMap::new();
    let mut units = dwarf.units();
    while let Some(header) = units.next().map_err(err)? {
        let unit = dwarf.unit(header).map_err(err)?;
        let types = Types {
            dwarf: &dwarf,
            unit: &unit,
        };
        // C functions are children of the compilation unit.
        let mut tree = unit.entries_tree(None).map_err(err)?;
        let mut children = tree.root().map_err(err)?.children();
        while let Some(child) = children.next().map_err(err)? {
            let e = child.entry();
            if e.tag() != gimli::DW_TAG_subprogram
                || e.attr(gimli::DW_AT_declaration).map_err(err)?.is_some()
            {
                continue;
            }
            if let Some((name, proto)) = types.prototype(e.offset()).map_err(err)? {
                found.entry(name).or_insert(proto);
            }
        }
    }
    Ok(found)
}

/// The section's data with its (absolute) relocations applied; empty if the
/// object has no such section.
fn relocated(file: &object::File, name: &str) -> Result<Vec<u8>, String> {
    let Some(section) = file.section_by_name(name) else {
        return Ok(Vec::new());
    };
    let mut data = section.data().map_err(|e| e.to_string())?.to_vec();
    let little = file.is_little_endian();
    for (offset, r) in section.relocations() {
        let RelocationTarget::Symbol(i) = r.target() else {
            continue;
        };
        if r.kind() != RelocationKind::Absolute {
            continue;
        }
        let sym = file.symbol_by_index(i).map_err(|e| e.to_string())?;
        let Some(field) = usize::try_from(offset)
            .ok()
            .and_then(|at| data.get_mut(at..at + usize::from(r.size() / 8)))
        else {
            continue;
        };
        let read = |f: &[u8]| {
            let mut b = [0u8; 8];
            if little {
                b[..f.len()].copy_from_slice(f);
                u64::from_le_bytes(b)
            } else {
                b[8 - f.len()..].copy_from_slice(f);
                u64::from_be_bytes(b)
            }
        };
        let implicit = if r.has_implicit_addend() {
            read(field)
        } else {
            0
        };
        let value = sym
            .address()
            .wrapping_add(r.addend() as u64)
            .wrapping_add(implicit);
        let n = field.len();
        match (n, little) {
            (4, true) => field.copy_from_slice(&(value as u32).to_le_bytes()),
            (4, false) => field.copy_from_slice(&(value as u32).to_be_bytes()),
            (8, true) => field.copy_from_slice(&value.to_le_bytes()),
            (8, false) => field.copy_from_slice(&value.to_be_bytes()),
            _ => {}
        }
    }
    Ok(data)
}

/// Renders the types of one compilation unit.
struct Types<'a, 'u> {
    dwarf: &'u gimli::Dwarf<Reader<'a>>,
    unit: &'u gimli::Unit<Reader<'a>>,
}

impl<'a, 'u> Types<'a, 'u> {
    fn entry(&self, at: UnitOffset) -> gimli::Result<Die<'a, 'u>> {
        self.unit.entry(at)
    }

    fn name(&self, e: &Die) -> gimli::Result<Option<String>> {
        match e.attr_value(gimli::DW_AT_name)? {
            Some(v) => Ok(Some(
                self.dwarf
                    .attr_string(self.unit, v)?
                    .to_string_lossy()
                    .into_owned(),
            )),
            None => Ok(None),
        }
    }

    /// A reference attribute (`DW_AT_type`, `DW_AT_abstract_origin`...) of `e`,
    /// if it names an entry of this unit.
    fn reference(&self, e: &Die, at: gimli::DwAt) -> gimli::Result<Option<UnitOffset>> {
        Ok(match e.attr_value(at)? {
            Some(AttributeValue::UnitRef(o)) => Some(o),
            Some(AttributeValue::DebugInfoRef(o)) => o.to_unit_offset(&self.unit.header),
            _ => None,
        })
    }

    /// The name and prototype of the function whose (defining) subprogram
    /// entry is at `at`: from the entry its `DW_AT_abstract_origin` or
    /// `DW_AT_specification` leads to (an inlined function's abstract entry, a
    /// declaration), which holds its type and parameters.
    fn prototype(&self, mut at: UnitOffset) -> gimli::Result<Option<(String, String)>> {
        for _ in 0..MAX_DEPTH {
            let e = self.entry(at)?;
            let origin = match self.reference(&e, gimli::DW_AT_abstract_origin)? {
                Some(o) => Some(o),
                None => self.reference(&e, gimli::DW_AT_specification)?,
            };
            if let Some(o) = origin {
                at = o;
                continue;
            }
            let Some(name) = self.name(&e)? else {
                return Ok(None);
            };
            let params = self.parameters(at)?;
            let result = self.unqualified(self.reference(&e, gimli::DW_AT_type)?)?;
            let proto = self.render(result, Vec::new(), format!("{name}({params})"), 0)?;
            return Ok(Some((name, proto)));
        }
        Ok(None)
    }

    /// The parameter list of a subprogram or subroutine type at `at`:
    /// `struct seq_file *, void *`, `const char *, ...`, `void`.
    fn parameters(&self, at: UnitOffset) -> gimli::Result<String> {
        let prototyped = self
            .entry(at)?
            .attr(gimli::DW_AT_prototyped)?
            .is_some_and(|a| a.value() != AttributeValue::Flag(false));
        let mut params = Vec::new();
        let mut tree = self.unit.entries_tree(Some(at))?;
        let mut children = tree.root()?.children();
        while let Some(child) = children.next()? {
            let e = child.entry();
            match e.tag() {
                gimli::DW_TAG_formal_parameter => {
                    let ty = self.unqualified(self.reference(e, gimli::DW_AT_type)?)?;
                    params.push(self.render(ty, Vec::new(), String::new(), 0)?);
                }
                gimli::DW_TAG_unspecified_parameters => params.push("...".to_string()),
                _ => {}
            }
        }
        if params.is_empty() && prototyped {
            params.push("void".to_string());
        }
        Ok(params.join(", "))
    }

    /// `ty` without the `const`, `volatile` and `restrict` at its top.
    fn unqualified(&self, mut ty: Option<UnitOffset>) -> gimli::Result<Option<UnitOffset>> {
        for _ in 0..MAX_DEPTH {
            let Some(at) = ty else { break };
            let e = self.entry(at)?;
            match e.tag() {
                gimli::DW_TAG_const_type
                | gimli::DW_TAG_volatile_type
                | gimli::DW_TAG_restrict_type => ty = self.reference(&e, gimli::DW_AT_type)?,
                _ => break,
            }
        }
        Ok(ty)
    }

    /// The C declaration of `inner` (a declarator: `""`, `"*"`, `"f(int)"`) as
    /// having the type `ty` (`None` is `void`) qualified by `quals`.
    fn render(
        &self,
        ty: Option<UnitOffset>,
        mut quals: Vec<&'static str>,
        inner: String,
        depth: usize,
    ) -> gimli::Result<String> {
        let spec = |name: &str, quals: &mut Vec<&str>| {
            quals.sort_unstable();
            quals.dedup();
            let mut s = quals.join(" ");
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(name);
            if !inner.is_empty() {
                s.push(' ');
                s.push_str(&inner);
            }
            s
        };
        let Some(at) = ty else {
            return Ok(spec("void", &mut quals));
        };
        if depth > MAX_DEPTH {
            return Ok(spec("<too deep>", &mut quals));
        }
        let e = self.entry(at)?;
        let next = self.reference(&e, gimli::DW_AT_type)?;
        let named = |kind: &str| -> gimli::Result<String> {
            let name = self.name(&e)?.unwrap_or_else(|| "<anonymous>".into());
            Ok(if kind.is_empty() {
                name
            } else {
                format!("{kind} {name}")
            })
        };
        let qualifier = match e.tag() {
            gimli::DW_TAG_const_type => Some("const"),
            gimli::DW_TAG_volatile_type => Some("volatile"),
            gimli::DW_TAG_restrict_type => Some("restrict"),
            gimli::DW_TAG_atomic_type => Some("_Atomic"),
            _ => None,
        };
        if let Some(q) = qualifier {
            quals.push(q);
            return self.render(next, quals, inner, depth + 1);
        }
        Ok(match e.tag() {
            gimli::DW_TAG_pointer_type => {
                quals.sort_unstable();
                quals.dedup();
                let mut d = format!("*{}", quals.join(" "));
                if !quals.is_empty() && !inner.is_empty() {
                    d.push(' ');
                }
                d.push_str(&inner);
                let pointee = match next {
                    Some(p) => self.entry(p)?.tag(),
                    None => gimli::DW_TAG_base_type,
                };
                if matches!(
                    pointee,
                    gimli::DW_TAG_subroutine_type | gimli::DW_TAG_array_type
                ) {
                    d = format!("({d})");
                }
                self.render(next, Vec::new(), d, depth + 1)?
            }
            gimli::DW_TAG_array_type => {
                let mut d = inner.clone();
                let mut tree = self.unit.entries_tree(Some(at))?;
                let mut children = tree.root()?.children();
                while let Some(child) = children.next()? {
                    let c = child.entry();
                    if c.tag() != gimli::DW_TAG_subrange_type {
                        continue;
                    }
                    let count = match c.attr_value(gimli::DW_AT_count)? {
                        Some(v) => v.udata_value(),
                        None => c
                            .attr_value(gimli::DW_AT_upper_bound)?
                            .and_then(|v| v.udata_value())
                            .map(|u| u + 1),
                    };
                    match count {
                        Some(n) => d.push_str(&format!("[{n}]")),
                        None => d.push_str("[]"),
                    }
                }
                self.render(next, quals, d, depth + 1)?
            }
            gimli::DW_TAG_subroutine_type => {
                let params = self.parameters(at)?;
                let result = self.unqualified(next)?;
                self.render(result, Vec::new(), format!("{inner}({params})"), depth + 1)?
            }
            gimli::DW_TAG_structure_type => spec(&named("struct")?, &mut quals),
            gimli::DW_TAG_union_type => spec(&named("union")?, &mut quals),
            gimli::DW_TAG_enumeration_type => spec(&named("enum")?, &mut quals),
            gimli::DW_TAG_base_type | gimli::DW_TAG_typedef | gimli::DW_TAG_unspecified_type => {
                spec(&named("")?, &mut quals)
            }
            other => spec(&format!("<{other}>"), &mut quals),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn prototypes_of(source: &str) -> BTreeMap<String, String> {
        let d = tempfile::tempdir().unwrap();
        let (c, o) = (d.path().join("t.c"), d.path().join("t.o"));
        std::fs::write(&c, source).unwrap();
        let st = Command::new("cc")
            .args(["-g", "-c", "-O2", "-ffunction-sections", "-o"])
            .arg(&o)
            .arg(&c)
            .status()
            .expect("the host's cc (gcc or clang) runs");
        assert!(st.success());
        prototypes(&std::fs::read(o).unwrap()).unwrap()
    }

    #[test]
    fn types_are_rendered_as_c_declarations() {
        let p = prototypes_of(
            r#"
struct seq_file;
typedef unsigned long size_t;
enum mode { A, B };
union u { int i; float f; };
int printf(const char *, ...);
static int __attribute__((noinline)) show(struct seq_file *m, void *v) { return m == v; }
int use(void) { return show(0, 0); }
long many(const char *s, char *const t, volatile int *restrict q, size_t n, enum mode m,
          union u *u, int (*cb)(int, ...), const char *const *argv, int (*grid)[4])
{ return s == t; }
void variadic(int n, ...) { }
int (*picker(int which))(void) { return which ? use : 0; }
"#,
        );
        assert_eq!(p["show"], "int show(struct seq_file *, void *)");
        assert_eq!(p["use"], "int use(void)");
        // gcc names the base type `long int`, clang `long`.
        assert_eq!(
            p["many"].replace("long int", "long"),
            "long many(const char *, char *, volatile int *, size_t, enum mode, union u *, \
             int (*)(int, ...), const char *const *, int (*)[4])"
        );
        assert_eq!(p["variadic"], "void variadic(int, ...)");
        assert_eq!(p["picker"], "int (*picker(int))(void)");
        assert!(!p.contains_key("printf"), "a declaration: {p:?}");
    }

    #[test]
    fn an_object_without_dwarf_has_no_prototypes() {
        let d = tempfile::tempdir().unwrap();
        let (c, o) = (d.path().join("t.c"), d.path().join("t.o"));
        std::fs::write(&c, "int f(int x) { return x; }\n").unwrap();
        assert!(Command::new("cc")
            .args(["-c", "-g0", "-o"])
            .arg(&o)
            .arg(&c)
            .status()
            .unwrap()
            .success());
        assert_eq!(prototypes(&std::fs::read(o).unwrap()), Ok(BTreeMap::new()));
    }
}
