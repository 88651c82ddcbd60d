//! glibc versions: what a sysroot's C library is, what a binary's `GLIBC_2.X` symbol versions need,
//! and what a `manylinux_2_X` tag promises (PEP 600) are all one [`GlibcVersion`].

use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// A glibc version `major.minor` (`2.36`). Ordered; written and parsed as `2.36`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GlibcVersion {
    pub major: u16,
    pub minor: u16,
}

impl GlibcVersion {
    pub const fn new(major: u16, minor: u16) -> GlibcVersion {
        GlibcVersion { major, minor }
    }

    /// The version a `GLIBC_2.34` (or `GLIBC_2.3.4`) symbol version names: `2.34` (`2.3`).
    pub fn from_symbol_version(version: &str) -> Option<GlibcVersion> {
        let mut parts = version.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next().map_or(Some(0), |p| p.parse().ok())?;
        Some(GlibcVersion { major, minor })
    }

    /// The glibc of a target root: `__GLIBC__`.`__GLIBC_MINOR__` from `usr/include/features.h`
    /// (libc6-dev), else the newest `GLIBC_2.X` version that `libc.so.6` defines.
    pub fn of_sysroot(root: &Path, multiarch: &str) -> Option<GlibcVersion> {
        from_features_h(root).or_else(|| from_libc_so(root, multiarch))
    }
}

/// Why a string is not a glibc version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a glibc version (expected `MAJOR.MINOR`, e.g. `2.36`)")]
pub struct InvalidGlibcVersion(pub String);

impl FromStr for GlibcVersion {
    type Err = InvalidGlibcVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidGlibcVersion(s.to_string());
        let (major, minor) = s.split_once('.').ok_or_else(bad)?;
        let number = |p: &str| {
            p.parse::<u16>()
                .ok()
                .filter(|n| n.to_string() == p)
                .ok_or_else(bad)
        };
        Ok(GlibcVersion::new(number(major)?, number(minor)?))
    }
}

impl fmt::Display for GlibcVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl serde::Serialize for GlibcVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for GlibcVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

fn from_features_h(root: &Path) -> Option<GlibcVersion> {
    let text = fs_err::read_to_string(root.join("usr/include/features.h")).ok()?;
    let define = |name: &str| {
        text.lines().find_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some("#define") && words.next() == Some(name))
                .then(|| words.next()?.parse::<u16>().ok())
                .flatten()
        })
    };
    Some(GlibcVersion::new(
        define("__GLIBC__")?,
        define("__GLIBC_MINOR__")?,
    ))
}

fn from_libc_so(root: &Path, multiarch: &str) -> Option<GlibcVersion> {
    let candidates = [
        root.join("lib").join(multiarch).join("libc.so.6"),
        root.join("usr/lib").join(multiarch).join("libc.so.6"),
        root.join("lib/libc.so.6"),
        root.join("usr/lib/libc.so.6"),
    ];
    let bytes = candidates.iter().find_map(|p| std::fs::read(p).ok())?;
    let needle = b"GLIBC_2.";
    let mut best: Option<u16> = None;
    let mut i = 0;
    while let Some(pos) = bytes[i..].windows(needle.len()).position(|w| w == needle) {
        let start = i + pos + needle.len();
        let digits: String = bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .map(|&b| b as char)
            .collect();
        if let Ok(minor) = digits.parse::<u16>() {
            best = Some(best.map_or(minor, |b| b.max(minor)));
        }
        i = start;
    }
    best.map(|m| GlibcVersion::new(2, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_orders_and_round_trips() {
        let v: GlibcVersion = "2.36".parse().unwrap();
        assert_eq!(v, GlibcVersion::new(2, 36));
        assert_eq!(v.to_string(), "2.36");
        assert!(GlibcVersion::new(2, 9) < GlibcVersion::new(2, 17));
        assert!("2".parse::<GlibcVersion>().is_err());
        assert!("2.036".parse::<GlibcVersion>().is_err());
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            "\"2.36\"",
            "written as text in profiles and the cross env's settings"
        );
        assert_eq!(
            GlibcVersion::from_symbol_version("2.3.4"),
            Some(GlibcVersion::new(2, 3))
        );
        assert_eq!(
            GlibcVersion::from_symbol_version("2"),
            Some(GlibcVersion::new(2, 0))
        );
    }

    #[test]
    fn glibc_of_a_sysroot_from_headers_or_libc() {
        let root = tempfile::tempdir().unwrap();
        let lib = root.path().join("lib/arm-linux-gnueabihf");
        std::fs::create_dir_all(&lib).unwrap();
        std::fs::write(
            lib.join("libc.so.6"),
            b"\x7fELF..GLIBC_2.4\0GLIBC_2.36\0GLIBC_2.9\0GLIBC_PRIVATE",
        )
        .unwrap();
        let of = |m| GlibcVersion::of_sysroot(root.path(), m);
        assert_eq!(of("arm-linux-gnueabihf"), Some(GlibcVersion::new(2, 36)));
        assert_eq!(of("aarch64-linux-gnu"), None);
        let include = root.path().join("usr/include");
        std::fs::create_dir_all(&include).unwrap();
        std::fs::write(
            include.join("features.h"),
            "#define __GLIBC__ 2\n#define __GLIBC_MINOR__ 31\n",
        )
        .unwrap();
        assert_eq!(
            of("aarch64-linux-gnu"),
            Some(GlibcVersion::new(2, 31)),
            "the headers win"
        );
    }
}
