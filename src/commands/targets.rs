//! `pyx targets`: the target table, what this machine has for each row, and which build Python
//! serves each Debian release.

use anyhow::Result;
use serde::Serialize;

use crate::ExitStatus;
use crate::cli::TargetsArgs;
use crate::platform::TARGETS;
use crate::python::{Origin, PythonVersion, find};
use crate::sysroot;
use crate::sysroot::build_python::DebianPython;
use crate::sysroot::release::RELEASES;

#[derive(Serialize)]
struct Row {
    target: &'static str,
    debian_arch: Option<&'static str>,
    triplet: &'static str,
    platform_tag: String,
    aliases: &'static [&'static str],
    cc: Option<String>,
    qemu: Option<String>,
    /// The Debian releases that have the target's architecture.
    releases: Vec<&'static str>,
    /// The cached sysroot of each release that has one.
    sysroots: std::collections::BTreeMap<&'static str, String>,
}

/// A Debian release and the build Python that serves it.
#[derive(Serialize)]
struct ReleaseRow {
    release: &'static str,
    debian: u32,
    python: PythonVersion,
    /// The interpreter pyx would use now, if any.
    build_python: Option<String>,
    /// Where it comes from (`path`, `pyenv`, `uv`, `debian`, `given`).
    origin: Option<Origin>,
    /// Where pyx provisions one when none is found.
    provisioned_into: Option<String>,
}

pub fn run(args: TargetsArgs) -> Result<ExitStatus> {
    let rows: Vec<Row> = TARGETS
        .iter()
        .map(|t| Row {
            target: t.name,
            debian_arch: t.debian_arch,
            triplet: t.triplet,
            platform_tag: t.linux_platform_tag(),
            aliases: t.aliases,
            cc: which::which(format!("{}-gcc", t.triplet))
                .ok()
                .map(|p| p.display().to_string()),
            qemu: match t.qemu {
                Some(q) => which::which(q).ok().map(|p| p.display().to_string()),
                None => Some("(native)".into()),
            },
            releases: RELEASES
                .iter()
                .filter(|r| r.arch_of(t).is_ok())
                .map(|r| r.codename)
                .collect(),
            sysroots: RELEASES
                .iter()
                .filter_map(|r| {
                    let path = sysroot::find_cached(t, r)?;
                    Some((r.codename, path.display().to_string()))
                })
                .collect(),
        })
        .collect();
    let releases: Vec<ReleaseRow> = RELEASES
        .iter()
        .map(|&r| {
            let found = find::locate(r.python);
            ReleaseRow {
                release: r.codename,
                debian: r.version,
                python: r.python,
                build_python: found.as_ref().map(|b| b.executable.display().to_string()),
                origin: found.as_ref().map(|b| b.origin),
                provisioned_into: DebianPython { release: r }
                    .root()
                    .map(|p| p.display().to_string()),
            }
        })
        .collect();
    if args.json {
        let out = serde_json::json!({ "targets": rows, "releases": releases });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitStatus::Success);
    }
    println!(
        "{:<9} {:<9} {:<24} {:<16} {:<4} {:<5} {:<16} {:<16} aliases",
        "target", "debian", "triplet", "wheel tag", "cc", "qemu", "releases", "sysroots"
    );
    let mark = |o: &Option<String>| if o.is_some() { "yes" } else { "-" };
    let list = |names: Vec<&str>| match names.join(",") {
        s if s.is_empty() => "-".to_string(),
        s => s,
    };
    for r in &rows {
        println!(
            "{:<9} {:<9} {:<24} {:<16} {:<4} {:<5} {:<16} {:<16} {}",
            r.target,
            r.debian_arch.unwrap_or("-"),
            r.triplet,
            r.platform_tag,
            mark(&r.cc),
            mark(&r.qemu),
            list(r.releases.clone()),
            list(r.sysroots.keys().copied().collect()),
            r.aliases.join(", ")
        );
    }
    println!();
    println!(
        "{:<9} {:<7} {:<7} build Python",
        "release", "debian", "python"
    );
    for r in &releases {
        let build = match (&r.build_python, r.origin) {
            (Some(exe), Some(origin)) => format!("{exe} ({origin})"),
            _ => format!(
                "none installed: provisioned on first use into `{}`",
                r.provisioned_into.as_deref().unwrap_or("-")
            ),
        };
        println!("{:<9} {:<7} {:<7} {build}", r.release, r.debian, r.python);
    }
    let missing: Vec<&str> = TARGETS
        .iter()
        .zip(&rows)
        .filter(|(_, r)| r.cc.is_none())
        .map(|(t, _)| t.gcc_package)
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "hint: cross compilers are missing for some targets: apt-get install {}",
            missing.join(" ")
        );
    }
    Ok(ExitStatus::Success)
}
