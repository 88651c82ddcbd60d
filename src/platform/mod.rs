//! What pyx builds for (stage 2): the static target table ([`arch`]), wheel platform tags
//! ([`tags`]) and which of them a target installs ([`tag_policy`]), glibc versions ([`glibc`]), the
//! cross toolchain proven by a probe ([`toolchain`]), and the full profile of one concrete target
//! read from its sysroot ([`profile`]).

pub mod arch;
pub mod glibc;
pub mod profile;
pub mod tag_policy;
pub mod tags;
pub mod toolchain;

pub use arch::{TARGETS, Target, TargetName};
pub use glibc::GlibcVersion;
pub use profile::TargetProfile;
