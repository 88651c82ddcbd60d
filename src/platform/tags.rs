//! Wheel platform tags (PEP 425, PEP 600, PEP 656): the one parser of platform tags, tag-character
//! validation, and their link to the target table.

use std::fmt;
use std::str::FromStr;

use super::arch::Target;
use super::glibc::GlibcVersion;

/// True when `tag` is a valid single tag: ASCII letters, digits and `_` only, not empty. Every
/// tag pyx parses or writes into a file name passes this.
pub fn is_valid_tag(tag: &str) -> bool {
    !tag.is_empty() && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A Linux platform tag, or any other valid tag kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PlatformTag {
    /// `any`: pure Python.
    Any,
    /// `linux_<arch>`.
    Linux { arch: String },
    /// `manylinux_X_Y_<arch>` (PEP 600): glibc `X.Y` or newer; `legacy` keeps the
    /// `manylinux1`/`2010`/`2014` spellings.
    Manylinux {
        glibc: GlibcVersion,
        arch: String,
        legacy: bool,
    },
    /// `musllinux_X_Y_<arch>` (PEP 656).
    Musllinux {
        major: u16,
        minor: u16,
        arch: String,
    },
    /// Any other valid tag (`macosx_...`, `win_amd64`): kept, never checked against ELF files.
    Other(String),
}

/// Why a string is not a platform tag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a valid platform tag: tags hold only ASCII letters, digits and `_`")]
pub struct InvalidPlatformTag(pub String);

/// The legacy manylinux aliases (PEP 513, 571, 599) and the glibc version each stands for.
const LEGACY: &[(&str, GlibcVersion)] = &[
    ("manylinux1", GlibcVersion::new(2, 5)),
    ("manylinux2010", GlibcVersion::new(2, 12)),
    ("manylinux2014", GlibcVersion::new(2, 17)),
];

/// `X_Y_arch` with X and Y canonical decimals (no leading zeros), so the tag round-trips.
fn split_glibc(rest: &str) -> Option<(u16, u16, &str)> {
    let number = |s: &str| -> Option<u16> {
        let n: u16 = s.parse().ok()?;
        (n.to_string() == s).then_some(n)
    };
    let (major, rest) = rest.split_once('_')?;
    let (minor, arch) = rest.split_once('_')?;
    Some((number(major)?, number(minor)?, arch))
}

impl PlatformTag {
    /// The wheel architecture (`armv7l`, `x86_64`), for Linux tags.
    pub fn arch(&self) -> Option<&str> {
        match self {
            PlatformTag::Linux { arch }
            | PlatformTag::Manylinux { arch, .. }
            | PlatformTag::Musllinux { arch, .. } => Some(arch),
            _ => None,
        }
    }

    /// The target this tag's architecture names; `None` for `linux_arm`, `linux_armv8l` and
    /// anything else the table does not know.
    pub fn target(&self) -> Option<&'static Target> {
        Target::from_wheel_arch(self.arch()?)
    }

    /// `linux_<target>` for a target.
    pub fn linux(target: &Target) -> PlatformTag {
        PlatformTag::Linux {
            arch: target.name.to_string(),
        }
    }

    /// `manylinux_X_Y_<target>` (PEP 600 spelling).
    pub fn manylinux(glibc: GlibcVersion, target: &Target) -> PlatformTag {
        PlatformTag::Manylinux {
            glibc,
            arch: target.name.to_string(),
            legacy: false,
        }
    }

    /// The legacy alias of a manylinux tag (`manylinux2014_aarch64` for 2.17), if one exists.
    pub fn legacy_alias(&self) -> Option<PlatformTag> {
        match self {
            PlatformTag::Manylinux {
                glibc,
                arch,
                legacy: false,
            } if LEGACY.iter().any(|l| l.1 == *glibc) => Some(PlatformTag::Manylinux {
                glibc: *glibc,
                arch: arch.clone(),
                legacy: true,
            }),
            _ => None,
        }
    }

    pub fn is_linux_family(&self) -> bool {
        self.arch().is_some()
    }
}

impl FromStr for PlatformTag {
    type Err = InvalidPlatformTag;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if !is_valid_tag(s) {
            return Err(InvalidPlatformTag(s.to_string()));
        }
        if s == "any" {
            return Ok(PlatformTag::Any);
        }
        for (alias, glibc) in LEGACY {
            if let Some(arch) = s.strip_prefix(alias).and_then(|r| r.strip_prefix('_'))
                && !arch.is_empty()
            {
                return Ok(PlatformTag::Manylinux {
                    glibc: *glibc,
                    arch: arch.to_string(),
                    legacy: true,
                });
            }
        }
        if let Some((major, minor, arch)) = s.strip_prefix("manylinux_").and_then(split_glibc)
            && !arch.is_empty()
        {
            return Ok(PlatformTag::Manylinux {
                glibc: GlibcVersion::new(major, minor),
                arch: arch.to_string(),
                legacy: false,
            });
        }
        if let Some((major, minor, arch)) = s.strip_prefix("musllinux_").and_then(split_glibc)
            && !arch.is_empty()
        {
            return Ok(PlatformTag::Musllinux {
                major,
                minor,
                arch: arch.to_string(),
            });
        }
        if let Some(arch) = s.strip_prefix("linux_")
            && !arch.is_empty()
        {
            return Ok(PlatformTag::Linux {
                arch: arch.to_string(),
            });
        }
        Ok(PlatformTag::Other(s.to_string()))
    }
}

impl fmt::Display for PlatformTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlatformTag::Any => f.write_str("any"),
            PlatformTag::Linux { arch } => write!(f, "linux_{arch}"),
            PlatformTag::Manylinux {
                glibc,
                arch,
                legacy: true,
            } => {
                let alias = LEGACY
                    .iter()
                    .find(|l| l.1 == *glibc)
                    .map_or("manylinux2014", |l| l.0);
                write!(f, "{alias}_{arch}")
            }
            PlatformTag::Manylinux { glibc, arch, .. } => {
                write!(f, "manylinux_{}_{}_{arch}", glibc.major, glibc.minor)
            }
            PlatformTag::Musllinux { major, minor, arch } => {
                write!(f, "musllinux_{major}_{minor}_{arch}")
            }
            PlatformTag::Other(s) => f.write_str(s),
        }
    }
}

impl serde::Serialize for PlatformTag {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for PlatformTag {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for tag in [
            "any",
            "linux_armv7l",
            "linux_arm",
            "manylinux_2_17_aarch64",
            "manylinux2014_aarch64",
            "manylinux1_x86_64",
            "manylinux2010_i686",
            "musllinux_1_2_armv7l",
            "macosx_11_0_arm64",
            "win_amd64",
        ] {
            assert_eq!(tag.parse::<PlatformTag>().unwrap().to_string(), tag);
        }
    }

    #[test]
    fn maps_to_targets() {
        let t: PlatformTag = "manylinux2014_armv7l".parse().unwrap();
        assert_eq!(t.target().map(|t| t.name), Some("armv7l"));
        assert!(matches!(
            t,
            PlatformTag::Manylinux { glibc, .. } if glibc == GlibcVersion::new(2, 17)
        ));
        assert_eq!("linux_arm".parse::<PlatformTag>().unwrap().target(), None);
        assert_eq!(
            "linux_mips64"
                .parse::<PlatformTag>()
                .unwrap()
                .target()
                .map(|t| t.name),
            Some("mips64")
        );
    }

    #[test]
    fn legacy_alias() {
        let t =
            PlatformTag::manylinux(GlibcVersion::new(2, 17), Target::lookup("aarch64").unwrap());
        assert_eq!(
            t.legacy_alias().unwrap().to_string(),
            "manylinux2014_aarch64"
        );
        assert!(
            PlatformTag::manylinux(GlibcVersion::new(2, 28), Target::lookup("aarch64").unwrap())
                .legacy_alias()
                .is_none()
        );
    }

    #[test]
    fn rejects_bad_characters() {
        assert_eq!(
            "linux-armv7l"
                .parse::<PlatformTag>()
                .unwrap_err()
                .to_string(),
            "`linux-armv7l` is not a valid platform tag: tags hold only ASCII letters, digits and `_`"
        );
        assert!("".parse::<PlatformTag>().is_err());
        assert!("linux_armv7l.x".parse::<PlatformTag>().is_err());
    }

    /// Found by fuzz/wheel_filename: leading zeros parsed as a number did not round-trip.
    #[test]
    fn manylinux_with_leading_zeros_round_trips() {
        let tag = "manylinux_000000_007_y_nux_0hinux__5";
        assert_eq!(tag.parse::<PlatformTag>().unwrap().to_string(), tag);
        assert_eq!(
            tag.parse::<PlatformTag>().unwrap(),
            PlatformTag::Other(tag.to_string())
        );
    }
}
