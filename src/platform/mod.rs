//! What pyx builds for: the static target table ([`arch`]), wheel platform tags ([`tags`]) and
//! the full profile of one concrete target read from its sysroot ([`profile`]).

pub mod arch;
pub mod glibc;
pub mod profile;
pub mod tag_policy;
pub mod tags;
pub mod toolchain;

pub use arch::{TARGETS, Target, TargetName};
pub use glibc::GlibcVersion;
pub use profile::TargetProfile;
