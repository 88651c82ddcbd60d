//! `pyx targets`: the target table and what this machine has for each row.

use anyhow::Result;
use serde::Serialize;

use crate::ExitStatus;
use crate::cli::TargetsArgs;
use crate::platform::TARGETS;
use crate::sysroot;

#[derive(Serialize)]
struct Row {
    target: &'static str,
    debian_arch: Option<&'static str>,
    triplet: &'static str,
    platform_tag: String,
    aliases: &'static [&'static str],
    cc: Option<String>,
    qemu: Option<String>,
    sysroot: Option<String>,
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
            sysroot: sysroot::find_cached(t).map(|p| p.display().to_string()),
        })
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitStatus::Success);
    }
    println!(
        "{:<9} {:<9} {:<24} {:<16} {:<4} {:<5} {:<7} aliases",
        "target", "debian", "triplet", "wheel tag", "cc", "qemu", "sysroot"
    );
    let mark = |o: &Option<String>| if o.is_some() { "yes" } else { "-" };
    for r in &rows {
        println!(
            "{:<9} {:<9} {:<24} {:<16} {:<4} {:<5} {:<7} {}",
            r.target,
            r.debian_arch.unwrap_or("-"),
            r.triplet,
            r.platform_tag,
            mark(&r.cc),
            mark(&r.qemu),
            mark(&r.sysroot),
            r.aliases.join(", ")
        );
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
