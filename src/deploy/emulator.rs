//! The target's own Python, run under QEMU user mode with the sysroot as the root its loader and
//! libraries come from (`qemu-arm -L <sysroot> <sysroot>/usr/bin/python3.11`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::platform::{Target, TargetProfile};
use crate::printer::with_hint;

/// How to start the target's Python on this machine.
#[derive(Debug, Clone)]
pub struct TargetRunner {
    pub target: &'static Target,
    pub sysroot: PathBuf,
    /// The emulator, or `None` when the target runs natively here.
    pub qemu: Option<PathBuf>,
    /// The emulator with its arguments, then the target's interpreter.
    pub argv: Vec<String>,
    /// The target Python's prefix inside the sysroot (`<sysroot>/usr`).
    pub home: PathBuf,
}

impl TargetRunner {
    /// The runner for a profile; an error naming the package when the target needs a QEMU that
    /// is not installed.
    pub fn new(profile: &TargetProfile) -> anyhow::Result<TargetRunner> {
        let target = profile.target();
        let qemu = match (&profile.toolchain.qemu, target.qemu) {
            (Some(q), _) => Some(q.clone()),
            (None, None) => None,
            (None, Some(name)) => {
                return Err(with_hint(
                    anyhow::anyhow!("`{name}` is not on PATH: the target's Python cannot run here"),
                    "install QEMU user mode: `apt-get install qemu-user`",
                ));
            }
        };
        let mut argv = vec![];
        if let Some(qemu) = &qemu {
            argv.push(qemu.display().to_string());
            argv.extend(target.qemu_args.iter().map(|a| a.to_string()));
            argv.push("-L".into());
            argv.push(profile.sysroot.display().to_string());
        }
        argv.push(profile.python.executable.display().to_string());
        Ok(TargetRunner {
            target,
            sysroot: profile.sysroot.clone(),
            qemu,
            argv,
            home: profile
                .sysroot
                .join(profile.python.prefix.trim_start_matches('/')),
        })
    }

    /// The command of a `python` wrapper script at `wrapper`. Under QEMU the target's
    /// `sys.executable` becomes the wrapper (`qemu -0`), which the build machine can exec, so
    /// subprocesses that start Python again (test suites do) run on the target too; the prefix
    /// then comes from `PYTHONHOME`, not from where the executable seems to be.
    pub fn wrapper_argv(&self, wrapper: &Path) -> Vec<String> {
        let Some(qemu) = &self.qemu else {
            return self.argv.clone();
        };
        let mut argv = vec![
            "env".to_string(),
            format!("PYTHONHOME={}", self.home.display()),
            qemu.display().to_string(),
            "-0".to_string(),
            wrapper.display().to_string(),
        ];
        argv.extend(self.argv[1..].iter().cloned());
        argv
    }

    /// The target's Python with `args`, in an environment without a trace of the build
    /// machine's Python, a cross env or a venv.
    pub fn python(&self) -> Command {
        let mut cmd = Command::new(&self.argv[0]);
        cmd.args(&self.argv[1..]);
        clean_environment(&mut cmd, &self.sysroot);
        cmd
    }

    /// `` `/usr/bin/qemu-arm` `` or `no emulator`, for messages.
    pub fn describe(&self) -> String {
        self.qemu
            .as_ref()
            .map(|q| format!("`{}`", q.display()))
            .unwrap_or_else(|| "no emulator".into())
    }
}

/// Remove what would make the target's Python read the build machine's files, and point QEMU's
/// loader at the sysroot (for programs the command starts itself).
pub fn clean_environment(cmd: &mut Command, sysroot: &Path) {
    cmd.env("PYTHONNOUSERSITE", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("QEMU_LD_PREFIX", sysroot);
    for var in [
        "PYTHONHOME",
        "PYTHONPATH",
        "VIRTUAL_ENV",
        "_PYTHON_HOST_PLATFORM",
        "_PYTHON_SYSCONFIGDATA_NAME",
        crate::env_vars::PYX_CROSS_ENV,
        crate::env_vars::PYX_BUILD_SITE,
    ] {
        cmd.env_remove(var);
    }
}
