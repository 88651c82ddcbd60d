//! Wheel file names (PEP 427 / PEP 491): `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`,
//! each tag part a `.`-separated compressed tag set (PEP 425).

use std::fmt;
use std::str::FromStr;

use crate::platform::tags::{PlatformTag, is_valid_tag};

/// A parsed wheel file name. `Display` gives back exactly the string it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WheelFilename {
    /// The distribution name as written in the file name (escaped: `_` for `-`).
    pub name: String,
    pub version: String,
    /// Optional build tag; starts with a digit.
    pub build: Option<String>,
    pub python_tags: Vec<String>,
    pub abi_tags: Vec<String>,
    pub platform_tags: Vec<PlatformTag>,
}

/// Why a string is not a valid wheel file name; carries the bad value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WheelFilenameError {
    #[error("`{0}` is not a wheel file name: it does not end in `.whl`")]
    Extension(String),
    #[error(
        "`{0}` is not a wheel file name: expected `name-version(-build)-python-abi-platform.whl` (5 or 6 `-`-separated parts)"
    )]
    Parts(String),
    #[error("`{filename}`: {part} `{value}` is invalid: {reason}")]
    Part {
        filename: String,
        part: &'static str,
        value: String,
        reason: &'static str,
    },
}

impl WheelFilename {
    /// The distribution name normalised per PEP 503 (lower case, runs of `-_.` become `-`).
    pub fn normalized_name(&self) -> String {
        normalize_name(&self.name)
    }

    /// Every `python-abi-platform` triple the compressed tag sets expand to (PEP 425).
    pub fn tag_triples(&self) -> Vec<String> {
        let mut out = Vec::new();
        for py in &self.python_tags {
            for abi in &self.abi_tags {
                for plat in &self.platform_tags {
                    out.push(format!("{py}-{abi}-{plat}"));
                }
            }
        }
        out
    }

    /// True for a `none-any` wheel (no platform-specific code).
    pub fn is_pure(&self) -> bool {
        self.platform_tags.iter().all(|p| *p == PlatformTag::Any)
    }

    /// The same wheel with another platform tag set.
    pub fn with_platform_tags(&self, tags: Vec<PlatformTag>) -> WheelFilename {
        WheelFilename {
            platform_tags: tags,
            ..self.clone()
        }
    }

    /// The `.dist-info` directory name this wheel must contain (PEP 427).
    pub fn dist_info_dir(&self) -> String {
        format!("{}-{}.dist-info", self.name, self.version)
    }
}

/// PEP 503 normalisation of a distribution name.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

impl FromStr for WheelFilename {
    type Err = WheelFilenameError;

    fn from_str(filename: &str) -> Result<Self, Self::Err> {
        let stem = filename
            .strip_suffix(".whl")
            .ok_or_else(|| WheelFilenameError::Extension(filename.to_string()))?;
        let parts: Vec<&str> = stem.split('-').collect();
        let (name, version, build, py, abi, plat) = match parts[..] {
            [n, v, p, a, pl] => (n, v, None, p, a, pl),
            [n, v, b, p, a, pl] => (n, v, Some(b), p, a, pl),
            _ => return Err(WheelFilenameError::Parts(filename.to_string())),
        };
        let bad = |part, value: &str, reason| WheelFilenameError::Part {
            filename: filename.to_string(),
            part,
            value: value.to_string(),
            reason,
        };
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        {
            return Err(bad(
                "name",
                name,
                "only ASCII letters, digits, `_` and `.` are allowed",
            ));
        }
        if version.is_empty()
            || !version
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'!' | b'+'))
        {
            return Err(bad(
                "version",
                version,
                "only ASCII letters, digits, `_`, `.`, `!` and `+` are allowed",
            ));
        }
        if version.parse::<pep440_rs::Version>().is_err() {
            return Err(bad("version", version, "not a PEP 440 version"));
        }
        if let Some(b) = build
            && (!b.starts_with(|c: char| c.is_ascii_digit()) || !is_valid_tag(b))
        {
            return Err(bad(
                "build tag",
                b,
                "must start with a digit and hold only letters, digits and `_`",
            ));
        }
        let tags = |part, set: &str| -> Result<Vec<String>, WheelFilenameError> {
            set.split('.')
                .map(|t| {
                    if is_valid_tag(t) {
                        Ok(t.to_string())
                    } else {
                        Err(bad(
                            part,
                            set,
                            "tags hold only ASCII letters, digits and `_`",
                        ))
                    }
                })
                .collect()
        };
        let platform_tags = plat
            .split('.')
            .map(|t| {
                t.parse::<PlatformTag>().map_err(|_| {
                    bad(
                        "platform tag",
                        plat,
                        "tags hold only ASCII letters, digits and `_`",
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(WheelFilename {
            name: name.to_string(),
            version: version.to_string(),
            build: build.map(str::to_string),
            python_tags: tags("python tag", py)?,
            abi_tags: tags("abi tag", abi)?,
            platform_tags,
        })
    }
}

impl fmt::Display for WheelFilename {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.name, self.version)?;
        if let Some(b) = &self.build {
            write!(f, "-{b}")?;
        }
        write!(
            f,
            "-{}-{}-{}.whl",
            self.python_tags.join("."),
            self.abi_tags.join("."),
            join_tags(&self.platform_tags)
        )
    }
}

/// A compressed platform tag set as written in a file name: `manylinux_2_17_aarch64.manylinux2014_aarch64`.
pub fn join_tags(tags: &[PlatformTag]) -> String {
    tags.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

impl serde::Serialize for WheelFilename {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for name in [
            "numpy-2.1.0-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
            "demo-1.0-1build-py3-none-any.whl",
            "demo_pkg-1.0.post1+local.2-cp311-cp311-linux_armv7l.whl",
            "Foo.Bar-2!1.0rc1-py2.py3-none-any.whl",
        ] {
            let parsed: WheelFilename = name.parse().unwrap();
            assert_eq!(parsed.to_string(), name);
        }
    }

    #[test]
    fn splits_tag_sets() {
        let w: WheelFilename = "a-1-1b-py2.py3-none-linux_armv7l.whl".parse().unwrap();
        assert_eq!(w.build.as_deref(), Some("1b"));
        assert_eq!(w.python_tags, ["py2", "py3"]);
        assert_eq!(
            w.tag_triples(),
            ["py2-none-linux_armv7l", "py3-none-linux_armv7l"]
        );
    }

    #[test]
    fn errors_carry_the_bad_value() {
        assert_eq!(
            "a-1-py3-none-linux_arm"
                .parse::<WheelFilename>()
                .unwrap_err()
                .to_string(),
            "`a-1-py3-none-linux_arm` is not a wheel file name: it does not end in `.whl`"
        );
        assert!(matches!(
            "a-1-py3-none.whl".parse::<WheelFilename>(),
            Err(WheelFilenameError::Parts(_))
        ));
        assert_eq!(
            "a-1-py3-none-linux arm.whl"
                .parse::<WheelFilename>()
                .unwrap_err()
                .to_string(),
            "`a-1-py3-none-linux arm.whl`: platform tag `linux arm` is invalid: tags hold only ASCII letters, digits and `_`"
        );
        assert!("a-1-b1-py3-none-any.whl".parse::<WheelFilename>().is_err());
        assert!("a-x..y-py3-none-any.whl".parse::<WheelFilename>().is_err());
        assert!(
            "a-1-py3-none-linux_x86_64..whl"
                .parse::<WheelFilename>()
                .is_err()
        );
        assert!("-1-py3-none-any.whl".parse::<WheelFilename>().is_err());
    }

    #[test]
    fn normalizes_names() {
        assert_eq!(normalize_name("Foo.Bar__baz"), "foo-bar-baz");
    }
}
