//! `pyx sysroot add|list|remove|path`: target roots from Debian's packages, in pyx's cache.

use anyhow::Result;

use crate::ExitStatus;
use crate::cli::{GlobalArgs, ReleaseArgs, SysrootCommand};
use crate::platform::profile::TargetRequest;
use crate::printer::with_hint;
use crate::sysroot::build_python::DebianPython;
use crate::sysroot::release::{DebianRelease, RELEASES};
use crate::sysroot::{self, Cached, DebianSysroot};

pub fn run(cmd: SysrootCommand, _global: &GlobalArgs) -> Result<ExitStatus> {
    match cmd {
        SysrootCommand::Add(args) => {
            let root = DebianSysroot {
                target: args.target.0,
                release: release(&args.release)?,
                with: &sysroot::package_list(&args.with),
            }
            .ensure(args.force)?;
            println!("{}", root.display());
        }
        SysrootCommand::Path { target, release: r } => {
            let root = DebianSysroot {
                target: target.0,
                release: release(&r)?,
                with: &[],
            }
            .ensure(false)?;
            println!("{}", root.display());
        }
        SysrootCommand::List { json } => list(json)?,
        SysrootCommand::Remove { target, release: r } => {
            let release = release(&r)?;
            let Some(path) = sysroot::cached_path(target.0, release).filter(|p| p.exists()) else {
                return Err(with_hint(
                    anyhow::anyhow!("no cached sysroot for `{}` from {release}", target.0),
                    "`pyx sysroot list` shows the cached sysroots",
                ));
            };
            fs_err::remove_dir_all(&path)?;
            eprintln!("removed `{}`", path.display());
        }
    }
    Ok(ExitStatus::Success)
}

/// The release `--python`/`--debian` name, else the default one.
fn release(args: &ReleaseArgs) -> Result<&'static DebianRelease> {
    TargetRequest {
        python: args.python,
        release: args.debian.map(|r| r.0),
        ..TargetRequest::default()
    }
    .sysroot_release()
}

/// The cached sysroots, then the build Pythons pyx provisioned (one per release).
fn list(json: bool) -> Result<()> {
    let cached = sysroot::list_cached();
    let pythons: Vec<(&DebianRelease, std::path::PathBuf)> = RELEASES
        .iter()
        .filter_map(|&release| Some((release, DebianPython { release }.cached()?)))
        .collect();
    if json {
        let roots: Vec<_> = cached
            .iter()
            .filter_map(|c| match c {
                Cached::Root(path, info) => Some(serde_json::json!({ "path": path, "info": info })),
                Cached::OldLayout(_) => None,
            })
            .collect();
        let pythons: Vec<_> = pythons
            .iter()
            .map(|(r, exe)| {
                serde_json::json!({ "release": r.codename, "python": r.python, "executable": exe })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({ "sysroots": roots, "build_pythons": pythons })
            )?
        );
        return Ok(());
    }
    if cached.is_empty() {
        eprintln!(
            "no sysroots in `{}` yet; `pyx sysroot add armv7l` makes one",
            sysroot::sysroots_dir().display()
        );
    }
    for entry in &cached {
        match entry {
            Cached::Root(path, info) => println!(
                "{:<9} {:<9} {:<9} python{:<5} {:>3} packages  {}",
                info.target,
                info.debian_arch,
                info.release,
                info.python,
                info.packages.len(),
                path.display()
            ),
            Cached::OldLayout(path) => eprintln!(
                "note: `{}` is a sysroot from an older pyx (before Debian releases); nothing uses \
                 it, delete it to free its space",
                path.display()
            ),
        }
    }
    for (release, exe) in &pythons {
        println!(
            "{:<9} {:<9} {:<9} python{:<5} build Python  {}",
            "(build)",
            "-",
            release.codename,
            release.python,
            exe.display()
        );
    }
    Ok(())
}
