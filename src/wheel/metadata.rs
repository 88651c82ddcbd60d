//! The `.dist-info` files of a wheel: `METADATA` (core metadata) and `WHEEL` (PEP 427), both in
//! RFC 822 header form.

use std::path::Path;

use super::filename::{WheelFilename, normalize_name};
use super::reader::{WheelArchive, WheelError};

/// Largest `METADATA`/`WHEEL` member pyx reads.
const MAX_TEXT_MEMBER: u64 = 16 << 20;

/// The fields of a wheel's `METADATA` the rest of pyx needs (core metadata 2.x).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WheelMetadata {
    pub name: String,
    pub version: String,
    /// `Requires-Dist` lines, as written (PEP 508 strings with markers).
    pub requires_dist: Vec<String>,
    pub requires_python: Option<String>,
    pub provides_extra: Vec<String>,
}

/// The `WHEEL` file: wheel format version, generator, purelib flag and tags.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WheelInfo {
    pub wheel_version: Option<String>,
    pub generator: Option<String>,
    pub root_is_purelib: Option<bool>,
    /// `Tag:` lines, each a `python-abi-platform` triple.
    pub tags: Vec<String>,
    pub build: Option<String>,
}

/// Parse RFC 822 style headers (stops at the first blank line; folds continuation lines).
pub fn parse_headers(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = out.last_mut() {
                v.push('\n');
                v.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

impl WheelMetadata {
    /// Parse the text of a `METADATA` file; `None` when `Name` or `Version` is missing.
    pub fn parse(text: &str) -> Option<WheelMetadata> {
        let mut name = None;
        let mut version = None;
        let mut meta = WheelMetadata {
            name: String::new(),
            version: String::new(),
            requires_dist: Vec::new(),
            requires_python: None,
            provides_extra: Vec::new(),
        };
        for (k, v) in parse_headers(text) {
            match k.to_ascii_lowercase().as_str() {
                "name" => name = Some(v),
                "version" => version = Some(v),
                "requires-dist" => meta.requires_dist.push(v),
                "requires-python" => meta.requires_python = Some(v),
                "provides-extra" => meta.provides_extra.push(v),
                _ => {}
            }
        }
        meta.name = name?;
        meta.version = version?;
        Some(meta)
    }

    /// Read `METADATA` from the wheel at `path`.
    pub fn read(path: &Path) -> Result<WheelMetadata, WheelError> {
        let mut archive = WheelArchive::open(path)?;
        read_metadata(&mut archive)
    }
}

/// Read `METADATA` from a wheel file (the function other parts of pyx call).
pub fn read_wheel_metadata(path: &Path) -> Result<WheelMetadata, WheelError> {
    WheelMetadata::read(path)
}

impl WheelInfo {
    pub fn parse(text: &str) -> WheelInfo {
        let mut info = WheelInfo {
            wheel_version: None,
            generator: None,
            root_is_purelib: None,
            tags: Vec::new(),
            build: None,
        };
        for (k, v) in parse_headers(text) {
            match k.to_ascii_lowercase().as_str() {
                "wheel-version" => info.wheel_version = Some(v),
                "generator" => info.generator = Some(v),
                "root-is-purelib" => info.root_is_purelib = Some(v.eq_ignore_ascii_case("true")),
                "tag" => info.tags.push(v),
                "build" => info.build = Some(v),
                _ => {}
            }
        }
        info
    }
}

/// Find the wheel's `.dist-info` directory: the one named after the file name when it exists,
/// else the only top-level one.
pub fn find_dist_info(
    archive: &WheelArchive,
    filename: Option<&WheelFilename>,
) -> Result<String, WheelError> {
    let mut dirs: Vec<&str> = archive
        .members()
        .iter()
        .filter_map(|m| m.name.split_once('/').map(|(d, _)| d))
        .filter(|d| d.ends_with(".dist-info"))
        .collect();
    dirs.sort_unstable();
    dirs.dedup();
    if let Some(f) = filename {
        let want = normalize_name(&f.name);
        if let Some(d) = dirs.iter().find(|d| {
            d.strip_suffix(".dist-info")
                .and_then(|s| s.rsplit_once('-'))
                .is_some_and(|(n, _)| normalize_name(n) == want)
        }) {
            return Ok(d.to_string());
        }
    }
    match dirs[..] {
        [one] => Ok(one.to_string()),
        [] => Err(WheelError::Missing {
            path: archive.path().to_path_buf(),
            member: "*.dist-info/".into(),
        }),
        _ => Err(WheelError::Invalid {
            path: archive.path().to_path_buf(),
            message: format!("several `.dist-info` directories: {}", dirs.join(", ")),
        }),
    }
}

fn file_name_of(archive: &WheelArchive) -> Option<WheelFilename> {
    archive.path().file_name()?.to_str()?.parse().ok()
}

fn read_text(archive: &mut WheelArchive, member: &str) -> Result<String, WheelError> {
    let bytes = archive.read(member, MAX_TEXT_MEMBER)?;
    String::from_utf8(bytes).map_err(|_| WheelError::Invalid {
        path: archive.path().to_path_buf(),
        message: format!("`{member}` is not UTF-8"),
    })
}

/// Read and parse `<dist-info>/METADATA` from an open wheel.
pub fn read_metadata(archive: &mut WheelArchive) -> Result<WheelMetadata, WheelError> {
    let dir = find_dist_info(archive, file_name_of(archive).as_ref())?;
    let member = format!("{dir}/METADATA");
    let text = read_text(archive, &member)?;
    WheelMetadata::parse(&text).ok_or_else(|| WheelError::Invalid {
        path: archive.path().to_path_buf(),
        message: format!("`{member}` lacks a `Name` or `Version` field"),
    })
}

/// Read and parse `<dist-info>/WHEEL` from an open wheel.
pub fn read_wheel_info(archive: &mut WheelArchive) -> Result<WheelInfo, WheelError> {
    let dir = find_dist_info(archive, file_name_of(archive).as_ref())?;
    let text = read_text(archive, &format!("{dir}/WHEEL"))?;
    Ok(WheelInfo::parse(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_metadata() {
        let text = "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Python: >=3.8\n\
                    Requires-Dist: numpy>=1.20\nRequires-Dist: pytest; extra == \"test\"\n\
                    Provides-Extra: test\nDescription: a\n  long one\n\nRequires-Dist: body-not-header\n";
        let m = WheelMetadata::parse(text).unwrap();
        assert_eq!(m.name, "demo");
        assert_eq!(m.version, "1.0");
        assert_eq!(
            m.requires_dist,
            ["numpy>=1.20", "pytest; extra == \"test\""]
        );
        assert_eq!(m.requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(m.provides_extra, ["test"]);
        assert!(WheelMetadata::parse("Name: x\n").is_none());
    }

    #[test]
    fn parses_wheel_file() {
        let w = WheelInfo::parse(
            "Wheel-Version: 1.0\nGenerator: bdist_wheel\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_arm\n",
        );
        assert_eq!(w.root_is_purelib, Some(false));
        assert_eq!(w.tags, ["cp311-cp311-linux_arm"]);
    }

    #[test]
    fn reads_metadata_from_a_wheel_file() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo_pkg-1.0-py3-none-any.whl");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let opts = zip::write::SimpleFileOptions::default();
        zip.start_file("demo_pkg/__init__.py", opts).unwrap();
        zip.start_file("demo_pkg-1.0.dist-info/METADATA", opts)
            .unwrap();
        zip.write_all(b"Name: demo-pkg\nVersion: 1.0\nRequires-Dist: six\n")
            .unwrap();
        zip.finish().unwrap();
        let m = read_wheel_metadata(&path).unwrap();
        assert_eq!(
            (m.name.as_str(), m.requires_dist.as_slice()),
            ("demo-pkg", &["six".to_string()][..])
        );
    }
}
