// SPDX-License-Identifier: GPL-2.0
//! Where a PC-relative relocation points. The CPU adds the displacement to the
//! address of the end of the instruction, so the place that
//! `symbol + addend` means is `symbol + addend + (end - field)`: 4 for a
//! `call` or `lea x(%rip)`, whose field ends the instruction, 5 for
//! `cmpb $0, x(%rip)`, whose immediate follows it. Only decoding the code tells
//! (the `iced-x86` decoder); in data (`.long x - .`) the field itself is the
//! place.

use iced_x86::{Decoder, DecoderOptions};
use object::{ObjectSection, RelocationKind, SectionKind};

/// The ends of the x86-64 instructions of a piece of code, from its offset in
/// its section; none for data.
pub struct Ends(Vec<u64>);

impl Ends {
    /// The instructions of `section` from `from` to `to` (offsets in it), if it
    /// is code, decoded from `from` on.
    pub fn of(section: &object::Section, bytes: &[u8], from: u64) -> Ends {
        if section.kind() != SectionKind::Text {
            return Ends(Vec::new());
        }
        Ends::decode(bytes, from)
    }

    /// The instructions of `code`, which starts at offset `from`.
    fn decode(code: &[u8], from: u64) -> Ends {
        let mut d = Decoder::with_ip(64, code, from, DecoderOptions::NONE);
        let mut ends = Vec::new();
        while d.can_decode() {
            ends.push(d.decode().next_ip());
        }
        Ends(ends)
    }

    /// How far from the place it means a PC-relative relocation at `at` (an
    /// offset in the section) points: the distance from its field to the end
    /// of the instruction it is in; its field's size where that is not code.
    pub fn pc_bias(&self, r: &object::Relocation, at: u64) -> i64 {
        if !matches!(
            r.kind(),
            RelocationKind::Relative | RelocationKind::PltRelative
        ) {
            return 0;
        }
        let i = self.0.partition_point(|&end| end <= at);
        match self.0.get(i) {
            Some(&end) => (end - at) as i64,
            None => i64::from(r.size() / 8),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_of_the_instruction_holding_the_field_counts() {
        // cmpb $0x0,0x0(%rip); call 0; lea 0x0(%rip),%rdi
        let code = [
            0x80, 0x3d, 0, 0, 0, 0, 0x00, 0xe8, 0, 0, 0, 0, 0x48, 0x8d, 0x3d, 0, 0, 0, 0,
        ];
        let e = Ends::decode(&code, 0);
        assert_eq!(e.0, vec![7, 12, 19]);
        let at = |o: u64| e.0[e.0.partition_point(|&end| end <= o)] - o;
        // The displacement of cmpb is at 2 and its immediate follows it: 5.
        assert_eq!(at(2), 5);
        assert_eq!(at(8), 4);
        assert_eq!(at(15), 4);
    }
}
