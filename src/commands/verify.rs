//! `pyx verify`: check wheels (names, `RECORD`, tags, every ELF) and exit 0 when all are sound,
//! 1 on any finding, 2 on a usage or I/O error.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde::Serialize;

use crate::ExitStatus;
use crate::audit::{self, AuditReport, Finding};
use crate::cli::VerifyArgs;
use crate::printer::{self, Diagnostic, Level, ResultExt};

#[derive(Serialize)]
struct JsonReport<'a> {
    sound: bool,
    #[serde(flatten)]
    report: &'a AuditReport,
}

pub fn run(args: VerifyArgs) -> Result<ExitStatus> {
    let wheels = collect_wheels(&args.paths)?;
    let target = args.target.map(|t| t.0);
    let mut reports = Vec::new();
    let mut io_errors = 0;
    for wheel in &wheels {
        match audit::audit_wheel(wheel, target) {
            Ok(mut r) => {
                if let Some(f) = args.python.and_then(|py| audit::python_findings(&r, py)) {
                    r.findings.push(f);
                }
                reports.push(r);
            }
            Err(e) => {
                io_errors += 1;
                let err =
                    anyhow::Error::new(e).context(format!("cannot verify `{}`", wheel.display()));
                eprint!(
                    "{}",
                    printer::render_error(&printer::with_hint(
                        err,
                        "check that the file exists and is readable"
                    ))
                );
            }
        }
    }
    if args.json {
        let json: Vec<JsonReport> = reports
            .iter()
            .map(|r| JsonReport {
                sound: r.is_sound(),
                report: r,
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        let mut out = String::new();
        for r in &reports {
            render(&mut out, r);
        }
        print!("{out}");
    }
    let unsound = reports.iter().filter(|r| !r.is_sound()).count();
    let findings: usize = reports.iter().map(|r| r.findings.len()).sum();
    eprintln!(
        "verified {} wheel(s): {} sound{}{}",
        reports.len(),
        reports.len() - unsound,
        if unsound > 0 {
            format!(", {unsound} with {findings} finding(s)")
        } else {
            String::new()
        },
        if io_errors > 0 {
            format!(", {io_errors} unreadable")
        } else {
            String::new()
        }
    );
    Ok(if io_errors > 0 {
        ExitStatus::Error
    } else if unsound > 0 {
        ExitStatus::Findings
    } else {
        ExitStatus::Success
    })
}

/// Expand directories to the `.whl` files directly inside them (sorted); `pyx test` takes its
/// wheels the same way.
pub(super) fn collect_wheels(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = fs_err::read_dir(path)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "whl") && p.is_file())
                .collect();
            if found.is_empty() {
                return Err(anyhow::anyhow!(
                    "`{}` contains no `.whl` files",
                    path.display()
                ))
                .hint("give wheel files, or a directory that holds them");
            }
            found.sort();
            out.extend(found);
        } else if path.exists() {
            out.push(path.clone());
        } else {
            bail!(printer::with_hint(
                anyhow::anyhow!("`{}` does not exist", path.display()),
                "give wheel files, or a directory that holds them"
            ));
        }
    }
    Ok(out)
}

fn render(out: &mut String, r: &AuditReport) {
    let name = r.wheel_name();
    for f in &r.notes {
        render_note(out, f);
    }
    if r.is_sound() {
        let elfs = r.elfs.len();
        let _ = writeln!(
            out,
            "ok: `{name}` ({elfs} ELF file{})",
            if elfs == 1 { "" } else { "s" }
        );
        return;
    }
    for f in &r.findings {
        render_finding(out, f);
    }
}

/// One finding: what is wrong, what was expected and found, and what to do.
pub fn render_finding(out: &mut String, f: &Finding) {
    render_finding_as(out, f, Level::Error);
}

/// A finding at `level`: `warning:` for one the user overrode (`retag --force`).
pub fn render_finding_as(out: &mut String, f: &Finding, level: Level) {
    let subject = match &f.member {
        Some(m) => format!("`{}`: `{m}`", f.wheel),
        None => format!("`{}`", f.wheel),
    };
    let d = Diagnostic::new(level, format!("{subject} {}", f.what))
        .field("expected", &f.expected)
        .field("found", &f.found)
        .hint(&f.hint);
    out.push_str(&d.render());
}

/// A note: something to know that does not make the wheel unsound.
fn render_note(out: &mut String, f: &Finding) {
    let member = f.member.as_deref().unwrap_or_default();
    let d = Diagnostic::note(format!("`{}`: `{member}` {}", f.wheel, f.what))
        .field("found", &f.found)
        .hint(&f.hint);
    out.push_str(&d.render());
}

/// The path of a wheel for messages.
pub fn display(path: &Path) -> String {
    path.display().to_string()
}
