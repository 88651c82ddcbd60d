//! One pass over a wheel: name, `.dist-info`, every member hashed against `RECORD`, every ELF
//! file and static library read as it streams by (never held whole); then the binary checks.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use super::ar_stream::{self, ArStream};
use super::checks::{archive_findings, binary_findings};
use super::elf::{self, ElfError};
use super::elf_stream::ElfStream;
use super::{AuditError, AuditReport, ElfMember, Finding, FindingKind};
use crate::platform::arch::Target;
use crate::platform::tags::PlatformTag;
use crate::wheel::filename::{WheelFilename, normalize_name};
use crate::wheel::metadata::{WheelInfo, WheelMetadata, find_dist_info};
use crate::wheel::reader::{WheelArchive, WheelError};
use crate::wheel::record::{self, RecordEntry, RecordHasher};

/// Largest `.dist-info` text file read.
const MAX_TEXT: u64 = 64 << 20;

struct Ctx {
    wheel: String,
    findings: Vec<Finding>,
}

impl Ctx {
    fn add(
        &mut self,
        kind: FindingKind,
        member: Option<&str>,
        what: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.findings.push(Finding {
            wheel: self.wheel.clone(),
            member: member.map(str::to_string),
            kind,
            what: what.into(),
            expected: expected.into(),
            found: found.into(),
            hint: hint.into(),
        });
    }
}

pub(super) fn audit(
    path: &Path,
    target: Option<&'static Target>,
) -> Result<AuditReport, AuditError> {
    let wheel = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut cx = Ctx {
        wheel: wheel.clone(),
        findings: Vec::new(),
    };
    let mut report = AuditReport {
        path: path.to_path_buf(),
        filename: None,
        target,
        metadata: None,
        wheel_info: None,
        elfs: Vec::new(),
        archive_objects: Vec::new(),
        members: Vec::new(),
        digests: Default::default(),
        findings: Vec::new(),
        notes: Vec::new(),
    };
    match wheel.parse::<WheelFilename>() {
        Ok(f) => report.filename = Some(f),
        Err(e) => cx.add(
            FindingKind::Filename,
            None,
            "has an invalid wheel file name",
            "`name-version(-build)-python-abi-platform.whl` (PEP 427)",
            e.to_string(),
            "rename the file, or rebuild it with a PEP 517 backend",
        ),
    }
    let mut archive = match WheelArchive::open(path) {
        Ok(a) => a,
        Err(e @ WheelError::Io { .. }) => return Err(e.into()),
        Err(e) => {
            let (kind, member, what) = match &e {
                WheelError::Unsafe { member, reason, .. } => (
                    FindingKind::UnsafePath,
                    Some(member.clone()),
                    reason.clone(),
                ),
                WheelError::TooLarge { .. } => (
                    FindingKind::Unreadable,
                    None,
                    "declares sizes no wheel has (a zip bomb?)".to_string(),
                ),
                _ => (
                    FindingKind::Unreadable,
                    None,
                    "is not a readable zip archive (not a wheel, or truncated)".to_string(),
                ),
            };
            cx.add(
                kind,
                member.as_deref(),
                what,
                "a well-formed zip whose members stay inside it",
                e.to_string(),
                e.hint(),
            );
            report.findings = cx.findings;
            return Ok(report);
        }
    };
    report.members = archive
        .members()
        .iter()
        .filter(|m| !m.is_dir)
        .map(|m| m.name.clone())
        .collect();

    let records = read_dist_info(&mut archive, &mut report, &mut cx);
    scan_members(&mut archive, &mut report, &mut cx, records);

    let platform_tags: Vec<PlatformTag> = report
        .filename
        .iter()
        .flat_map(|f| f.platform_tags.iter().cloned())
        .collect();
    let purelib = report
        .wheel_info
        .as_ref()
        .and_then(|w| w.root_is_purelib)
        .unwrap_or(false);
    let (findings, notes) = binary_findings(
        &wheel,
        &report.elfs,
        &report.members,
        &platform_tags,
        target,
        purelib,
    );
    cx.findings.extend(findings);
    let check = target
        .or_else(|| platform_tags.iter().find_map(PlatformTag::target))
        .or_else(|| report.elfs.iter().find_map(|e| super::target_of(&e.info)));
    if let Some(t) = check {
        cx.findings
            .extend(archive_findings(&wheel, &report.archive_objects, t));
    }
    report.findings = cx.findings;
    report.notes = notes;
    Ok(report)
}

fn read_text(archive: &mut WheelArchive, member: &str) -> Result<String, String> {
    let bytes = archive.read(member, MAX_TEXT).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|_| format!("`{member}` is not UTF-8"))
}

/// Read and cross-check `METADATA`, `WHEEL` and `RECORD`; returns `RECORD`'s entries by path.
fn read_dist_info(
    archive: &mut WheelArchive,
    report: &mut AuditReport,
    cx: &mut Ctx,
) -> Option<HashMap<String, RecordEntry>> {
    let hint = "rebuild the wheel with a PEP 517 backend; it does not follow PEP 427";
    let dir = match find_dist_info(archive, report.filename.as_ref()) {
        Ok(d) => d,
        Err(e) => {
            cx.add(
                FindingKind::DistInfo,
                None,
                "has no usable `.dist-info` directory",
                "one `<name>-<version>.dist-info/` directory",
                e.to_string(),
                hint,
            );
            return None;
        }
    };
    let filename = report.filename.clone();
    match read_text(archive, &format!("{dir}/METADATA")) {
        Ok(text) => match WheelMetadata::parse(&text) {
            Some(m) => {
                if let Some(f) = &filename {
                    if normalize_name(&m.name) != f.normalized_name() {
                        cx.add(
                            FindingKind::NameMismatch,
                            Some(&format!("{dir}/METADATA")),
                            "names the distribution differently from the file name",
                            format!("`{}`", f.name),
                            format!("`{}`", m.name),
                            "rename the file or fix `Name:` and rebuild",
                        );
                    }
                    if !versions_equal(&m.version, &f.version) {
                        cx.add(
                            FindingKind::VersionMismatch,
                            Some(&format!("{dir}/METADATA")),
                            "gives another version than the file name",
                            format!("`{}`", f.version),
                            format!("`{}`", m.version),
                            "rename the file or fix `Version:` and rebuild",
                        );
                    }
                }
                report.metadata = Some(m);
            }
            None => cx.add(
                FindingKind::DistInfo,
                Some(&format!("{dir}/METADATA")),
                "lacks `Name` or `Version`",
                "`Name:` and `Version:` fields",
                "a METADATA without them",
                hint,
            ),
        },
        Err(e) => cx.add(
            FindingKind::DistInfo,
            Some(&format!("{dir}/METADATA")),
            "cannot be read",
            "a UTF-8 `METADATA` file",
            e,
            hint,
        ),
    }
    match read_text(archive, &format!("{dir}/WHEEL")) {
        Ok(text) => {
            let info = WheelInfo::parse(&text);
            if let Some(f) = &filename {
                let want: BTreeSet<String> = f.tag_triples().into_iter().collect();
                let have: BTreeSet<String> = info.tags.iter().cloned().collect();
                if want != have {
                    cx.add(
                        FindingKind::TagMismatch,
                        Some(&format!("{dir}/WHEEL")),
                        "has `Tag:` lines that differ from the file name",
                        want.into_iter().collect::<Vec<_>>().join(", "),
                        have.into_iter().collect::<Vec<_>>().join(", "),
                        "retag the wheel with `pyx retag`, which rewrites both",
                    );
                }
            }
            report.wheel_info = Some(info);
        }
        Err(e) => cx.add(
            FindingKind::DistInfo,
            Some(&format!("{dir}/WHEEL")),
            "cannot be read",
            "a UTF-8 `WHEEL` file",
            e,
            hint,
        ),
    }
    let record_path = format!("{dir}/RECORD");
    let text = match read_text(archive, &record_path) {
        Ok(t) => t,
        Err(e) => {
            cx.add(
                FindingKind::DistInfo,
                Some(&record_path),
                "cannot be read",
                "a `RECORD` listing every member with its sha256 and size",
                e,
                hint,
            );
            return None;
        }
    };
    match record::parse(&text) {
        Ok(entries) => Some(entries.into_iter().map(|e| (e.path.clone(), e)).collect()),
        Err(e) => {
            cx.add(
                FindingKind::DistInfo,
                Some(&record_path),
                "is not valid CSV",
                "`path,sha256=...,size` lines",
                e.to_string(),
                hint,
            );
            None
        }
    }
}

fn versions_equal(a: &str, b: &str) -> bool {
    a == b
        || match (
            a.parse::<pep440_rs::Version>(),
            b.parse::<pep440_rs::Version>(),
        ) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        }
}

/// What one member turned out to be.
struct Scanned {
    index: usize,
    /// `RECORD`-style sha256 and the byte count, when hashed.
    digest: Option<(String, u64)>,
    elf: Option<Result<elf::ElfInfo, ElfError>>,
    /// The ELF objects of a static library (`!<arch>`): name and what they are.
    objects: Vec<(String, elf::ElfInfo)>,
    error: Option<String>,
}

/// Members below this total size are scanned on one thread.
const PARALLEL_THRESHOLD: u64 = 4 << 20;

/// What a member is, once its first bytes are in.
enum Kind {
    Undecided(Vec<u8>),
    Elf(ElfStream),
    Archive(ArStream),
    Other,
}

/// Read members `indices` of the wheel at `path`: hash each and read each ELF file and static
/// library as it streams by, keeping only the headers and sections the audit reads.
fn scan_indices(path: &Path, indices: &[usize]) -> Result<Vec<Scanned>, WheelError> {
    let mut archive = WheelArchive::open(path)?;
    let limit = archive.limits().max_member_size;
    let mut out = Vec::with_capacity(indices.len());
    for &index in indices {
        let declared = archive.members()[index].size;
        let mut hasher = RecordHasher::default();
        let mut size: u64 = 0;
        let mut kind = Kind::Undecided(Vec::new());
        let streamed = archive.stream_index(index, limit, false, |r| {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = r.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                let chunk = &buf[..n];
                hasher.update(chunk);
                size += n as u64;
                match &mut kind {
                    Kind::Elf(elf) if elf.wants_more() => elf.feed(chunk),
                    Kind::Archive(ar) => ar.feed(chunk),
                    Kind::Undecided(head) => {
                        head.extend_from_slice(chunk);
                        if head.len() >= ar_stream::MAGIC.len() {
                            kind = decide(std::mem::take(head), declared);
                        }
                    }
                    _ => {}
                }
            }
            Ok(())
        });
        if let Kind::Undecided(head) = kind {
            kind = decide(head, declared);
        }
        let (elf, objects) = match (&streamed, kind) {
            (Ok(()), Kind::Elf(stream)) => {
                let info = stream.finish(|s| {
                    archive
                        .stream_index(index, limit, true, |r| {
                            let mut buf = vec![0u8; 64 * 1024];
                            while s.wants_more() {
                                let n = r.read(&mut buf)?;
                                if n == 0 {
                                    break;
                                }
                                s.feed(&buf[..n]);
                            }
                            Ok(())
                        })
                        .map_err(|e| e.to_string())
                });
                (Some(info), Vec::new())
            }
            (Ok(()), Kind::Archive(ar)) => (None, ar.objects()),
            _ => (None, Vec::new()),
        };
        out.push(match streamed {
            Err(e) => Scanned {
                index,
                digest: None,
                elf: None,
                objects: Vec::new(),
                error: Some(e.to_string()),
            },
            Ok(()) => Scanned {
                index,
                digest: Some((hasher.finish(), size)),
                elf,
                objects,
                error: None,
            },
        });
    }
    Ok(out)
}

/// An ELF file, a static library or neither, from a member's first bytes (all of them so far).
fn decide(head: Vec<u8>, declared: u64) -> Kind {
    if elf::is_elf(&head) {
        let mut stream = ElfStream::new(declared.max(head.len() as u64));
        stream.feed(&head);
        Kind::Elf(stream)
    } else if head.starts_with(ar_stream::MAGIC) {
        let mut ar = ArStream::default();
        ar.feed(&head);
        Kind::Archive(ar)
    } else {
        Kind::Other
    }
}

/// Scan every file member, on several threads for big wheels; results in member order.
fn scan_all(archive: &WheelArchive) -> Result<Vec<Scanned>, WheelError> {
    let files: Vec<(usize, u64)> = archive
        .members()
        .iter()
        .enumerate()
        .filter(|(_, m)| !m.is_dir)
        .map(|(i, m)| (i, m.size))
        .collect();
    let total: u64 = files.iter().map(|f| f.1).sum();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    if threads < 2 || total < PARALLEL_THRESHOLD {
        let indices: Vec<usize> = files.iter().map(|f| f.0).collect();
        return scan_indices(archive.path(), &indices);
    }
    let mut by_size = files.clone();
    by_size.sort_by_key(|f| std::cmp::Reverse(f.1));
    let mut shares: Vec<(u64, Vec<usize>)> = vec![(0, Vec::new()); threads];
    for (index, size) in by_size {
        let lightest = shares.iter_mut().min_by_key(|s| s.0).expect("threads > 0");
        lightest.0 += size.max(1);
        lightest.1.push(index);
    }
    let path = archive.path();
    let results: Vec<Result<Vec<Scanned>, WheelError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = shares
            .iter()
            .map(|(_, indices)| scope.spawn(move || scan_indices(path, indices)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("scan thread panicked"))
            .collect()
    });
    let mut all = Vec::with_capacity(files.len());
    for r in results {
        all.extend(r?);
    }
    all.sort_by_key(|s| s.index);
    Ok(all)
}

/// Hash every member against `RECORD` (when `records` is given) and parse every ELF.
fn scan_members(
    archive: &mut WheelArchive,
    report: &mut AuditReport,
    cx: &mut Ctx,
    mut records: Option<HashMap<String, RecordEntry>>,
) {
    let record_hint = "the wheel was changed after it was built; rebuild it, or retag it with \
                       `pyx retag`, which refreshes RECORD";
    let scanned = match scan_all(archive) {
        Ok(s) => s,
        Err(e) => {
            cx.add(
                FindingKind::Unreadable,
                None,
                "cannot be read",
                "a readable wheel",
                e.to_string(),
                e.hint(),
            );
            return;
        }
    };
    for item in scanned {
        let info = archive.members()[item.index].clone();
        if let Some(e) = item.error {
            cx.add(
                FindingKind::Unreadable,
                Some(&info.name),
                "cannot be decompressed",
                "intact compressed data",
                e,
                "the file is damaged; download or build it again",
            );
            continue;
        }
        for (object, info_elf) in item.objects {
            report.archive_objects.push(ElfMember {
                member: format!("{}({object})", info.name),
                info: info_elf,
            });
        }
        match item.elf {
            Some(Ok(info_elf)) => report.elfs.push(ElfMember {
                member: info.name.clone(),
                info: info_elf,
            }),
            Some(Err(ElfError::NotElf)) | None => {}
            Some(Err(e @ ElfError::TooLarge { limit })) => cx.add(
                FindingKind::ElfCorrupt,
                Some(&info.name),
                format!("is an ELF file whose headers need more than {limit} bytes read"),
                format!("ELF headers and dynamic sections under pyx's limit of {limit} bytes"),
                e.to_string(),
                "the file is malformed or hostile; do not install the wheel, rebuild it",
            ),
            Some(Err(e)) => cx.add(
                FindingKind::ElfCorrupt,
                Some(&info.name),
                "is a truncated or corrupt ELF file",
                "a complete ELF file",
                e.to_string(),
                "the build or a later step damaged the file; rebuild the wheel",
            ),
        }
        if let Some(digest) = &item.digest {
            report.digests.insert(info.name.clone(), digest.clone());
        }
        let (Some(records), Some((digest, size))) = (records.as_mut(), item.digest) else {
            continue;
        };
        match records.remove(&info.name) {
            None => {
                let is_signature = info.name.ends_with(".dist-info/RECORD.jws")
                    || info.name.ends_with(".dist-info/RECORD.p7s");
                if !(is_signature || info.name.ends_with(".dist-info/RECORD")) {
                    cx.add(
                        FindingKind::RecordMissing,
                        Some(&info.name),
                        "is not listed in RECORD",
                        "a RECORD line for every member",
                        "no line",
                        record_hint,
                    );
                }
            }
            Some(entry) => {
                match entry.hash.as_deref() {
                    Some(h) if h.starts_with("sha256=") => {
                        if record::decode_hash(h) != record::decode_hash(&digest) {
                            cx.add(
                                FindingKind::RecordHash,
                                Some(&info.name),
                                "has a sha256 that differs from RECORD",
                                h,
                                &digest,
                                record_hint,
                            );
                        }
                    }
                    Some(h) => tracing::warn!(
                        "`{}`: `{}` hash `{h}` is not sha256; not checked",
                        cx.wheel,
                        info.name
                    ),
                    None if info.name.ends_with(".dist-info/RECORD") => {}
                    None => cx.add(
                        FindingKind::RecordHash,
                        Some(&info.name),
                        "is listed in RECORD without a hash",
                        "`sha256=...`",
                        "an empty hash",
                        record_hint,
                    ),
                }
                if let Some(s) = entry.size
                    && s != size
                {
                    cx.add(
                        FindingKind::RecordSize,
                        Some(&info.name),
                        "has a size that differs from RECORD",
                        format!("{s} bytes"),
                        format!("{size} bytes"),
                        record_hint,
                    );
                }
            }
        }
    }
    if let Some(records) = records {
        let mut extra: Vec<&String> = records.keys().collect();
        extra.sort();
        for path in extra {
            cx.add(
                FindingKind::RecordExtra,
                Some(path),
                "is listed in RECORD but missing from the wheel",
                "every RECORD path present in the zip",
                "no such member",
                "rebuild the wheel; a file was removed after it was built",
            );
        }
    }
}
