// SPDX-License-Identifier: GPL-2.0-or-later

//! Statically allocated C objects that the kernel writes: attributes, kobject types, lock class
//! keys, works.

use core::cell::UnsafeCell;

/// A static C object, handed to C by pointer.
#[repr(transparent)]
pub(crate) struct Static<T>(UnsafeCell<T>);

// SAFETY: The core hands the object to C APIs, which synchronise their own accesses; Rust code
// never creates references to the contents.
unsafe impl<T> Sync for Static<T> {}

impl<T> Static<T> {
    /// A static object with this initial value.
    pub(crate) const fn new(value: T) -> Self {
        Self(UnsafeCell::new(value))
    }

    /// The object, for C.
    pub(crate) const fn get(&self) -> *mut T {
        self.0.get()
    }
}

impl<T> Static<T> {
    /// A static object whose all-zero bytes are its initial value (a C `static` without an
    /// initialiser).
    ///
    /// # Safety
    ///
    /// All-zero bytes are a valid `T`.
    pub(crate) const unsafe fn zeroed() -> Self {
        // SAFETY: The function's safety requirement.
        Self::new(unsafe { core::mem::zeroed() })
    }
}
