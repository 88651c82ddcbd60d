//! `pyx inspect`: what is inside a wheel or an ELF file.

use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::ExitStatus;
use crate::audit::arm_attributes::cpu_arch_name;
use crate::audit::elf::{self, ElfInfo, describe_versions};
use crate::audit::elf_stream::ElfStream;
use crate::audit::{self, FindingKind, target_of};
use crate::cli::InspectArgs;
use crate::platform::arch::{ElfClass, Endian, FloatAbi};
use crate::platform::tags::PlatformTag;
use crate::printer::ResultExt;
use crate::wheel::WheelFilename;
use crate::wheel::filename::join_tags;

#[derive(Serialize)]
struct ElfReport {
    /// Member path inside a wheel, or the file path.
    path: String,
    /// The table target this binary is for, if any.
    target: Option<&'static str>,
    /// `manylinux_2_X` floor this binary meets on its own.
    manylinux: Option<String>,
    #[serde(flatten)]
    info: ElfInfo,
}

#[derive(Serialize)]
struct WheelReport {
    path: PathBuf,
    filename: Option<WheelFilename>,
    name: Option<String>,
    version: Option<String>,
    build: Option<String>,
    python_tags: Vec<String>,
    abi_tags: Vec<String>,
    platform_tags: Vec<PlatformTag>,
    /// `Tag:` lines of `WHEEL`.
    wheel_tags: Vec<String>,
    root_is_purelib: Option<bool>,
    elfs: Vec<ElfReport>,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Inspected {
    Wheel(WheelReport),
    Elf(ElfReport),
}

pub fn run(args: InspectArgs) -> Result<ExitStatus> {
    let mut all = Vec::new();
    for path in &args.files {
        all.push(inspect(path)?);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&all)?);
    } else {
        let mut out = String::new();
        for item in &all {
            render(&mut out, item);
        }
        print!("{out}");
    }
    Ok(ExitStatus::Success)
}

fn inspect(path: &Path) -> Result<Inspected> {
    let mut head = [0u8; 4];
    let mut file = fs_err::File::open(path).hint("check the path")?;
    let n = file.read(&mut head)?;
    if elf::is_elf(&head[..n]) {
        let size = file.metadata()?.len();
        let feed = |stream: &mut ElfStream| -> std::io::Result<()> {
            let mut file = std::io::BufReader::new(fs_err::File::open(path)?);
            let mut buf = vec![0u8; 64 * 1024];
            while stream.wants_more() {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                stream.feed(&buf[..n]);
            }
            Ok(())
        };
        let mut stream = ElfStream::new(size);
        feed(&mut stream)?;
        let info = stream
            .finish(|s| feed(s).map_err(|e| e.to_string()))
            .with_context(|| format!("cannot read `{}` as ELF", path.display()))
            .hint("the file is truncated or damaged")?;
        return Ok(Inspected::Elf(elf_report(
            path.display().to_string(),
            info,
            &|_| false,
        )));
    }
    let report = audit::audit_wheel(path, None)
        .with_context(|| format!("cannot inspect `{}`", path.display()))?;
    if report.filename.is_none()
        && report.metadata.is_none()
        && report.members.is_empty()
        && path.extension().is_none_or(|e| e != "whl")
    {
        anyhow::bail!(crate::printer::with_hint(
            anyhow::anyhow!("`{}` is neither a wheel nor an ELF file", path.display()),
            "give a `.whl` file or a shared object"
        ));
    }
    let unreadable = [
        FindingKind::Unreadable,
        FindingKind::UnsafePath,
        FindingKind::ElfCorrupt,
    ];
    if let Some(f) = report
        .findings
        .iter()
        .find(|f| unreadable.contains(&f.kind))
    {
        let member = f
            .member
            .as_deref()
            .map(|m| format!(": `{m}`"))
            .unwrap_or_default();
        return Err(crate::printer::with_hint(
            anyhow::anyhow!("{}", f.found).context(format!(
                "cannot inspect `{}`{member} {}",
                path.display(),
                f.what
            )),
            f.hint.clone(),
        ));
    }
    let f = report.filename.clone();
    let elfs = report
        .elfs
        .iter()
        .map(|e| elf_report(e.member.clone(), e.info.clone(), &|lib| report.bundles(lib)))
        .collect();
    Ok(Inspected::Wheel(WheelReport {
        path: path.to_path_buf(),
        name: report
            .metadata
            .as_ref()
            .map(|m| m.name.clone())
            .or(f.as_ref().map(|f| f.name.clone())),
        version: report
            .metadata
            .as_ref()
            .map(|m| m.version.clone())
            .or(f.as_ref().map(|f| f.version.clone())),
        build: f.as_ref().and_then(|f| f.build.clone()),
        python_tags: f
            .as_ref()
            .map(|f| f.python_tags.clone())
            .unwrap_or_default(),
        abi_tags: f.as_ref().map(|f| f.abi_tags.clone()).unwrap_or_default(),
        platform_tags: f
            .as_ref()
            .map(|f| f.platform_tags.clone())
            .unwrap_or_default(),
        wheel_tags: report
            .wheel_info
            .as_ref()
            .map(|w| w.tags.clone())
            .unwrap_or_default(),
        root_is_purelib: report.wheel_info.as_ref().and_then(|w| w.root_is_purelib),
        filename: f,
        elfs,
    }))
}

fn elf_report(path: String, info: ElfInfo, bundled: &dyn Fn(&str) -> bool) -> ElfReport {
    ElfReport {
        path,
        target: target_of(&info).map(|t| t.name),
        manylinux: audit::manylinux_floor(&info, bundled)
            .map(|v| format!("manylinux_{}_{}", v.major, v.minor)),
        info,
    }
}

fn render(out: &mut String, item: &Inspected) {
    match item {
        Inspected::Elf(e) => render_elf(out, e, ""),
        Inspected::Wheel(w) => {
            let _ = writeln!(out, "{}", w.path.display());
            let row = |out: &mut String, k: &str, v: String| {
                let _ = writeln!(out, "  {k:<16}{v}");
            };
            row(out, "name", w.name.clone().unwrap_or_else(|| "-".into()));
            row(
                out,
                "version",
                w.version.clone().unwrap_or_else(|| "-".into()),
            );
            row(
                out,
                "build tag",
                w.build.clone().unwrap_or_else(|| "-".into()),
            );
            row(out, "python tags", w.python_tags.join("."));
            row(out, "abi tags", w.abi_tags.join("."));
            row(out, "platform tags", join_tags(&w.platform_tags));
            row(out, "WHEEL tags", w.wheel_tags.join(", "));
            row(
                out,
                "root-is-purelib",
                w.root_is_purelib.map_or("-".into(), |b| b.to_string()),
            );
            row(out, "ELF files", w.elfs.len().to_string());
            for e in &w.elfs {
                render_elf(out, e, "  ");
            }
        }
    }
}

fn render_elf(out: &mut String, e: &ElfReport, indent: &str) {
    let i = &e.info;
    let _ = writeln!(out, "{indent}{}", e.path);
    let row = |out: &mut String, k: &str, v: String| {
        let _ = writeln!(out, "{indent}  {k:<14}{v}");
    };
    row(
        out,
        "machine",
        format!(
            "{} ({}), {}, {}",
            i.machine_name,
            e.target.unwrap_or("unknown target"),
            match i.class {
                ElfClass::Elf32 => "32-bit",
                ElfClass::Elf64 => "64-bit",
            },
            match i.endian {
                Endian::Little => "little-endian",
                Endian::Big => "big-endian",
            }
        ),
    );
    if let Some(eabi) = i.arm_eabi {
        let float = i.float_abi.map_or("no float flag", FloatAbi::name);
        row(
            out,
            "arm abi",
            format!("EABI{eabi}, {float} (e_flags {:#x})", i.e_flags),
        );
        let arch = i.arm_attributes.as_ref().and_then(|a| a.cpu_arch);
        row(
            out,
            "arm cpu arch",
            arch.map_or("- (no .ARM.attributes)".into(), |a| {
                format!("{} (Tag_CPU_arch {a})", cpu_arch_name(a))
            }),
        );
    }
    if let Some(rvc) = i.riscv_rvc {
        let float = i.float_abi.map_or("soft-float", FloatAbi::name);
        let rvc = if rvc { ", RVC" } else { "" };
        row(
            out,
            "riscv abi",
            format!("{float} ABI{rvc} (e_flags {:#x})", i.e_flags),
        );
    }
    row(
        out,
        "interpreter",
        i.interpreter.clone().unwrap_or_else(|| "-".into()),
    );
    row(out, "libc", format!("{:?}", i.libc).to_lowercase());
    row(
        out,
        "needed",
        if i.needed.is_empty() {
            "-".into()
        } else {
            i.needed.join(", ")
        },
    );
    row(
        out,
        "versions",
        if i.symbol_versions.is_empty() {
            "-".into()
        } else {
            describe_versions(&i.symbol_versions)
        },
    );
    let manylinux = match (&e.manylinux, e.target) {
        (Some(m), _) => m.clone(),
        (None, Some(t)) if crate::audit::policy::policies_for(t).next().is_none() => {
            format!("- (no manylinux policy for {t})")
        }
        (None, _) => "- (no manylinux policy fits)".into(),
    };
    row(out, "manylinux", manylinux);
}
