//! The one integration-test binary: runs the built `pyx` against fixtures, real cross compilers
//! and the target's Python under QEMU.

mod common;
mod compiler_cache;
mod deploy;
mod env;
mod fallback;
mod host_paths;
mod inspect;
mod installers;
mod interrupt;
mod releases;
mod requirements;
mod retag;
mod rust;
mod shim;
mod sysroot;
mod system_libs;
mod target_deps;
mod test_cmd;
mod verify;
mod wheel;
