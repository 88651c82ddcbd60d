//! The target profile (DESIGN.md §2): everything known about one concrete target, computed once
//! from the target table, the sysroot, the target's sysconfig data and the probed toolchain.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::target::Target;

/// Everything known about the target a build is for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetProfile {
    /// The `--target` name (a row of the target table).
    pub target: String,
    /// The target root: headers, libraries and the target's Python live under it.
    pub sysroot: PathBuf,
    pub python: TargetPython,
    pub toolchain: Toolchain,
}

impl TargetProfile {
    /// The row of the target table this profile is for.
    pub fn target(&self) -> &'static Target {
        Target::lookup(&self.target).expect("a profile is only made for a known target")
    }
}

/// The target's Python as its own sysconfig data describes it (read, never run).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetPython {
    /// The interpreter inside the sysroot (run only under QEMU).
    pub executable: PathBuf,
    /// `major.minor.micro` of the target's Python.
    pub version: String,
    pub abiflags: String,
    /// `SOABI`, e.g. `cpython-311-arm-linux-gnueabihf`.
    pub soabi: String,
    /// `EXT_SUFFIX`, e.g. `.cpython-311-arm-linux-gnueabihf.so`.
    pub ext_suffix: String,
    /// `MULTIARCH`, e.g. `arm-linux-gnueabihf`.
    pub multiarch: String,
    /// Module name of the sysconfig data, e.g. `_sysconfigdata__linux_arm-linux-gnueabihf`.
    pub sysconfigdata_name: String,
    /// Path of that module inside the sysroot.
    pub sysconfigdata_path: PathBuf,
    /// The target's `Python.h` directory, inside the sysroot.
    pub include_dir: PathBuf,
    /// The target's standard library directory, inside the sysroot.
    pub stdlib_dir: PathBuf,
    /// The target's `LIBDIR` (where libpython lives), inside the sysroot.
    pub libdir: PathBuf,
    /// The prefix the target's sysconfig data was built for (`/usr` on Debian); paths under it are
    /// relocated into the sysroot.
    pub prefix: String,
    /// `build_time_vars` verbatim, as the target's sysconfig data declares them.
    pub config_vars: serde_json::Map<String, serde_json::Value>,
}

/// The cross tools for the target, as resolved and proven by a probe compile.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Toolchain {
    /// C compiler command and its fixed arguments (`["arm-linux-gnueabihf-gcc"]`,
    /// `["zig", "cc", "-target", "arm-linux-gnueabihf"]`).
    pub cc: Vec<String>,
    pub cxx: Vec<String>,
    pub ar: Vec<String>,
    pub ranlib: Vec<String>,
    pub strip: Vec<String>,
    pub ld: Vec<String>,
    pub readelf: Vec<String>,
    /// Long-double format (numpy/meson names), probed from a compiled object.
    pub long_double: String,
    /// The QEMU user-mode emulator for the target, when installed.
    pub qemu: Option<PathBuf>,
}
