//! `pyx test --target T WHEEL|DIR... [-- CMD...]`: audit the wheels against the target (the checks
//! of `pyx verify --target`), install them into a scratch prefix — unpacked (PEP 427), or with
//! `--pip` by the target's own pip under QEMU, as a device would — and run CMD with the target's
//! own Python under QEMU (stage 8; docs/deploy.md).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, anyhow};

use crate::ExitStatus;
use crate::audit;
use crate::cli::{GlobalArgs, TestArgs};
use crate::commands::run::exit_status;
use crate::commands::verify::render_finding;
use crate::deploy::emulator::{TargetRunner, clean_environment};
use crate::deploy::pip::{self, PackageSource, PipInstall};
use crate::deploy::refusal::{self, Offered};
use crate::deploy::requirements::PipRequirements;
use crate::files::write_if_changed_mode;
use crate::platform::profile::TargetRequest;
use crate::platform::{Target, TargetProfile};
use crate::printer::{Diagnostic, ResultExt, with_hint};
use crate::python::{BuildPython, major_minor};
use crate::requirements::Requirements;
use crate::wheel::filename::WheelFilename;
use crate::wheel::reader::WheelArchive;

pub fn run(args: TestArgs, global: &GlobalArgs) -> Result<ExitStatus> {
    let plan = TestPlan::from_args(&args)?;
    let request = args.target.request();
    let build = request.build_python()?;
    let mut profile = TargetProfile::resolve(&request, &build)?;
    if !args.no_verify && !audit_for(&plan.audited, profile.target())? {
        return Ok(ExitStatus::Findings);
    }
    if plan.pip.is_some() {
        profile = with_target_pip(&request, profile, &build)?;
    }
    let runner = TargetRunner::new(&profile)?;
    let scratch = tempfile::Builder::new().prefix("pyx-test-").tempdir()?;
    let prefix = Prefix::new(scratch.path());
    let modules = match &plan.pip {
        None => prefix.unpack(&plan.audited)?,
        Some(install) => match pip_install(install, &runner, &prefix, global.verbose > 0)? {
            Some(modules) => modules,
            None => {
                if args.keep {
                    eprintln!("kept the scratch prefix `{}`", scratch.keep().display());
                }
                return Ok(ExitStatus::Findings);
            }
        },
    };
    let wrapper = runner.wrapper_argv(&prefix.bin().join("python"));
    prefix.write_python_wrappers(&wrapper, &profile.python.version)?;

    let command = if args.command.is_empty() {
        import_command(&modules)
    } else {
        args.command.clone()
    };
    eprintln!(
        "running `{}` with the `{}` Python under {}",
        command.first().map(String::as_str).unwrap_or_default(),
        runner.target.name,
        runner.describe()
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

/// What to install and how, from the command line.
struct TestPlan {
    /// Every wheel given, directly or in a directory: what the audit checks (and, without
    /// `--pip`, what is unpacked).
    audited: Vec<PathBuf>,
    /// With `--pip`: the target pip's install.
    pip: Option<PipInstall>,
}

impl TestPlan {
    fn from_args(args: &TestArgs) -> Result<TestPlan> {
        if args.wheels.is_empty() && args.requirement_files.is_empty() {
            return Err(anyhow!("nothing to test")).hint(
                "give wheels or a wheelhouse directory (`pyx test --target armv7l wheelhouse`)",
            );
        }
        let audited = super::verify::collect_wheels(&args.wheels)?;
        if !args.pip {
            return Ok(TestPlan { audited, pip: None });
        }
        let (dirs, files): (Vec<PathBuf>, Vec<PathBuf>) =
            args.wheels.iter().cloned().partition(|p| p.is_dir());
        let source = match &args.index_url {
            Some(url) => PackageSource::Index(url.clone()),
            None => {
                let mut find_links = dirs.clone();
                // A wheel given by path: its dependencies are looked for beside it.
                for file in &files {
                    let parent = match file.parent() {
                        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                        _ => PathBuf::from("."),
                    };
                    let same = |d: &PathBuf| {
                        std::path::absolute(d).ok() == std::path::absolute(&parent).ok()
                    };
                    if !find_links.iter().any(same) {
                        find_links.push(parent);
                    }
                }
                if find_links.is_empty() {
                    return Err(anyhow!("`-r` names what to install, but not where from")).hint(
                        "give the wheelhouse the requirements were built into \
                         (`pyx test --pip -r requirements.txt wheelhouse`), or `--index-url URL`",
                    );
                }
                PackageSource::FindLinks(find_links)
            }
        };
        let mut reqs = Requirements::default();
        for file in &args.requirement_files {
            reqs.add_file(file)?;
        }
        let mut pip_reqs = PipRequirements::from_requirements(&reqs).hint(
            "name the project in the requirements file (`name @ file:./path`), or give its wheel",
        )?;
        if args.requirement_files.is_empty() {
            // A wheelhouse without requirements: every project in it, by name, so pip picks
            // the wheel the target accepts as a device would.
            let in_dirs = super::verify::collect_wheels(&dirs)?;
            let mut names: Vec<String> = in_dirs
                .iter()
                .filter_map(|w| w.file_name()?.to_str()?.parse::<WheelFilename>().ok())
                .map(|w| w.normalized_name())
                .collect();
            names.sort();
            names.dedup();
            pip_reqs.requirements = names;
        }
        Ok(TestPlan {
            audited,
            pip: Some(PipInstall {
                source,
                wheels: files,
                requirements: pip_reqs.requirements,
                constraints: pip_reqs.constraints,
            }),
        })
    }
}

/// The checks of `pyx verify --target` on every wheel about to be installed: prints each finding
/// and returns false when any wheel would not work on the target.
fn audit_for(wheels: &[PathBuf], target: &'static Target) -> Result<bool> {
    let mut out = String::new();
    let mut refused = 0;
    for wheel in wheels {
        let report = audit::audit_wheel(wheel, Some(target))
            .with_context(|| format!("cannot verify `{}`", wheel.display()))?;
        if !report.is_sound() {
            refused += 1;
            for finding in &report.findings {
                render_finding(&mut out, finding);
            }
        }
    }
    if refused == 0 {
        return Ok(true);
    }
    let d = Diagnostic::error(format!(
        "not testing {refused} wheel{} that would not work on `{target}` (of {} given)",
        if refused == 1 { "" } else { "s" },
        wheels.len()
    ))
    .hint(format!(
        "these are the findings of `pyx verify --target {target}`; rebuild for the target \
         (`pyx wheel --target {target}`), or pass `--no-verify` to install and run anyway"
    ));
    eprint!("{out}{}", d.render());
    Ok(false)
}

/// The profile with pip in its root: pyx's Debian sysroot gets the target's `python3-pip` when it
/// lacks pip; a root of the user's own must have it.
fn with_target_pip(
    request: &TargetRequest,
    profile: TargetProfile,
    build: &BuildPython,
) -> Result<TargetProfile> {
    let version = major_minor(&profile.python.version).to_string();
    if pip::find_in_sysroot(&profile.sysroot, &version).is_some() {
        return Ok(profile);
    }
    if request.sysroot.is_some() || request.target_python.is_some() {
        return Err(with_hint(
            anyhow!(
                "the target root `{}` has no pip for Python {version}",
                profile.sysroot.display()
            ),
            "install pip into that root (Debian's `python3-pip`, Buildroot's \
             BR2_PACKAGE_PYTHON_PIP, Yocto's python3-pip), or drop --sysroot/--target-python to \
             use pyx's Debian sysroot",
        ));
    }
    eprintln!("pyx: the sysroot has no pip; adding the target's `python3-pip`");
    let mut request = request.clone();
    request.with.push("python3-pip".into());
    let profile = TargetProfile::resolve(&request, build)?;
    if pip::find_in_sysroot(&profile.sysroot, &version).is_none() {
        return Err(anyhow!(
            "`python3-pip` is in the sysroot `{}`, but pip for Python {version} is not",
            profile.sysroot.display()
        ));
    }
    Ok(profile)
}

/// Install with the target's pip; the installed top-level modules, or `None` after printing pip's
/// refusal and pyx's reading of it.
fn pip_install(
    install: &PipInstall,
    runner: &TargetRunner,
    prefix: &Prefix,
    verbose: bool,
) -> Result<Option<BTreeSet<String>>> {
    let offered = Offered::list(install.source.clone(), &install.wheels);
    eprintln!(
        "installing with the `{}` target's pip under {} from {}",
        runner.target.name,
        runner.describe(),
        match &install.source {
            PackageSource::FindLinks(dirs) => dirs
                .iter()
                .map(|d| format!("`{}`", d.display()))
                .collect::<Vec<_>>()
                .join(", "),
            PackageSource::Index(url) => format!("`{url}`"),
        }
    );
    let run = install
        .run(runner, &prefix.site(), &prefix.root)
        .map_err(|e| match e {
            pip::PipError::NoPip { .. } => with_hint(
                e,
                "add it to the target root (`python3-pip` on Debian), or run without --pip",
            ),
            e => anyhow::Error::new(e),
        })?;
    if verbose {
        eprint!("{}", run.log);
    }
    if !run.succeeded() {
        eprint!(
            "{}",
            refusal::explain(&run, &offered, runner.target).render()
        );
        return Ok(None);
    }
    if let Some(line) = run.installed_line() {
        eprintln!("pip {}: {line}", run.pip_version);
    }
    Ok(Some(installed_modules(&prefix.site())?))
}

/// `python -c 'import a; import b; print(...)'` for the default command.
fn import_command(modules: &BTreeSet<String>) -> Vec<String> {
    let imports: Vec<String> = modules.iter().map(|m| format!("import {m}")).collect();
    let names: Vec<&str> = modules.iter().map(String::as_str).collect();
    let script = format!(
        "{}\nprint('imported ' + ', '.join({names:?}) + ' on ' + __import__('platform').machine())",
        imports.join("\n")
    );
    vec!["python".to_string(), "-c".into(), script]
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

    /// Unpack every wheel; their top-level importable modules.
    fn unpack(&self, wheels: &[PathBuf]) -> Result<BTreeSet<String>> {
        let mut modules = BTreeSet::new();
        for wheel in wheels {
            modules.extend(
                self.install(wheel)
                    .with_context(|| format!("cannot install `{}`", wheel.display()))?,
            );
        }
        Ok(modules)
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
            let listed = top_level(&text);
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
        let mm = major_minor(version);
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
        clean_environment(&mut cmd, sysroot);
        cmd.env("PATH", std::env::join_paths(path).unwrap_or_default())
            .env("PYTHONPATH", self.site())
            .env(crate::env_vars::PYX_TEST_PREFIX, &self.root);
        cmd
    }
}

/// The top-level modules of what pip installed into `site`: each `.dist-info`'s `top_level.txt`,
/// else the Python files and extension modules its `RECORD` lists.
fn installed_modules(site: &Path) -> Result<BTreeSet<String>> {
    let mut modules = BTreeSet::new();
    let Ok(entries) = fs_err::read_dir(site) else {
        return Ok(modules);
    };
    for entry in entries.flatten() {
        let dir = entry.path();
        if dir.extension().is_none_or(|e| e != "dist-info") {
            continue;
        }
        let listed = fs_err::read_to_string(dir.join("top_level.txt"))
            .map(|t| top_level(&t))
            .unwrap_or_default();
        if !listed.is_empty() {
            modules.extend(listed);
            continue;
        }
        let record = fs_err::read_to_string(dir.join("RECORD")).unwrap_or_default();
        modules.extend(
            record
                .lines()
                .filter_map(|l| l.split(',').next())
                .filter(|p| p.ends_with(".py") || p.ends_with(".so"))
                .filter_map(module_of),
        );
    }
    Ok(modules)
}

/// The module names a `top_level.txt` lists.
fn top_level(text: &str) -> BTreeSet<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| is_identifier(l))
        .map(str::to_string)
        .collect()
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
    use super::{installed_modules, module_of};

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

    #[test]
    fn modules_of_what_pip_installed() {
        let site = tempfile::tempdir().unwrap();
        let info = site.path().join("a-1.0.dist-info");
        std::fs::create_dir(&info).unwrap();
        std::fs::write(
            info.join("RECORD"),
            "a/__init__.py,sha256=x,1\nbin/a-cli,sha256=y,2\nfast.cpython-311-arm-linux-gnueabihf.so,,\n\
             a-1.0.dist-info/RECORD,,\n",
        )
        .unwrap();
        let info = site.path().join("b-1.0.dist-info");
        std::fs::create_dir(&info).unwrap();
        std::fs::write(info.join("top_level.txt"), "_b\nb\n").unwrap();
        let got: Vec<String> = installed_modules(site.path())
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(got, ["_b", "a", "b", "fast"]);
    }
}
