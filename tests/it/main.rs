//! The one integration-test binary: runs the built `pyx` against fixtures, real cross compilers
//! and the target's Python under QEMU.

mod common;
mod inspect;
mod requirements;
mod retag;
mod sysroot;
mod verify;
mod wheel;
