//! Debian's Rust in pyx's cache, like a sysroot: amd64 `rustc-web`/`cargo-web` and the target's
//! `libstd-rust-web-dev` of the same version, unpacked with pyx's private apt state into
//! `<cache>/rust/<rustc package>-<version>/`, one root per version shared by all its targets.
//!
//! The build machine's side is what installing `rustc-web` would add to this machine (simulated
//! against the host's dpkg status, new packages only); the target's side is its std alone
//! (`usr/lib/rustlib/<triple>`). `rustc` and `cargo` run through wrappers in `pyx-bin/` that
//! set the library path. Roots and targets appear atomically (staging directory, rename, marker
//! written last) under a lock.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::RustError;
use crate::cache::cache_dir;
use crate::files::write_if_changed_mode;
use crate::sysroot::apt::{PrivateApt, relativize_symlinks, unpack_all};
use crate::sysroot::release::BOOKWORM;

/// Written last into a root; lists the targets whose std is complete.
const MARKER: &str = ".pyx-rust.json";

/// The compiler, cargo and std package names, preferred first: `rustc-web` is Debian 12's
/// newer Rust for its browsers (1.85, 1.96 from bookworm-security); plain `rustc` is the
/// release's own (1.63 in Debian 12).
const FAMILIES: &[[&str; 3]] = &[
    ["rustc-web", "cargo-web", "libstd-rust-web-dev"],
    ["rustc", "cargo", "libstd-rust-dev"],
];

/// The build machine's Debian architecture and multiarch directory.
const HOST_ARCH: &str = "amd64";
const HOST_MULTIARCH: &str = "x86_64-linux-gnu";

/// What a root records about itself in its marker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RootInfo {
    /// `rustc-web`.
    pub rustc_package: String,
    /// The Debian version shared by the compiler and every std (`1.96.0+dfsg1-1~deb12u2`).
    pub version: String,
    /// The build machine's packages unpacked: `name version`.
    pub host_packages: Vec<String>,
    /// Targets whose std is unpacked: triple → `package:arch version`.
    pub targets: BTreeMap<String, String>,
}

impl RootInfo {
    /// `rustc-web 1.96.0+dfsg1-1~deb12u2`.
    pub fn label(&self) -> String {
        format!("{} {}", self.rustc_package, self.version)
    }

    fn read(root: &Path) -> Option<RootInfo> {
        serde_json::from_slice(&fs_err::read(root.join(MARKER)).ok()?).ok()
    }

    fn write(&self, root: &Path) -> Result<(), RustError> {
        let text = serde_json::to_string_pretty(self).expect("a marker serializes");
        write_if_changed_mode(&root.join(MARKER), &text, 0o644)
            .map(|_| ())
            .map_err(|e| RustError::Files(format!("{e:#}")))
    }
}

/// A provisioned root.
#[derive(Debug, Clone)]
pub struct DebianRust {
    pub root: PathBuf,
    pub info: RootInfo,
}

impl DebianRust {
    /// The wrappers: `rustc`, `cargo`, `rustdoc`.
    pub fn bin(&self) -> PathBuf {
        self.root.join("pyx-bin")
    }
}

/// Where the roots live.
pub fn roots_dir() -> PathBuf {
    cache_dir().join("rust")
}

/// The root that has `triple`'s std, provisioning it (or adding the target to the newest root
/// Debian has a matching std for) on first use.
pub fn ensure(triple: &'static str, arch: &str) -> Result<DebianRust, RustError> {
    if let Some(found) = installed(triple) {
        return Ok(found);
    }
    let fail = |message: String, hint: &str| RustError::Provision {
        triple,
        message,
        hint: hint.to_string(),
    };
    if std::env::consts::ARCH != "x86_64" {
        return Err(fail(
            format!(
                "Debian's amd64 compiler does not run on this {} machine",
                std::env::consts::ARCH
            ),
            "set RUSTC and CARGO to a toolchain with the target's std",
        ));
    }
    let dir = roots_dir();
    fs_err::create_dir_all(&dir).map_err(|e| RustError::Files(e.to_string()))?;
    let lock =
        std::fs::File::create(dir.join(".lock")).map_err(|e| RustError::Files(e.to_string()))?;
    lock.lock().map_err(|e| RustError::Files(e.to_string()))?;
    if let Some(found) = installed(triple) {
        return Ok(found);
    }
    let started = Instant::now();
    let apt_error = |e: anyhow::Error| {
        let hint = e
            .chain()
            .find_map(|c| c.downcast_ref::<crate::printer::Hinted>())
            .map_or(
                "pyx reads the Debian mirror from the host's apt sources \
                 (/etc/apt/sources.list*) or PYX_DEBIAN_MIRROR; Debian 12's `rustc-web` 1.96 is \
                 in bookworm-security",
                |h| h.hint.as_str(),
            );
        fail(format!("{e:#}"), hint)
    };
    // Debian 12's: its amd64 compiler runs on this machine, and its std links against a newer
    // release's glibc too.
    let host = PrivateApt::new(&BOOKWORM, HOST_ARCH).map_err(apt_error)?;
    let target = PrivateApt::new(&BOOKWORM, arch).map_err(apt_error)?;
    eprintln!(
        "pyx: provisioning Debian's Rust for `{triple}` into `{}` (amd64 compiler and cargo, \
         {arch} std of the same version; updating the package lists)",
        dir.display()
    );
    std::thread::scope(|s| {
        let other = (arch != HOST_ARCH).then(|| s.spawn(|| target.update()));
        host.update()?;
        other.map_or(Ok(()), |h| h.join().expect("apt update thread panicked"))
    })
    .map_err(apt_error)?;
    let (family, version) = choose_version(&host, &target, arch).map_err(|message| {
        fail(
            message,
            "Debian 12's bookworm-security has rustc-web 1.96 for armhf, arm64, i386 and ppc64el \
             (1.85 for s390x): check that the mirror serves bookworm-security",
        )
    })?;
    let [rustc_pkg, cargo_pkg, std_pkg] = family;
    let root = dir.join(format!("{rustc_pkg}-{version}"));
    let mut bytes = 0;
    let mut downloaded = Vec::new();
    let mut info = match RootInfo::read(&root) {
        Some(info) => {
            downloaded.push(format!("{} from the cache", info.label()));
            info
        }
        None => {
            let wanted = [
                format!("{rustc_pkg}={version}"),
                format!("{cargo_pkg}={version}"),
            ];
            let new = host.new_on_host(&wanted).map_err(apt_error)?;
            let pairs: Vec<(String, String)> = new.into_iter().map(|(p, v, _)| (p, v)).collect();
            let (debs, got) = host.download_exact(&pairs).map_err(apt_error)?;
            bytes += got;
            downloaded.push(format!(
                "{HOST_ARCH} {rustc_pkg}, {cargo_pkg} and {} more",
                pairs.len().saturating_sub(2)
            ));
            let info = unpack_host(&root, rustc_pkg, &version, &debs).map_err(|e| {
                fail(
                    format!("{e:#}"),
                    "check disk space in pyx's cache and run again",
                )
            })?;
            remove_all(&debs);
            info
        }
    };
    if !info.targets.contains_key(triple) {
        let (debs, got) = target
            .download_exact(&[(std_pkg.to_string(), version.clone())])
            .map_err(apt_error)?;
        bytes += got;
        downloaded.push(format!("{arch} {std_pkg}"));
        add_target(&root, triple, &debs).map_err(|e| {
            fail(
                format!("{e:#}"),
                "check disk space in pyx's cache and run again",
            )
        })?;
        remove_all(&debs);
        info.targets
            .insert(triple.to_string(), format!("{std_pkg}:{arch} {version}"));
        info.write(&root)?;
    }
    eprintln!(
        "pyx: Debian's Rust {} for `{triple}` provisioned in {:.1} s, {:.1} MB downloaded ({}), \
         into `{}`",
        info.label(),
        started.elapsed().as_secs_f64(),
        bytes as f64 / 1e6,
        downloaded.join(", "),
        root.display()
    );
    Ok(DebianRust { root, info })
}

/// The newest root in the cache that has `triple`'s std (never a staging directory, `.pyx-tmp-*`).
fn installed(triple: &str) -> Option<DebianRust> {
    let entries = fs_err::read_dir(roots_dir()).ok()?;
    entries
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .filter_map(|root| RootInfo::read(&root).map(|info| DebianRust { root, info }))
        .filter(|r| r.info.targets.contains_key(triple))
        .max_by(|a, b| version_key(&a.info.version).cmp(&version_key(&b.info.version)))
}

/// The newest Debian version that the compiler, cargo (amd64) and the target's std all have.
fn choose_version(
    host: &PrivateApt,
    target: &PrivateApt,
    arch: &str,
) -> Result<(&'static [&'static str; 3], String), String> {
    let mut seen = Vec::new();
    for family in FAMILIES {
        let [rustc, cargo, std] = family;
        let versions = |apt: &PrivateApt, pkg: &str| apt.versions(pkg).unwrap_or_default();
        let compilers = versions(host, rustc);
        let cargos = versions(host, cargo);
        let stds = versions(target, std);
        let best = common_newest(&[&compilers, &cargos, &stds]);
        if let Some(version) = best {
            return Ok((family, version));
        }
        seen.push(format!(
            "amd64 `{rustc}` {}, {arch} `{std}` {}",
            list(&compilers),
            list(&stds)
        ));
    }
    Err(format!(
        "Debian has no compiler and {arch} std of the same version ({})",
        seen.join("; ")
    ))
}

fn list(versions: &[String]) -> String {
    if versions.is_empty() {
        "none".to_string()
    } else {
        versions.join(", ")
    }
}

/// The newest version every list has (compared by their upstream part, then as text).
fn common_newest(lists: &[&Vec<String>]) -> Option<String> {
    let (first, rest) = lists.split_first()?;
    first
        .iter()
        .filter(|v| rest.iter().all(|l| l.contains(v)))
        .max_by(|a, b| version_key(a).cmp(&version_key(b)))
        .cloned()
}

/// `1.96.0+dfsg1-1~deb12u2` → ([1, 96, 0], the whole text): enough to order Rust releases.
fn version_key(version: &str) -> (Vec<u64>, String) {
    let upstream = version
        .split_once(':')
        .map_or(version, |(_, rest)| rest)
        .split(['+', '-', '~'])
        .next()
        .unwrap_or_default();
    let numbers = upstream
        .split('.')
        .map(|n| n.parse().unwrap_or(0))
        .collect();
    (numbers, version.to_string())
}

/// Unpack the build machine's packages into a staging directory, write the wrappers, check that
/// `rustc` runs, and rename the root into place.
fn unpack_host(
    root: &Path,
    rustc_pkg: &str,
    version: &str,
    debs: &[PathBuf],
) -> anyhow::Result<RootInfo> {
    let parent = root.parent().expect("a root has a parent");
    let tmp = crate::tempfiles::dir_in(parent, "rust")?;
    let staging = tmp.path();
    unpack_all(debs, staging)?;
    relativize_symlinks(staging)?;
    for tool in ["rustc", "cargo", "rustdoc"] {
        write_if_changed_mode(
            &staging.join("pyx-bin").join(tool),
            &wrapper(root, tool, version),
            0o755,
        )?;
    }
    // The staged compiler runs with the staged libraries: a root that does not run never lands.
    let libs = library_path(staging);
    let out = std::process::Command::new(staging.join("usr/bin/rustc"))
        .arg("-vV")
        .env("LD_LIBRARY_PATH", &libs)
        .output()?;
    if !out.status.success() {
        anyhow::bail!(
            "the unpacked `rustc -vV` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let mut targets = BTreeMap::new();
    if super::toolchain::has_core(
        &staging
            .join("usr/lib/rustlib")
            .join(super::HOST_TRIPLE)
            .join("lib"),
    ) {
        targets.insert(
            super::HOST_TRIPLE.to_string(),
            format!("{}:{HOST_ARCH} {version}", std_package(rustc_pkg)),
        );
    }
    let info = RootInfo {
        rustc_package: rustc_pkg.to_string(),
        version: version.to_string(),
        host_packages: debs.iter().map(|d| deb_label(d)).collect(),
        targets,
    };
    info.write(staging).map_err(|e| anyhow::anyhow!("{e}"))?;
    if root.exists() {
        // An incomplete root (no marker) from an interrupted run.
        fs_err::remove_dir_all(root)?;
    }
    fs_err::rename(tmp.keep(), root)?;
    Ok(info)
}

/// Unpack a target's std package beside the root and move its `usr/lib/rustlib/<triple>` in.
fn add_target(root: &Path, triple: &str, debs: &[PathBuf]) -> anyhow::Result<()> {
    let tmp = crate::tempfiles::dir_in(root, "rust-std")?;
    let staging = tmp.path();
    unpack_all(debs, staging)?;
    let unpacked = staging.join("usr/lib/rustlib").join(triple);
    if !super::toolchain::has_core(&unpacked.join("lib")) {
        let has: Vec<String> = fs_err::read_dir(staging.join("usr/lib/rustlib"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        anyhow::bail!(
            "the std package holds no `{triple}` std (it has: {})",
            has.join(", ")
        );
    }
    let dest = root.join("usr/lib/rustlib").join(triple);
    if dest.exists() {
        // Left by an interrupted run: the marker never listed it.
        fs_err::remove_dir_all(&dest)?;
    }
    fs_err::create_dir_all(dest.parent().expect("rustlib has a parent"))?;
    fs_err::rename(&unpacked, &dest)?;
    Ok(())
}

/// The std package of a compiler package's family.
fn std_package(rustc_pkg: &str) -> &'static str {
    FAMILIES
        .iter()
        .find(|f| f[0] == rustc_pkg)
        .map_or("libstd-rust-dev", |f| f[2])
}

/// The library directories of the unpacked build-machine packages (`rustc` and `cargo` have no
/// RPATH; `libpcre3` of cargo 1.85 lands in `lib/`).
fn library_path(root: &Path) -> String {
    format!(
        "{}:{}",
        root.join("usr/lib").join(HOST_MULTIARCH).display(),
        root.join("lib").join(HOST_MULTIARCH).display()
    )
}

/// A wrapper that runs the root's `tool` with its libraries; `exec` keeps the real binary's path
/// (rustc finds its sysroot, and so every target's std, from it).
fn wrapper(root: &Path, tool: &str, version: &str) -> String {
    let quote = |s: String| shlex::try_quote(&s).map(|q| q.into_owned()).unwrap_or(s);
    format!(
        "#!/bin/sh\n# pyx: Debian's Rust {version}, run from pyx's cache\n\
         LD_LIBRARY_PATH={}${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}} exec {} \"$@\"\n",
        quote(library_path(root)),
        quote(root.join("usr/bin").join(tool).display().to_string()),
    )
}

/// `libllvm22_1%3a22.1.8-1~deb12u1_amd64.deb` → `libllvm22 1:22.1.8-1~deb12u1`.
fn deb_label(deb: &Path) -> String {
    let name = deb.file_name().unwrap_or_default().to_string_lossy();
    let mut parts = name.trim_end_matches(".deb").split('_');
    let pkg = parts.next().unwrap_or_default();
    let version = parts.next().unwrap_or_default().replace("%3a", ":");
    format!("{pkg} {version}")
}

fn remove_all(debs: &[PathBuf]) {
    for deb in debs {
        let _ = fs_err::remove_file(deb);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_newest_version_all_sides_have_wins() {
        let compilers = v(&["1.85.0+dfsg3-1~deb12u3", "1.96.0+dfsg1-1~deb12u2"]);
        let armhf = v(&["1.96.0+dfsg1-1~deb12u2", "1.85.0+dfsg3-1~deb12u3"]);
        let s390x = v(&["1.85.0+dfsg3-1~deb12u3"]);
        let mips = v(&["1.70.0+dfsg1-1"]);
        assert_eq!(
            common_newest(&[&compilers, &compilers, &armhf]).as_deref(),
            Some("1.96.0+dfsg1-1~deb12u2")
        );
        assert_eq!(
            common_newest(&[&compilers, &compilers, &s390x]).as_deref(),
            Some("1.85.0+dfsg3-1~deb12u3")
        );
        assert_eq!(common_newest(&[&compilers, &compilers, &mips]), None);
        assert!(version_key("1.100.0") > version_key("1.96.0+dfsg1-1~deb12u2"));
    }

    #[test]
    fn wrappers_set_the_library_path_and_exec_the_real_binary() {
        insta::assert_snapshot!(
            wrapper(Path::new("/c/rust/rustc-web-1.96"), "cargo", "1.96"),
            @r#"
        #!/bin/sh
        # pyx: Debian's Rust 1.96, run from pyx's cache
        LD_LIBRARY_PATH=/c/rust/rustc-web-1.96/usr/lib/x86_64-linux-gnu:/c/rust/rustc-web-1.96/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} exec /c/rust/rustc-web-1.96/usr/bin/cargo "$@"
        "#
        );
        assert_eq!(
            deb_label(Path::new("/a/libllvm22_1%3a22.1.8-1~deb12u1_amd64.deb")),
            "libllvm22 1:22.1.8-1~deb12u1"
        );
    }
}
