// SPDX-License-Identifier: GPL-2.0
//! Errors and the exit codes they map to.

use serde::Serialize;
use std::fmt;
use std::io;

/// What went wrong, as far as the caller (a script) cares: one exit code each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Anything else: the kernel refused, an I/O error, not a livepatch module,
    /// no livepatch support, the user did not confirm.
    Error,
    /// Bad command line (clap reports these itself, with the same code).
    Usage,
    /// A transition (or a module removal) did not finish in time.
    Timeout,
    /// Unknown patch, module or file.
    NotFound,
    /// Another transition is running, or the module is in use (EBUSY).
    Busy,
    /// Not root, or the kernel said EPERM/EACCES.
    Permission,
}

impl Kind {
    pub fn exit_code(self) -> i32 {
        match self {
            Kind::Error => 1,
            Kind::Usage => 2,
            Kind::Timeout => 3,
            Kind::NotFound => 4,
            Kind::Busy => 5,
            Kind::Permission => 6,
        }
    }
}

/// The exit code table printed by `klp --help` (and documented in klp.rst).
pub const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  error (the kernel refused, I/O error, not a livepatch module,
     no livepatch support, not confirmed)
  2  usage error (bad arguments)
  3  timeout (the transition or the module removal did not finish)
  4  not found (unknown patch, module or file)
  5  busy (another transition is running, EBUSY, module in use)
  6  permission denied (not root, EPERM/EACCES)";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KlpError {
    pub kind: Kind,
    pub message: String,
    /// A timeout's blocking tasks, for `--json` (the message names them in prose).
    pub blockers: Option<Vec<crate::tasks::Blocker>>,
}

pub type Result<T> = std::result::Result<T, KlpError>;

impl KlpError {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        KlpError {
            kind,
            message: message.into(),
            blockers: None,
        }
    }
    pub fn error(message: impl Into<String>) -> Self {
        Self::new(Kind::Error, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Kind::NotFound, message)
    }
    pub fn busy(message: impl Into<String>) -> Self {
        Self::new(Kind::Busy, message)
    }
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(Kind::Timeout, message)
    }
    pub fn permission(message: impl Into<String>) -> Self {
        Self::new(Kind::Permission, message)
    }

    /// An I/O error on `what` (a path or an action), classified by errno.
    pub fn io(what: impl fmt::Display, err: &io::Error) -> Self {
        let kind = match err.raw_os_error() {
            Some(libc::ENOENT) => Kind::NotFound,
            Some(libc::EBUSY) => Kind::Busy,
            Some(libc::EPERM) | Some(libc::EACCES) => Kind::Permission,
            _ => Kind::Error,
        };
        Self::new(kind, format!("{what}: {}", describe_io(err)))
    }

    pub fn exit_code(&self) -> i32 {
        self.kind.exit_code()
    }
}

impl fmt::Display for KlpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for KlpError {}

/// The symbolic name of an errno (`EBUSY`), from nix's table.
pub fn errno_name(errno: i32) -> Option<String> {
    match nix::errno::Errno::from_raw(errno) {
        nix::errno::Errno::UnknownErrno => None,
        e => Some(format!("{e:?}")),
    }
}

/// The inverse of [`errno_name`]; also accepts a plain number.
pub fn parse_errno(s: &str) -> Option<i32> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i32>() {
        return (n > 0).then_some(n);
    }
    (1..4096).find(|&n| errno_name(n).as_deref() == Some(s))
}

/// "Device or resource busy (EBUSY)" rather than "... (os error 16)".
pub fn describe_io(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(n) => {
            let text = err.to_string();
            let text = match text.find(" (os error") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            match errno_name(n) {
                Some(name) => format!("{text} ({name})"),
                None => format!("{text} (errno {n})"),
            }
        }
        None => err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_distinct_and_documented() {
        let kinds = [
            Kind::Error,
            Kind::Usage,
            Kind::Timeout,
            Kind::NotFound,
            Kind::Busy,
            Kind::Permission,
        ];
        let mut codes: Vec<i32> = kinds.iter().map(|k| k.exit_code()).collect();
        for c in &codes {
            assert!(
                EXIT_CODES.contains(&format!("  {c}  ")),
                "code {c} undocumented"
            );
        }
        codes.sort();
        codes.dedup();
        assert_eq!(codes, vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn io_errors_are_classified_by_errno() {
        let e = KlpError::io("write enabled", &io::Error::from_raw_os_error(libc::EBUSY));
        assert_eq!(e.kind, Kind::Busy);
        assert!(e.message.contains("EBUSY"), "{}", e.message);
        assert!(!e.message.contains("os error"), "{}", e.message);
        let e = KlpError::io("x", &io::Error::from_raw_os_error(libc::EACCES));
        assert_eq!(e.kind, Kind::Permission);
        let e = KlpError::io("x", &io::Error::from_raw_os_error(libc::ENOENT));
        assert_eq!(e.kind, Kind::NotFound);
        let e = KlpError::io("x", &io::Error::from_raw_os_error(libc::EINVAL));
        assert_eq!(e.kind, Kind::Error);
    }

    #[test]
    fn errno_names_round_trip() {
        assert_eq!(parse_errno("EBUSY"), Some(libc::EBUSY));
        assert_eq!(parse_errno(" 22\n"), Some(libc::EINVAL));
        assert_eq!(parse_errno("EWHATEVER"), None);
        assert_eq!(parse_errno("0"), None);
        assert_eq!(parse_errno("ENOKEY"), Some(libc::ENOKEY));
        assert_eq!(errno_name(libc::ENOKEY).as_deref(), Some("ENOKEY"));
    }
}
