//! What pyx builds for: the static target table ([`arch`]), wheel platform tags ([`tags`]) and
//! the full profile of one concrete target read from its sysroot ([`profile`]).

pub mod arch;
pub mod profile;
pub mod tags;
pub mod toolchain;

pub use arch::{TARGETS, Target, TargetName};
pub use profile::TargetProfile;
