//! Whether a wheel installs on one CPython `X.Y`: its Python and ABI tags (PEP 425, PEP 384).

use super::{AuditReport, Finding, FindingKind};
use crate::python::PythonVersion;

/// A finding when no Python/ABI tag pair of the wheel's file name installs on CPython `python`.
pub fn python_findings(report: &AuditReport, python: PythonVersion) -> Option<Finding> {
    let name = report.filename.as_ref()?;
    let pairs = name.python_tags.iter().flat_map(|py| {
        name.abi_tags
            .iter()
            .map(move |abi| (py.as_str(), abi.as_str()))
    });
    let mut pairs: Vec<(&str, &str)> = pairs.collect();
    if pairs.iter().any(|&(py, abi)| installs_on(py, abi, python)) {
        return None;
    }
    pairs.truncate(3);
    let found: Vec<String> = pairs
        .iter()
        .map(|(py, abi)| format!("{py}-{abi}"))
        .collect();
    let cp = format!("cp{}{}", python.major, python.minor);
    Some(Finding {
        wheel: report.wheel_name(),
        member: None,
        kind: FindingKind::PythonTag,
        what: format!("does not install on CPython {python}"),
        expected: format!(
            "`{cp}-{cp}`, `cp3Y-abi3` (Y ≤ {}) or a pure `py3-none`",
            python.minor
        ),
        found: format!("`{}`", found.join("`, `")),
        hint: format!("build it for the target's Python: `pyx wheel --python {python} ...`"),
    })
}

/// PEP 425 for CPython `X.Y`: `cpXY-cpXY`, `cp3Z-abi3` with Z ≤ Y, and `-none` with `cpXY`,
/// `pyX` or `pyXZ` (Z ≤ Y).
fn installs_on(py: &str, abi: &str, python: PythonVersion) -> bool {
    let cp = format!("cp{}{}", python.major, python.minor);
    let not_newer = |prefix: &str| {
        py.strip_prefix(prefix)
            .and_then(|v| v.strip_prefix(&python.major.to_string()))
            .is_some_and(|minor| {
                minor.is_empty() || minor.parse::<u8>().is_ok_and(|m| m <= python.minor)
            })
    };
    match abi {
        "abi3" => py.starts_with("cp") && not_newer("cp"),
        "none" => py == cp || not_newer("py"),
        _ => abi == cp && py == cp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpython_tags_install_where_pep_425_says() {
        let v313 = PythonVersion::new(3, 13);
        for (py, abi, ok) in [
            ("cp313", "cp313", true),
            ("cp311", "cp311", false),
            ("cp38", "abi3", true),
            ("cp313", "abi3", true),
            ("cp314", "abi3", false),
            ("py3", "none", true),
            ("py2", "none", false),
            ("py313", "none", true),
            ("cp313", "none", true),
            ("pp310", "pypy310_pp73", false),
        ] {
            assert_eq!(installs_on(py, abi, v313), ok, "{py}-{abi}");
        }
    }
}
