//! What one `pyx wheel` run shares between its packages ([`Pipeline`]), and the last step of
//! every package: landing its wheel in the wheelhouse and reading what the resolver needs.

use std::path::Path;
use std::str::FromStr;

use pep508_rs::pep440_rs::Version;
use pep508_rs::{ExtraName, PackageName};

use super::failure::Failure;
use super::{Landed, PackageReport, Reporter, Settings};
use crate::digest::sha256_hex;
use crate::pep517::BuildHost;
use crate::platform::TargetProfile;
use crate::platform::tag_policy::TagPolicy;
use crate::requirements::Origin;
use crate::resolve::index::Index;
use crate::wheel::read_wheel_metadata;
use crate::wheelhouse::Wheelhouse;

/// Everything one `pyx wheel` run shares between its packages.
pub struct Pipeline<'a> {
    pub settings: Settings,
    pub profile: &'a TargetProfile,
    pub host: &'a dyn BuildHost,
    pub wheelhouse: &'a Wheelhouse,
    pub reporter: &'a dyn Reporter,
    pub(super) index: Index,
    /// What the target installs.
    pub(super) policy: TagPolicy,
    pub(super) target_python: Version,
    /// Hash of the target profile and the build Python: part of every built-wheel cache key.
    pub(super) profile_key: String,
}

impl<'a> Pipeline<'a> {
    pub fn new(
        settings: Settings,
        profile: &'a TargetProfile,
        host: &'a dyn BuildHost,
        wheelhouse: &'a Wheelhouse,
        reporter: &'a dyn Reporter,
        index: Index,
    ) -> anyhow::Result<Pipeline<'a>> {
        let target_python = Version::from_str(&profile.python.version)?;
        let policy = profile.tag_policy();
        let profile_key = sha256_hex(&serde_json::to_vec(&(profile, host.build_python_id()))?);
        Ok(Pipeline {
            settings,
            profile,
            host,
            wheelhouse,
            reporter,
            index,
            policy,
            target_python,
            profile_key,
        })
    }

    /// The wheel arch of the target (`armv7l`), as messages and log directories name it.
    pub(super) fn arch(&self) -> &'static str {
        self.policy.target.name
    }

    /// Put a finished wheel into the wheelhouse; what the resolver needs comes from its
    /// `METADATA`.
    pub(super) fn land(
        &self,
        wheel: &Path,
        report: &mut PackageReport,
        direct_origin: Option<Origin>,
        extras: Vec<ExtraName>,
    ) -> Result<Landed, Failure> {
        let metadata = read_wheel_metadata(wheel).map_err(Failure::Metadata)?;
        let landed = self.wheelhouse.land(wheel).map_err(Failure::Wheelhouse)?;
        report.name = metadata.name.clone();
        report.version = Some(metadata.version.clone());
        report.wheel = Some(landed);
        let name = PackageName::from_str(&metadata.name).map_err(|e| Failure::InvalidMetadata {
            field: "package name",
            message: e.to_string(),
        })?;
        let version =
            Version::from_str(&metadata.version).map_err(|e| Failure::InvalidMetadata {
                field: "version",
                message: e.to_string(),
            })?;
        Ok(Landed {
            name,
            version,
            requires_dist: metadata.requires_dist,
            extras,
            direct_origin,
        })
    }
}
