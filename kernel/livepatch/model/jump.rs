// SPDX-License-Identifier: GPL-2.0-or-later

//! The jump redirector's instruction: where it goes in a function and what it is.
//!
//! A function without an ftrace location (a Rust function, a C function built without
//! `__fentry__`) is redirected by a `jmp rel32` written over its first instructions, after
//! its `endbr64` (or the 4-byte nop that IBT sealing leaves in its place) when it has one, so
//! that indirect calls still land on an `ENDBR`. The bytes replaced are saved and written back
//! when the function runs its own code again.

/// The length of the jump: `e9` and a 32-bit displacement.
pub const KLP_JUMP_LEN: usize = 5;

/// `endbr64` as the first four bytes of a function read as a little-endian `u32`.
const ENDBR64: u32 = 0xfa1e_0ff3;
/// `endbr32`: the same but for one bit (`is_endbr()` of `asm/ibt.h`).
const ENDBR32_BIT: u32 = 0x0100_0000;
/// What IBT sealing writes over an `ENDBR` no indirect call can reach: `osp nopl (%rax)`.
const ENDBR_POISON: u32 = 0x001f_0f66;

/// Why a function cannot take the jump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KlpJumpRefusal {
    /// The function is shorter than its `ENDBR` and the jump.
    TooShort,
}

/// The offset in the function at which the jump goes, given its first four bytes (as a
/// little-endian `u32`) and its size: after an `ENDBR` or its poison, else at the entry.
///
/// # Examples
///
/// ```
/// use klp_model::jump::{klp_jump_offset, KlpJumpRefusal};
/// assert_eq!(klp_jump_offset(0xfa1e_0ff3, 64), Ok(4)); // endbr64
/// assert_eq!(klp_jump_offset(0xe5_8948_55, 64), Ok(0)); // push %rbp; mov %rsp,%rbp
/// assert_eq!(klp_jump_offset(0xfa1e_0ff3, 8), Err(KlpJumpRefusal::TooShort));
/// ```
pub fn klp_jump_offset(first: u32, size: usize) -> Result<usize, KlpJumpRefusal> {
    let endbr = first == ENDBR_POISON || first & !ENDBR32_BIT == ENDBR64;
    let offset: usize = if endbr { 4 } else { 0 };
    match offset.checked_add(KLP_JUMP_LEN) {
        Some(end) if end <= size => Ok(offset),
        _ => Err(KlpJumpRefusal::TooShort),
    }
}

/// The bytes of a `jmp` at `at` to `to`; `None` if `to` is more than 2 GiB away, out of reach
/// of a 32-bit displacement.
///
/// # Examples
///
/// ```
/// use klp_model::jump::klp_jump_insn;
/// assert_eq!(klp_jump_insn(0x1000, 0x1105), Some([0xe9, 0x00, 0x01, 0, 0]));
/// assert_eq!(klp_jump_insn(0x1000, 0x1000), Some([0xe9, 0xfb, 0xff, 0xff, 0xff]));
/// assert_eq!(klp_jump_insn(0, 0x1_0000_0000), None);
/// ```
pub fn klp_jump_insn(at: usize, to: usize) -> Option<[u8; KLP_JUMP_LEN]> {
    let next = i128::try_from(at.checked_add(KLP_JUMP_LEN)?).ok()?;
    let to = i128::try_from(to).ok()?;
    let disp = i32::try_from(to.checked_sub(next)?).ok()?.to_le_bytes();
    Some([0xe9, disp[0], disp[1], disp[2], disp[3]])
}
