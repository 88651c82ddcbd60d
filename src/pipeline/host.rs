//! The real [`BuildHost`]: hooks run with the cross env's Python, a cached build env importable.

use std::path::PathBuf;
use std::process::Command;

use crate::crossenv::buildenv::BuildEnv;
use crate::crossenv::{CrossEnv, ShimCall};
use crate::pep517::BuildHost;
use crate::python::BuildPython;

/// Builds inside a cross env; build requirements go into build envs of the build Python.
pub struct CrossHost {
    pub env: CrossEnv,
    pub build_python: BuildPython,
}

impl BuildHost for CrossHost {
    fn python(&self, requires: &[String]) -> anyhow::Result<Command> {
        let build_env = BuildEnv::ensure(&self.build_python, requires)?;
        Ok(self.env.command(self.env.python(), Some(&build_env)))
    }

    fn meson_cross_file(&self) -> Option<PathBuf> {
        Some(self.env.meson_cross_file())
    }

    fn cmake_toolchain_file(&self) -> Option<PathBuf> {
        Some(self.env.cmake_toolchain_file())
    }

    fn compiler_calls(&self, package: &str) -> Vec<ShimCall> {
        let mut calls = self.env.shim_calls(Some(package)).unwrap_or_default();
        calls.retain(ShimCall::is_compiler);
        calls
    }
}
