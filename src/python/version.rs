//! A Python `major.minor`: the `--python` value, the Python a Debian release ships.

use std::fmt;
use std::str::FromStr;

/// `3.13`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PythonVersion {
    pub major: u8,
    pub minor: u8,
}

impl PythonVersion {
    pub const fn new(major: u8, minor: u8) -> PythonVersion {
        PythonVersion { major, minor }
    }

    /// The `major.minor` of a full version (`3.13.5` → `3.13`), if it has one.
    pub fn of(version: &str) -> Option<PythonVersion> {
        let mut parts = version.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some(PythonVersion { major, minor })
    }
}

impl fmt::Display for PythonVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&format!("{}.{}", self.major, self.minor))
    }
}

/// A `--python` value that is not `X.Y`.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a Python version: give major.minor, e.g. `3.13`")]
pub struct BadPythonVersion(pub String);

impl FromStr for PythonVersion {
    type Err = BadPythonVersion;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadPythonVersion(s.to_string());
        let text = s.trim();
        let (major, minor) = text.split_once('.').ok_or_else(bad)?;
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if !digits(major) || !digits(minor) {
            return Err(bad());
        }
        Ok(PythonVersion {
            major: major.parse().map_err(|_| bad())?,
            minor: minor.parse().map_err(|_| bad())?,
        })
    }
}

impl serde::Serialize for PythonVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_round_trip_and_bad_ones_name_the_value() {
        let v: PythonVersion = "3.13".parse().unwrap();
        assert_eq!(v, PythonVersion::new(3, 13));
        assert_eq!(v.to_string(), "3.13");
        assert_eq!(PythonVersion::of("3.11.7"), Some(PythonVersion::new(3, 11)));
        for bad in ["3", "3.13.5", "three", "3.x", ""] {
            let err = bad.parse::<PythonVersion>().unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("`{bad}` is not a Python version: give major.minor, e.g. `3.13`")
            );
        }
        assert!(PythonVersion::new(3, 11) < PythonVersion::new(3, 13));
    }
}
