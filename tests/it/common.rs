//! Test context: the `pyx` binary, fixture paths, temp dirs and path filtering for snapshots.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Per-test context: a temp dir that lives as long as the context.
pub struct TestContext {
    pub temp: tempfile::TempDir,
}

impl TestContext {
    pub fn new() -> Self {
        TestContext {
            temp: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.temp.path()
    }

    /// A `pyx` command running in the temp dir.
    pub fn pyx(&self) -> Command {
        let mut cmd = Command::new(pyx_bin());
        cmd.current_dir(self.temp.path());
        cmd.env_remove("PYX_LOG");
        cmd
    }

    /// Replace the temp dir and the repository path in `text` with `[TEMP]` and `[REPO]`.
    pub fn filter(&self, text: &str) -> String {
        text.replace(&self.temp.path().display().to_string(), "[TEMP]")
            .replace(&repo_root().display().to_string(), "[REPO]")
    }
}

pub fn pyx_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pyx"))
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> PathBuf {
    repo_root().join("fixtures").join(rel)
}

/// stdout and stderr of a finished command, as text.
pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// True when `tool` is on PATH; end-to-end tests that need a cross compiler or QEMU skip with a
/// loud message when it is missing, and `.ci/run` installs them so CI never skips.
pub fn have(tool: &str) -> bool {
    which::which(tool).is_ok()
}

/// Skip the current test (with a message) unless every tool is installed, or fail in CI.
#[macro_export]
macro_rules! require_tools {
    ($($tool:expr),+) => {
        for tool in [$($tool),+] {
            if !$crate::common::have(tool) {
                if std::env::var_os("CI").is_some() {
                    panic!("`{tool}` is required in CI; .ci/setup should install it");
                }
                eprintln!("SKIPPED: `{tool}` is not installed");
                return;
            }
        }
    };
}
