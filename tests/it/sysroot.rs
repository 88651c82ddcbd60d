//! `pyx sysroot` and the target profile, against Debian's real packages.

use std::path::{Path, PathBuf};

use pyx::platform::TargetProfile;
use pyx::platform::profile::TargetRequest;
use pyx::python::BuildPython;

use crate::common::{TestContext, text};

/// Provision (or reuse) the cached Debian sysroot of `target` through the CLI.
pub fn sysroot_for(target: &str) -> PathBuf {
    let ctx = TestContext::new();
    let out = ctx
        .pyx()
        .args(["sysroot", "path", target])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(
        out.status.success(),
        "pyx sysroot path {target} failed:\n{stderr}"
    );
    PathBuf::from(stdout.trim())
}

fn every_symlink_is_relative(root: &Path) {
    for entry in walkdir::WalkDir::new(root) {
        let entry = entry.unwrap();
        if entry.path_is_symlink() {
            let target = std::fs::read_link(entry.path()).unwrap();
            assert!(
                target.is_relative(),
                "{} -> {}",
                entry.path().display(),
                target.display()
            );
        }
    }
}

#[test]
fn armhf_sysroot_has_python_headers_and_relative_links() {
    let root = sysroot_for("armv7l");
    assert!(root.join("usr/include/python3.11/Python.h").is_file());
    assert!(
        root.join("usr/lib/python3.11/_sysconfigdata__linux_arm-linux-gnueabihf.py")
            .is_file()
    );
    assert!(
        root.join("usr/include/arm-linux-gnueabihf/gnu/stubs-hard.h")
            .is_file()
    );
    assert!(root.join(".pyx-sysroot.json").is_file());
    // libz.so is an absolute symlink in the .deb; it must resolve inside the root.
    let libz = root.join("usr/lib/arm-linux-gnueabihf/libz.so");
    assert!(libz.is_file(), "{} does not resolve", libz.display());
    every_symlink_is_relative(&root);

    let ctx = TestContext::new();
    let out = ctx.pyx().args(["sysroot", "list"]).output().unwrap();
    let (stdout, _) = text(&out);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("armv7l") && l.contains("armhf")),
        "{stdout}"
    );
}

#[test]
fn profile_of_the_debian_armhf_root() {
    let build = BuildPython::find(None).unwrap();
    let args = TargetRequest {
        target: pyx::platform::Target::lookup("armv7l"),
        ..TargetRequest::default()
    };
    let profile = TargetProfile::resolve(&args, &build).unwrap();
    let py = &profile.python;
    assert_eq!(profile.target().name, "armv7l");
    assert!(py.version.starts_with("3.11."), "{}", py.version);
    assert_eq!(py.ext_suffix, ".cpython-311-arm-linux-gnueabihf.so");
    assert_eq!(py.soabi, "cpython-311-arm-linux-gnueabihf");
    assert_eq!(py.multiarch, "arm-linux-gnueabihf");
    assert_eq!(
        py.sysconfigdata_name,
        "_sysconfigdata__linux_arm-linux-gnueabihf"
    );
    assert_eq!(
        py.include_dir,
        profile.sysroot.join("usr/include/python3.11")
    );
    assert!(py.executable.starts_with(&profile.sysroot));
    // Debian's armhf Python says it was built on armv8l: the profile keeps that as data only.
    assert_eq!(
        py.config_vars["HOST_GNU_TYPE"],
        "armv8l-unknown-linux-gnueabihf"
    );
}

#[test]
fn a_target_python_inside_a_root_gives_the_same_profile() {
    let root = sysroot_for("armv7l");
    let build = BuildPython::find(None).unwrap();
    let args = TargetRequest {
        target_python: Some(root.join("usr/bin/python3.11")),
        ..TargetRequest::default()
    };
    let profile = TargetProfile::resolve(&args, &build).unwrap();
    assert_eq!(profile.target, "armv7l", "inferred from MULTIARCH");
    assert_eq!(profile.sysroot, root);
}

#[test]
fn missing_root_is_a_clear_error() {
    let build = BuildPython::find(None).unwrap();
    let args = TargetRequest {
        target: pyx::platform::Target::lookup("armv7l"),
        sysroot: Some(PathBuf::from("/no/such/root")),
        ..TargetRequest::default()
    };
    let err = TargetProfile::resolve(&args, &build).unwrap_err();
    assert_eq!(
        pyx::printer::render_error(&err),
        "error: the target root `/no/such/root` does not exist\n  \
         hint: give the directory that holds the target's usr/ (a Buildroot/Yocto SDK sysroot or an unpacked image)\n"
    );
}

#[test]
fn missing_headers_and_libraries_map_to_real_debian_packages() {
    use pyx::sysroot::debian::MissingFile::{Header, Library, PkgConfig};
    let root = sysroot_for("armv7l");
    for (missing, package) in [
        (Header("ffi.h".into()), "libffi-dev"),
        (Header("yaml.h".into()), "libyaml-dev"),
        (Library("z".into()), "zlib1g-dev"),
        (Header("libxml/parser.h".into()), "libxml2-dev"),
        (PkgConfig("libxml-2.0".into()), "libxml2-dev"),
    ] {
        let found = pyx::pep517::diagnose::dev_package(&root, &missing);
        assert_eq!((found.0.as_str(), found.1), (package, true), "{missing:?}");
    }
}
