// SPDX-License-Identifier: GPL-2.0-or-later

//! System-state compatibility (`model::states`) against a straightforward formulation.

use klp_model::states::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// The ids and versions of a patch's states: up to the first id 0, the first entry of an id.
fn versions(states: &[KlpStateRef]) -> BTreeMap<usize, u32> {
    let mut map = BTreeMap::new();
    for s in states.iter().take_while(|s| s.id != 0) {
        map.entry(s.id).or_insert(s.version);
    }
    map
}

/// A cumulative patch must carry every installed state at a version at least as new; any patch
/// that carries an installed state must not downgrade it.
fn reference(new: &[KlpStateRef], replace: bool, old: &[Vec<KlpStateRef>]) -> bool {
    let new = versions(new);
    // Every entry of an installed patch counts, duplicates included.
    let mut installed = old.iter().flat_map(|p| p.iter().take_while(|s| s.id != 0));
    installed.all(|s| match new.get(&s.id) {
        Some(&v) => v >= s.version,
        None => !replace,
    })
}

fn states() -> impl Strategy<Value = Vec<KlpStateRef>> {
    prop::collection::vec(
        (0..5usize, 0..4u32).prop_map(|(id, version)| KlpStateRef { id, version }),
        0..5,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn compatibility_matches_reference(
        new in states(),
        replace in any::<bool>(),
        old in prop::collection::vec(states(), 0..4),
    ) {
        let got = klp_is_patch_compatible(&new, replace, old.iter().map(|s| &s[..]));
        prop_assert_eq!(got, reference(&new, replace, &old));
    }

    #[test]
    fn prev_state_is_the_newest(old in prop::collection::vec(states(), 0..4), id in 1..5usize) {
        let newest = old.iter().rev().find_map(|p| versions(p).get(&id).copied());
        let want = newest.map(|version| KlpStateRef { id, version });
        prop_assert_eq!(klp_get_prev_state(old.iter().map(|s| &s[..]), id), want);
    }
}

#[test]
fn terminator_ends_the_array() {
    let states = [
        KlpStateRef { id: 1, version: 1 },
        KlpStateRef { id: 0, version: 0 },
        KlpStateRef { id: 2, version: 1 },
    ];
    assert_eq!(klp_get_state(&states, 2), None);
    assert_eq!(klp_get_state(&states, 0), None);
    assert_eq!(klp_states(&states).count(), 1);
}

#[test]
fn same_version_is_compatible() {
    let old: &[KlpStateRef] = &[KlpStateRef { id: 2, version: 2 }];
    for replace in [false, true] {
        assert!(klp_is_patch_compatible(
            &[KlpStateRef { id: 2, version: 2 }],
            replace,
            [old]
        ));
        assert!(!klp_is_patch_compatible(
            &[KlpStateRef { id: 2, version: 1 }],
            replace,
            [old]
        ));
    }
}
