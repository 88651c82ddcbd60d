//! The Debian releases pyx provisions sysroots and build Pythons from: which Python each ships and
//! which architectures it has. The target's Python version picks the release (`--python 3.13` →
//! trixie), or `--debian` names it.

use std::fmt;
use std::str::FromStr;

use crate::platform::Target;
use crate::python::PythonVersion;

/// One Debian release as pyx uses it.
#[derive(Debug, PartialEq, Eq)]
pub struct DebianRelease {
    /// `bookworm`: the suite name in apt sources and in cache paths.
    pub codename: &'static str,
    /// `12`.
    pub version: u32,
    /// The one `python3.X` the release ships (its `python3`).
    pub python: PythonVersion,
    /// The architectures of its archive (the `Architectures:` field of its `InRelease`).
    pub architectures: &'static [&'static str],
    /// Its packages ship nothing under `/bin`, `/lib`, `/sbin` (DEP 17): the root needs the
    /// `lib -> usr/lib` links that `base-files` would make.
    pub merged_usr: bool,
}

pub static BOOKWORM: DebianRelease = DebianRelease {
    codename: "bookworm",
    version: 12,
    python: PythonVersion::new(3, 11),
    architectures: &[
        "amd64", "arm64", "armel", "armhf", "i386", "mips64el", "mipsel", "ppc64el", "s390x",
    ],
    merged_usr: false,
};

pub static TRIXIE: DebianRelease = DebianRelease {
    codename: "trixie",
    version: 13,
    python: PythonVersion::new(3, 13),
    architectures: &[
        "amd64", "arm64", "armel", "armhf", "i386", "ppc64el", "riscv64", "s390x",
    ],
    merged_usr: true,
};

/// Every release pyx knows, oldest first.
pub static RELEASES: &[&DebianRelease] = &[&BOOKWORM, &TRIXIE];

/// The release used when nothing names one and the build Python's version does not pick one.
pub static DEFAULT: &DebianRelease = &BOOKWORM;

impl DebianRelease {
    /// A release by codename (`trixie`) or version (`13`, `debian13`), case-insensitively.
    pub fn lookup(name: &str) -> Option<&'static DebianRelease> {
        let name = name.trim().to_ascii_lowercase();
        let number = name.strip_prefix("debian").unwrap_or(&name);
        RELEASES
            .iter()
            .copied()
            .find(|r| r.codename == name || number.parse() == Ok(r.version))
    }

    /// The release that ships Python `python`.
    pub fn for_python(python: PythonVersion) -> Result<&'static DebianRelease, ReleaseError> {
        RELEASES
            .iter()
            .copied()
            .find(|r| r.python == python)
            .ok_or(ReleaseError::NoRelease { python })
    }

    /// The Debian architecture of `target` in this release.
    pub fn arch_of(&'static self, target: &'static Target) -> Result<&'static str, ReleaseError> {
        let Some(arch) = target.debian_arch else {
            return Err(ReleaseError::NoDebianArch { target });
        };
        if self.architectures.contains(&arch) {
            Ok(arch)
        } else {
            Err(ReleaseError::NoArch {
                target,
                arch,
                release: self,
            })
        }
    }

    /// The suites of its main archive: the release and its updates.
    pub fn suites(&self) -> [String; 2] {
        [
            self.codename.to_string(),
            format!("{}-updates", self.codename),
        ]
    }

    /// The suite of its security archive.
    pub fn security_suite(&self) -> String {
        format!("{}-security", self.codename)
    }
}

impl fmt::Display for DebianRelease {
    /// `Debian 13 (trixie)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Debian {} ({})", self.version, self.codename)
    }
}

/// A validated `--debian` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseName(pub &'static DebianRelease);

impl FromStr for ReleaseName {
    type Err = ReleaseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DebianRelease::lookup(s)
            .map(ReleaseName)
            .ok_or_else(|| ReleaseError::UnknownRelease {
                name: s.to_string(),
            })
    }
}

/// Why no Debian release serves a request.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error(
        "no Debian release pyx knows ships Python {python} ({})",
        known_pythons()
    )]
    NoRelease { python: PythonVersion },
    #[error("{release} has no `{arch}` architecture for target `{target}`")]
    NoArch {
        target: &'static Target,
        arch: &'static str,
        release: &'static DebianRelease,
    },
    #[error("Debian has no architecture for target `{target}`")]
    NoDebianArch { target: &'static Target },
    #[error("unknown Debian release `{name}` (known: {known})", known = known_pythons())]
    UnknownRelease { name: String },
}

impl ReleaseError {
    /// What the user can do instead.
    pub fn hint(&self) -> String {
        let own = "bring a target root and a build Python of your own: `--sysroot DIR` (a root \
                   with `usr/lib/python3.X`) and `PYX_BUILD_PYTHON=/path/to/python3.X`";
        match self {
            ReleaseError::NoRelease { .. } => {
                let flags: Vec<String> = RELEASES
                    .iter()
                    .map(|r| format!("`--python {}`", r.python))
                    .collect();
                format!("use {}, or {own}", flags.join(" or "))
            }
            ReleaseError::NoArch { target, arch, .. } => {
                let with: Vec<String> = RELEASES
                    .iter()
                    .filter(|r| r.architectures.contains(arch))
                    .map(|r| format!("{r} with `--python {}`", r.python))
                    .collect();
                if with.is_empty() {
                    format!("no release pyx knows has `{arch}`; {own}")
                } else {
                    format!(
                        "`{target}` is in {}; or {own}",
                        with.join(" and "),
                        target = target.name
                    )
                }
            }
            ReleaseError::NoDebianArch { .. } => {
                "bring your own target root with --sysroot DIR (a Buildroot/Yocto SDK sysroot)"
                    .to_string()
            }
            ReleaseError::UnknownRelease { .. } => {
                "name a release by codename or number: `--debian trixie`, `--debian 13`".to_string()
            }
        }
    }
}

/// `Debian 12 (bookworm): Python 3.11, Debian 13 (trixie): Python 3.13`.
fn known_pythons() -> String {
    RELEASES
        .iter()
        .map(|r| format!("{r}: Python {}", r.python))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_are_found_by_name_number_and_python() {
        assert_eq!(DebianRelease::lookup("trixie"), Some(&TRIXIE));
        assert_eq!(DebianRelease::lookup("13"), Some(&TRIXIE));
        assert_eq!(DebianRelease::lookup("Debian12"), Some(&BOOKWORM));
        assert_eq!(DebianRelease::lookup("sid"), None);
        assert_eq!(
            DebianRelease::for_python(PythonVersion::new(3, 13)).unwrap(),
            &TRIXIE
        );
    }

    #[test]
    fn a_python_no_release_ships_names_the_releases_and_the_way_out() {
        let err = DebianRelease::for_python(PythonVersion::new(3, 12)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no Debian release pyx knows ships Python 3.12 (Debian 12 (bookworm): Python 3.11, \
             Debian 13 (trixie): Python 3.13)"
        );
        assert_eq!(
            err.hint(),
            "use `--python 3.11` or `--python 3.13`, or bring a target root and a build Python of \
             your own: `--sysroot DIR` (a root with `usr/lib/python3.X`) and \
             `PYX_BUILD_PYTHON=/path/to/python3.X`"
        );
    }

    #[test]
    fn a_target_a_release_lacks_names_the_release_that_has_it() {
        let mips64 = Target::lookup("mips64").unwrap();
        let err = TRIXIE.arch_of(mips64).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Debian 13 (trixie) has no `mips64el` architecture for target `mips64`"
        );
        assert!(
            err.hint()
                .starts_with("`mips64` is in Debian 12 (bookworm) with `--python 3.11`; or "),
            "{}",
            err.hint()
        );
        let riscv64 = Target::lookup("riscv64").unwrap();
        assert_eq!(
            BOOKWORM.arch_of(riscv64).unwrap_err().to_string(),
            "Debian 12 (bookworm) has no `riscv64` architecture for target `riscv64`"
        );
        assert_eq!(TRIXIE.arch_of(riscv64).unwrap(), "riscv64");
        let armv7l = Target::lookup("armv7l").unwrap();
        assert_eq!(BOOKWORM.arch_of(armv7l).unwrap(), "armhf");
    }
}
