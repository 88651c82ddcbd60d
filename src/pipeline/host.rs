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
    /// Where build requirements are installed from (pip arguments: the run's indexes).
    pub pip_index_args: Vec<String>,
}

impl BuildHost for CrossHost {
    fn python(&self, requires: &[String], sites: &[PathBuf]) -> anyhow::Result<Command> {
        let build_env = BuildEnv::ensure(&self.build_python, requires, &self.pip_index_args)?;
        let mut cmd = self.env.command(self.env.python(), Some(&build_env));
        if !sites.is_empty() {
            let all = sites
                .iter()
                .chain(std::iter::once(&build_env.site_packages));
            cmd.env(
                crate::env_vars::PYX_BUILD_SITE,
                std::env::join_paths(all).unwrap_or_default(),
            );
        }
        Ok(cmd)
    }

    fn python_path(&self) -> PathBuf {
        self.env.python()
    }

    fn build_python_id(&self) -> String {
        let b = &self.build_python;
        format!("{} {}", b.executable.display(), b.version)
    }

    fn build_env(&self, requires: &[String]) -> anyhow::Result<Option<BuildEnv>> {
        BuildEnv::ensure(&self.build_python, requires, &self.pip_index_args).map(Some)
    }

    fn meson_cross_file(&self) -> Option<PathBuf> {
        Some(self.env.meson_cross_file())
    }

    fn cmake_toolchain_file(&self) -> Option<PathBuf> {
        Some(self.env.cmake_toolchain_file())
    }

    fn refused_packages(&self, package: &str) -> Vec<String> {
        let calls = self.env.shim_calls(Some(package)).unwrap_or_default();
        calls
            .into_iter()
            .filter_map(|c| c.refused_package)
            .collect()
    }

    fn cross_env(&self) -> Option<&CrossEnv> {
        Some(&self.env)
    }

    fn shim_log(&self) -> Option<PathBuf> {
        Some(self.env.shim_log())
    }

    fn compiler_calls(&self, package: &str) -> Vec<ShimCall> {
        let mut calls = self.env.shim_calls(Some(package)).unwrap_or_default();
        calls.retain(ShimCall::is_compiler);
        calls
    }
}
