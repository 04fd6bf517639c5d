// SPDX-License-Identifier: GPL-2.0
//! The boot-time unit `crates/klp/systemd/klp.service`: `systemd-analyze verify` accepts it
//! without a word, and its `ExecStart` command loads the installed patches.

use klp::testkit::FakeTree;
use std::path::Path;
use std::process::Command;

const UNIT: &str = include_str!("../systemd/klp.service");

/// The unit's `KEY=` value.
fn unit_value<'a>(key: &str) -> &'a str {
    UNIT.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("klp.service has no {key}="))
}

#[test]
fn systemd_analyze_verify_accepts_the_unit() {
    let Ok(v) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("systemd-analyze is not installed: the unit is not verified");
        return;
    };
    assert!(v.status.success());
    let d = tempfile::tempdir().unwrap();
    // verify checks that ExecStart's program exists: the built klp stands for the installed.
    let unit = UNIT.replace("/usr/local/bin/klp", env!("CARGO_BIN_EXE_klp"));
    let path = d.path().join("klp.service");
    std::fs::write(&path, unit).unwrap();
    let o = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let said =
        String::from_utf8_lossy(&o.stderr).into_owned() + &String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && said.trim().is_empty(),
        "systemd-analyze verify: {said}"
    );
}

#[test]
fn the_unit_is_early_and_can_be_turned_off() {
    assert_eq!(unit_value("DefaultDependencies"), "no");
    assert!(unit_value("Before").contains("network-pre.target"));
    assert_eq!(unit_value("ConditionKernelCommandLine"), "!klp.enable=0");
    assert_eq!(unit_value("ConditionDirectoryNotEmpty"), "/var/lib/klp/%v");
}

#[test]
fn exec_start_loads_the_installed_patches() {
    let d = tempfile::tempdir().unwrap();
    let t = FakeTree::at(d.path());
    let kernel = t.proc().join("sys/kernel");
    std::fs::create_dir_all(&kernel).unwrap();
    std::fs::write(kernel.join("osrelease"), "6.12.118\n").unwrap();
    let ko = t.module_file(
        "a.ko",
        &[
            "livepatch=Y",
            "name=lp_a",
            "vermagic=6.12.118 SMP mod_unload ",
        ],
    );
    let dir = d.path().join("var/lib/klp/6.12.118");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&ko, dir.join("lp_a.ko")).unwrap();

    let exec = unit_value("ExecStart");
    let mut words = exec.split_whitespace();
    assert_eq!(words.next(), Some("/usr/local/bin/klp"));
    let o = Command::new(env!("CARGO_BIN_EXE_klp"))
        .args(["--fake-kernel", "--sysfs-root"])
        .arg(t.sysfs())
        .arg("--proc-root")
        .arg(t.proc())
        .args(words)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(Path::new(&t.path("kernel/livepatch/lp_a")).is_dir());
}
