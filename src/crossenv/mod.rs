//! The hybrid cross env (DESIGN.md §3-4).

pub mod toolchain;
