//! Which wheels a target installs: its interpreter tags and platform tags (PEP 425, PEP 600), as
//! pip on the device would decide from a wheel's file name.

use super::arch::Target;
use super::glibc::GlibcVersion;
use super::profile::TargetProfile;
use super::tags::PlatformTag;
use crate::wheel::WheelFilename;

/// What the target accepts: its interpreter tags and wheel platform tags (PEP 425, PEP 600).
#[derive(Debug, Clone)]
pub struct TagPolicy {
    /// `(major, minor)` of the target's Python.
    pub python: (u32, u32),
    /// The target (its name is the wheel arch, e.g. `armv7l`).
    pub target: &'static Target,
    /// The target's glibc; manylinux wheels that need a newer one are refused.
    pub glibc: Option<GlibcVersion>,
}

impl TagPolicy {
    fn python_ok(&self, tag: &str, abis: &[String]) -> bool {
        let (major, minor) = self.python;
        let cp = format!("cp{major}{minor}");
        let abi_ok = |abi: &str| abi == "none" || abi == cp || abi == "abi3";
        if !abis.iter().any(|a| abi_ok(a)) {
            return false;
        }
        if tag == cp || tag == format!("py{major}") || tag == format!("py{major}{minor}") {
            return true;
        }
        let rest = tag.strip_prefix("cp").or_else(|| tag.strip_prefix("py"));
        let Some(rest) = rest.and_then(|r| r.strip_prefix(&major.to_string())) else {
            return false;
        };
        match rest.parse::<u32>() {
            // older minor: only abi3 or pure (`none`) wheels are forward compatible
            Ok(m) => m <= minor && abis.iter().any(|a| a == "abi3" || a == "none"),
            Err(_) => false,
        }
    }

    /// True when the target installs a wheel with platform tag `tag`.
    pub fn platform_ok(&self, tag: &PlatformTag) -> bool {
        let arch = self.target.name;
        match tag {
            PlatformTag::Any => true,
            PlatformTag::Linux { arch: a } => a == arch,
            PlatformTag::Manylinux { glibc, arch: a, .. } => {
                a == arch && self.glibc.is_none_or(|have| *glibc <= have)
            }
            PlatformTag::Musllinux { .. } | PlatformTag::Other(_) => false,
        }
    }

    /// True when a wheel with these tags installs on the target.
    pub fn accepts(&self, wheel: &WheelFilename) -> bool {
        wheel
            .python_tags
            .iter()
            .any(|p| self.python_ok(p, &wheel.abi_tags))
            && wheel.platform_tags.iter().any(|p| self.platform_ok(p))
    }
}

impl TargetProfile {
    /// What this target installs (its Python version and the sysroot's glibc).
    pub fn tag_policy(&self) -> TagPolicy {
        let mut version = self
            .python
            .version
            .split('.')
            .map(|p| p.parse().unwrap_or(0));
        TagPolicy {
            python: (version.next().unwrap_or(3), version.next().unwrap_or(0)),
            target: self.target(),
            glibc: self.glibc,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manylinux_tags_up_to_the_targets_glibc() {
        let target = Target::lookup("aarch64").unwrap();
        let policy = |glibc| TagPolicy {
            python: (3, 11),
            target,
            glibc,
        };
        let tag = |t: &str| t.parse::<PlatformTag>().unwrap();
        let known = policy(Some(GlibcVersion::new(2, 36)));
        assert!(known.platform_ok(&tag("manylinux2014_aarch64")));
        assert!(known.platform_ok(&tag("manylinux_2_36_aarch64")));
        assert!(!known.platform_ok(&tag("manylinux_2_39_aarch64")));
        assert!(!known.platform_ok(&tag("manylinux_2_17_x86_64")));
        assert!(!known.platform_ok(&tag("musllinux_1_2_aarch64")));
        assert!(!known.platform_ok(&tag("linux_armv8l")));
        assert!(policy(None).platform_ok(&tag("manylinux_2_39_aarch64")));
    }
}
