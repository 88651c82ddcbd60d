//! `pyx test --target T WHEEL... [-- CMD...]`: install wheels by unpacking them (PEP 427, no pip)
//! into a scratch prefix and run CMD with the target's own Python under QEMU (stage 8).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, anyhow};

use crate::ExitStatus;
use crate::cli::{GlobalArgs, TestArgs};
use crate::commands::run::exit_status;
use crate::files::write_if_changed_mode;
use crate::platform::TargetProfile;
use crate::printer::with_hint;
use crate::wheel::reader::WheelArchive;

pub fn run(args: TestArgs, _global: &GlobalArgs) -> Result<ExitStatus> {
    let request = args.target.request();
    let build = request.build_python()?;
    let profile = TargetProfile::resolve(&request, &build)?;
    let target = profile.target();
    let qemu = match (&profile.toolchain.qemu, target.qemu) {
        (Some(q), _) => Some(q.clone()),
        (None, None) => None,
        (None, Some(name)) => {
            return Err(with_hint(
                anyhow!("`{name}` is not on PATH: the target's Python cannot run here"),
                "install QEMU user mode: `apt-get install qemu-user`",
            ));
        }
    };
    let scratch = tempfile::Builder::new().prefix("pyx-test-").tempdir()?;
    let prefix = Prefix::new(scratch.path());
    let mut modules = BTreeSet::new();
    for wheel in &args.wheels {
        modules.extend(
            prefix
                .install(wheel)
                .with_context(|| format!("cannot install `{}`", wheel.display()))?,
        );
    }
    let mut runner = vec![];
    if let Some(qemu) = &qemu {
        // `-0`: the target's `sys.executable` is this wrapper, which the build machine can exec,
        // so subprocesses that start Python again (test suites do) run under QEMU too; the
        // prefix then comes from PYTHONHOME, not from where the executable seems to be.
        let home = profile
            .sysroot
            .join(profile.python.prefix.trim_start_matches('/'));
        runner.push("env".into());
        runner.push(format!("PYTHONHOME={}", home.display()));
        runner.push(qemu.display().to_string());
        runner.extend(target.qemu_args.iter().map(|a| a.to_string()));
        runner.push("-L".into());
        runner.push(profile.sysroot.display().to_string());
        runner.push("-0".into());
        runner.push(prefix.bin().join("python").display().to_string());
    }
    runner.push(profile.python.executable.display().to_string());
    prefix.write_python_wrappers(&runner, &profile.python.version)?;

    let command = if args.command.is_empty() {
        let imports: Vec<String> = modules.iter().map(|m| format!("import {m}")).collect();
        let names: Vec<&str> = modules.iter().map(String::as_str).collect();
        let script = format!(
            "{}\nprint('imported ' + ', '.join({names:?}) + ' on ' + __import__('platform').machine())",
            imports.join("\n")
        );
        vec!["python".to_string(), "-c".into(), script]
    } else {
        args.command.clone()
    };
    eprintln!(
        "running `{}` with the `{}` Python under {}",
        command.first().map(String::as_str).unwrap_or_default(),
        target.name,
        qemu.as_ref()
            .map(|q| format!("`{}`", q.display()))
            .unwrap_or_else(|| "no emulator".into())
    );
    let status = prefix
        .command(&command[0], &profile.sysroot)
        .args(&command[1..])
        .status()
        .with_context(|| format!("cannot run `{}`", command[0]))?;
    if args.keep {
        let kept = scratch.keep();
        eprintln!("kept the scratch prefix `{}`", kept.display());
    }
    Ok(exit_status(status))
}

/// A scratch target prefix: `site/` on PYTHONPATH, `bin/` with the `python` wrapper first on PATH.
struct Prefix {
    root: PathBuf,
}

impl Prefix {
    fn new(root: &Path) -> Prefix {
        Prefix {
            root: root.to_path_buf(),
        }
    }

    fn site(&self) -> PathBuf {
        self.root.join("site")
    }

    fn bin(&self) -> PathBuf {
        self.root.join("bin")
    }

    /// Unpack a wheel (PEP 427: `.data/purelib|platlib` into site, `scripts` into bin); returns
    /// its top-level importable modules.
    fn install(&self, wheel: &Path) -> Result<BTreeSet<String>> {
        let mut archive = WheelArchive::open(wheel)?;
        let limit = archive.limits().max_member_size;
        let members = archive.members().to_vec();
        let mut modules = BTreeSet::new();
        let mut top_level_txt = None;
        for (index, member) in members.iter().enumerate() {
            if member.is_dir || member.is_symlink {
                continue;
            }
            let name = member.name.as_str();
            let (first, rest) = name.split_once('/').unwrap_or(("", name));
            let dest = if first.ends_with(".data") {
                let (kind, rest) = rest.split_once('/').unwrap_or((rest, ""));
                match kind {
                    "purelib" | "platlib" => {
                        modules.extend(module_of(rest));
                        self.site().join(rest)
                    }
                    "scripts" => self.bin().join(rest),
                    other => self.root.join(other).join(rest),
                }
            } else {
                if first.ends_with(".dist-info") && rest == "top_level.txt" {
                    top_level_txt = Some(index);
                } else if !first.ends_with(".dist-info") {
                    modules.extend(module_of(name));
                }
                self.site().join(name)
            };
            if let Some(dir) = dest.parent() {
                fs_err::create_dir_all(dir)?;
            }
            let mut out = fs_err::File::create(&dest)?;
            archive.stream_index(index, limit, false, |r| {
                std::io::copy(r, &mut out).map(drop)
            })?;
            if let Some(mode) = member.unix_mode {
                use std::os::unix::fs::PermissionsExt;
                fs_err::set_permissions(
                    &dest,
                    std::fs::Permissions::from_mode(mode & 0o777 | 0o600),
                )?;
            }
        }
        if let Some(index) = top_level_txt {
            let text = String::from_utf8_lossy(&archive.read_index(index, limit)?).into_owned();
            let listed: BTreeSet<String> = text
                .lines()
                .map(str::trim)
                .filter(|l| is_identifier(l))
                .map(str::to_string)
                .collect();
            if !listed.is_empty() {
                return Ok(listed);
            }
        }
        Ok(modules)
    }

    /// `bin/python`, `python3`, `pythonX.Y`: run the target's Python (under QEMU).
    fn write_python_wrappers(&self, runner: &[String], version: &str) -> Result<()> {
        fs_err::create_dir_all(self.bin())?;
        let quoted: Vec<String> = runner
            .iter()
            .map(|w| format!("'{}'", w.replace('\'', r"'\''")))
            .collect();
        let script = format!("#!/bin/sh\nexec {} \"$@\"\n", quoted.join(" "));
        let mm = crate::python::major_minor(version);
        for name in [
            "python".to_string(),
            "python3".into(),
            format!("python{mm}"),
        ] {
            write_if_changed_mode(&self.bin().join(name), &script, 0o755)?;
        }
        Ok(())
    }

    /// `program` with the prefix's bin first on PATH, its site on PYTHONPATH, and no trace of
    /// the build machine's Python or a cross env in the environment.
    fn command(&self, program: &str, sysroot: &Path) -> Command {
        let mut path = vec![self.bin()];
        if let Some(old) = std::env::var_os("PATH") {
            path.extend(std::env::split_paths(&old));
        }
        let mut cmd = Command::new(program);
        cmd.env("PATH", std::env::join_paths(path).unwrap_or_default())
            .env("PYTHONPATH", self.site())
            .env("PYTHONNOUSERSITE", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("QEMU_LD_PREFIX", sysroot)
            .env("PYX_TEST_PREFIX", &self.root);
        for var in [
            "PYTHONHOME",
            "VIRTUAL_ENV",
            "_PYTHON_HOST_PLATFORM",
            "_PYTHON_SYSCONFIGDATA_NAME",
            crate::env_vars::PYX_CROSS_ENV,
            crate::env_vars::PYX_BUILD_SITE,
        ] {
            cmd.env_remove(var);
        }
        cmd
    }
}

/// The top-level module a wheel member belongs to (`pkg/x.py` → `pkg`, `m.cpython-311-...so` → `m`).
fn module_of(path: &str) -> Option<String> {
    let (first, rest) = path.split_once('/').unwrap_or((path, ""));
    let name = if rest.is_empty() {
        if first.ends_with(".py") || first.ends_with(".so") {
            first.split('.').next()?
        } else {
            return None;
        }
    } else {
        first
    };
    (is_identifier(name) && name != "__pycache__").then(|| name.to_string())
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::module_of;

    #[test]
    fn modules_of_wheel_members() {
        assert_eq!(module_of("pkg/sub/x.py").as_deref(), Some("pkg"));
        assert_eq!(
            module_of("fast.cpython-311-arm-linux-gnueabihf.so").as_deref(),
            Some("fast")
        );
        assert_eq!(module_of("single.py").as_deref(), Some("single"));
        assert_eq!(module_of("README.txt"), None);
        assert_eq!(module_of("my-pkg/x.py"), None);
    }
}
