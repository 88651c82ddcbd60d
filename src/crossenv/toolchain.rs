//! Placeholder until the cross-env branch lands: finds `<triplet>-*` tools on PATH, no probe.

use std::path::Path;

use anyhow::Result;

use crate::target::Target;
use crate::target::profile::Toolchain;

pub fn resolve(
    target: &'static Target,
    cc: Option<&str>,
    cxx: Option<&str>,
    _sysroot: &Path,
) -> Result<Toolchain> {
    let tool = |t: &str| vec![format!("{}-{t}", target.triplet)];
    let split = |c: Option<&str>, d: &str| {
        c.map(|c| c.split_whitespace().map(String::from).collect())
            .unwrap_or_else(|| tool(d))
    };
    Ok(Toolchain {
        cc: split(cc, "gcc"),
        cxx: split(cxx, "g++"),
        ar: tool("ar"),
        ranlib: tool("ranlib"),
        strip: tool("strip"),
        ld: tool("ld"),
        readelf: tool("readelf"),
        long_double: target.long_double.to_string(),
        qemu: target.qemu.and_then(|q| which::which(q).ok()),
    })
}
