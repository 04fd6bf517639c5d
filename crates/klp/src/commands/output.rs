// SPDX-License-Identifier: GPL-2.0
//! How the verbs print: `--json` or text, and the text's small formats.

use super::{Ctx, Io};
use crate::error::{KlpError, Result};
use serde::Serialize;

/// Prints `v` as one JSON document, with the `schema_version` every document carries.
pub(crate) fn print_json<T: Serialize>(io: &mut Io, v: &T) -> Result<()> {
    let json_error = |e: serde_json::Error| KlpError::error(format!("JSON output: {e}"));
    let mut doc = serde_json::to_value(v).map_err(json_error)?;
    if let Some(fields) = doc.as_object_mut() {
        fields.insert(
            "schema_version".into(),
            crate::cli::JSON_SCHEMA_VERSION.into(),
        );
    }
    let s = serde_json::to_string_pretty(&doc).map_err(json_error)?;
    let _ = writeln!(io.out, "{s}");
    Ok(())
}

pub(super) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

pub(super) fn b01(b: bool) -> u8 {
    b as u8
}

pub(super) fn opt01(b: Option<bool>) -> String {
    b.map(|b| (b as u8).to_string())
        .unwrap_or_else(|| "-".into())
}

/// The result of a verb that changes something (`--json` output).
#[derive(Serialize)]
struct Outcome<'a> {
    action: &'a str,
    patch: &'a str,
    /// applied | disabled | patching | unpatching | removed | unloaded
    state: &'a str,
    message: String,
}

pub(crate) fn report(
    ctx: &Ctx,
    io: &mut Io,
    action: &str,
    patch: &str,
    state: &str,
    message: String,
) -> Result<()> {
    if ctx.json {
        print_json(
            io,
            &Outcome {
                action,
                patch,
                state,
                message,
            },
        )
    } else {
        let _ = writeln!(io.out, "{message}");
        Ok(())
    }
}
