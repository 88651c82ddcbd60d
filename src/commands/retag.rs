//! `pyx retag`: set a wheel's platform tag (file name, `WHEEL`, `RECORD`), derived from its
//! binaries or given, refusing a tag the binaries contradict unless `--force`.

use std::path::Path;

use anyhow::{Context, Result};

use crate::ExitStatus;
use crate::audit::{self, FindingKind, binary_findings};
use crate::cli::RetagArgs;
use crate::commands::verify::{render_finding, render_finding_as};
use crate::platform::tags::PlatformTag;
use crate::printer::{self, Diagnostic, Level, ResultExt};
use crate::wheel::rewrite::{self, Destination};

/// Findings that mean the tag would lie about the binaries.
const TAG_KINDS: &[FindingKind] = &[
    FindingKind::ElfMachine,
    FindingKind::FloatAbi,
    FindingKind::ArmCpuArch,
    FindingKind::ExtSuffix,
    FindingKind::PlatformTag,
    FindingKind::Manylinux,
    FindingKind::PureWithBinaries,
];

/// Findings that make a wheel unsafe to rewrite at all.
const REFUSE_KINDS: &[FindingKind] = &[
    FindingKind::Unreadable,
    FindingKind::UnsafePath,
    FindingKind::DistInfo,
    FindingKind::Filename,
    FindingKind::ElfCorrupt,
];

pub fn run(args: RetagArgs) -> Result<ExitStatus> {
    let given: Vec<PlatformTag> = args
        .platform
        .iter()
        .map(|t| t.parse::<PlatformTag>())
        .collect::<Result<_, _>>()
        .hint("a platform tag looks like `linux_armv7l` or `manylinux_2_17_aarch64`")?;
    if let Some(dir) = &args.wheel_dir {
        fs_err::create_dir_all(dir)?;
    }
    let mut status = ExitStatus::Success;
    for wheel in &args.wheels {
        match retag_one(wheel, &given, &args)? {
            Some(path) => println!("{}", path.display()),
            None => status = ExitStatus::Findings,
        }
    }
    Ok(status)
}

/// Retag one wheel; `None` when it was refused (the reason is printed).
fn retag_one(
    wheel: &Path,
    given: &[PlatformTag],
    args: &RetagArgs,
) -> Result<Option<std::path::PathBuf>> {
    let report = audit::audit_wheel(wheel, None)
        .with_context(|| format!("cannot retag `{}`", wheel.display()))
        .hint("check that the file exists and is readable")?;
    let name = report.wheel_name();
    let blocking: Vec<_> = report
        .findings
        .iter()
        .filter(|f| REFUSE_KINDS.contains(&f.kind))
        .collect();
    if !blocking.is_empty() {
        let mut out = String::new();
        for f in blocking {
            render_finding(&mut out, f);
        }
        eprint!("{out}");
        eprint!(
            "{}",
            Diagnostic::error(format!("`{name}` is not retagged: it is not a sound wheel"))
                .render()
        );
        return Ok(None);
    }
    let record_findings: Vec<_> = report
        .findings
        .iter()
        .filter(|f| {
            matches!(
                f.kind,
                FindingKind::RecordHash
                    | FindingKind::RecordSize
                    | FindingKind::RecordMissing
                    | FindingKind::RecordExtra
            )
        })
        .collect();
    for f in &record_findings {
        tracing::warn!(
            "`{name}`: `{}` {}; RECORD is refreshed",
            f.member.as_deref().unwrap_or(""),
            f.what
        );
    }

    let tags = if given.is_empty() {
        match audit::derive_platform_tags(&report, args.manylinux) {
            Ok(tags) => tags,
            Err(e) => {
                let hint = e.hint();
                eprint!("{}", printer::render_error(&printer::with_hint(e, hint)));
                return Ok(None);
            }
        }
    } else {
        given.to_vec()
    };

    let members = &report.members;
    let purelib_after = tags.iter().all(|t| *t == PlatformTag::Any)
        && report
            .wheel_info
            .as_ref()
            .and_then(|w| w.root_is_purelib)
            .unwrap_or(false);
    let contradictions: Vec<_> =
        binary_findings(&name, &report.elfs, members, &tags, None, purelib_after)
            .0
            .into_iter()
            .filter(|f| TAG_KINDS.contains(&f.kind))
            .collect();
    if !contradictions.is_empty() {
        let mut out = String::new();
        let level = if args.force {
            Level::Warning
        } else {
            Level::Error
        };
        for f in &contradictions {
            render_finding_as(&mut out, f, level);
        }
        if args.force {
            eprint!("{out}");
            tracing::warn!("`{name}`: retagging anyway (--force)");
        } else {
            let tags_text = tags
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(".");
            let refusal = Diagnostic::error(format!(
                "`{name}` is not retagged `{tags_text}`: the tag contradicts its binaries"
            ))
            .hint("use `--auto` to derive the tag, or `--force` to set it anyway");
            out.push_str(&refusal.render());
            eprint!("{out}");
            return Ok(None);
        }
    }

    let unchanged = report
        .filename
        .as_ref()
        .is_some_and(|f| f.platform_tags == tags)
        && record_findings.is_empty()
        && !report
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::TagMismatch);
    let parent = wheel
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dest = match (&args.wheel_dir, args.in_place) {
        (_, true) => Destination::InPlace,
        (Some(dir), false) => Destination::Dir(dir),
        (None, false) => Destination::Dir(parent),
    };
    let same_dir = match dest {
        Destination::InPlace => true,
        Destination::Dir(d) => fs_err::canonicalize(d).ok() == fs_err::canonicalize(parent).ok(),
    };
    if unchanged && same_dir {
        eprintln!("`{name}` already has the right tags");
        return Ok(Some(wheel.to_path_buf()));
    }
    let out = rewrite::retag_refreshing(wheel, &tags, dest, &report.digests).map_err(|e| {
        let hint = match e {
            rewrite::RewriteError::KeepOriginal { .. } => {
                "check the original's attributes (`lsattr`: `chattr -i` lifts immutable) and the \
                 directory's owner and sticky bit, or retag with `-w DIR` instead"
            }
            _ => "check that the output directory is writable",
        };
        printer::with_hint(
            anyhow::Error::new(e).context(format!("cannot retag `{}`", wheel.display())),
            hint,
        )
    })?;
    Ok(Some(out))
}
