//! Rust extensions end to end: a PyO3 module built with maturin and one built with setuptools-rust,
//! cross-compiled with Debian's Rust for the target (provisioned into pyx's cache on first use),
//! linked by the env's `cc` shim, and called with the target's Python under QEMU; a target with
//! no Rust std fails before anything is downloaded or built.

use std::path::Path;

use crate::common::{TestContext, text};
use crate::require_tools;
use crate::wheel::{package, report, run_on, wheelhouse, wheels};

/// `pyx wheel --target TARGET -w wh ARGS`; returns (success, stderr).
fn wheel_for(ctx: &TestContext, target: &str, args: &[&str]) -> (bool, String) {
    let out = ctx
        .pyx()
        .args(["wheel", "--target", target, "-w", "wh"])
        .args(args)
        .output()
        .expect("run pyx wheel");
    (out.status.success(), text(&out).1)
}

/// Both fixtures for `target`: built, tagged, reported with their toolchain, and called.
fn both_fixtures(target: &str, rust_arch: &str, bits: u32) {
    let ctx = TestContext::new();
    let (ok, stderr) = wheel_for(
        &ctx,
        target,
        &[
            &package("rust_maturin"),
            &package("rust_setuptools"),
            "--report",
            "report.json",
        ],
    );
    assert!(ok, "{stderr}");
    assert_eq!(
        wheelhouse(&ctx),
        [
            format!("pyx_fixture_rust_maturin-1.0-cp311-cp311-linux_{target}.whl"),
            format!("pyx_fixture_rust_setuptools-1.0-cp311-cp311-linux_{target}.whl"),
        ]
    );
    let report = report(&ctx, Path::new("report.json"));
    let packages = report["packages"].as_array().expect("packages");
    for (name, build) in [
        ("pyx-fixture-rust-maturin", "maturin"),
        ("pyx-fixture-rust-setuptools", "setuptools-rust"),
    ] {
        let p = packages
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} in the report"));
        let rust = &p["rust"];
        assert_eq!(rust["build"], build, "{p}");
        assert_eq!(rust["target"], rust_arch_triple(target), "{p}");
        if p["source"] == "built" {
            assert_eq!(rust["toolchain"], "debian", "{p}");
            let from = rust["from"].as_str().unwrap();
            assert!(from.starts_with("Debian rustc-web "), "{p}");
        } else {
            // A cached wheel reports the toolchain that built it.
            assert!(rust["from"].is_string(), "{p}");
        }
        assert_eq!(p["audit"], "passed");
    }
    assert!(
        stderr.contains("note: Rust extensions built"),
        "the summary names the toolchain: {stderr}"
    );
    let out = run_on(
        &ctx,
        target,
        &wheels(&ctx),
        &format!(
            "import platform, pyx_rust_maturin as m, pyx_rust_setuptools as s\n\
             assert m.arch() == s.arch() == {rust_arch:?}, (m.arch(), s.arch())\n\
             assert m.pointer_bits() == s.pointer_bits() == {bits}\n\
             assert m.checked_sum([1, 2, 39]) == 42\n\
             try:\n    m.checked_sum([2**62, 2**62])\nexcept OverflowError:\n    pass\n\
             else:\n    raise AssertionError('no overflow')\n\
             assert s.reverse_words('on the target') == 'target the on'\n\
             print(platform.machine(), m.greet('pyx'))"
        ),
    );
    assert!(
        out.contains(&format!("{target} hello pyx from {rust_arch}")),
        "{out}"
    );
}

fn rust_arch_triple(target: &str) -> &'static str {
    match target {
        "armv7l" => "armv7-unknown-linux-gnueabihf",
        "aarch64" => "aarch64-unknown-linux-gnu",
        other => panic!("no triple for {other}"),
    }
}

#[test]
fn maturin_and_setuptools_rust_extensions_run_on_armv7l() {
    require_tools!("arm-linux-gnueabihf-gcc", "qemu-arm", "apt-get");
    both_fixtures("armv7l", "arm", 32);
}

#[test]
fn maturin_and_setuptools_rust_extensions_run_on_aarch64() {
    require_tools!("aarch64-linux-gnu-gcc", "qemu-aarch64", "apt-get");
    both_fixtures("aarch64", "aarch64", 64);
}

#[test]
fn a_rust_build_for_mips64_fails_before_any_download_naming_what_would_work() {
    require_tools!("mips64el-linux-gnuabi64-gcc");
    let ctx = TestContext::new();
    let (ok, stderr) = wheel_for(
        &ctx,
        "mips64",
        &[&package("rust_maturin"), "--report", "report.json"],
    );
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains(
            "no Rust toolchain with a standard library for `mips64` \
             (`mips64el-unknown-linux-gnuabi64`)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "hint: use a Rust toolchain that has the `mips64el-unknown-linux-gnuabi64` std: \
             `rustup toolchain install 1.71 --target mips64el-unknown-linux-gnuabi64`"
        ),
        "{stderr}"
    );
    assert!(
        !stderr.contains("provisioning Debian's Rust"),
        "nothing is downloaded: {stderr}"
    );
    let report = report(&ctx, Path::new("report.json"));
    let log = report["packages"][0]["log"].as_str().expect("a build log");
    let log = std::fs::read_to_string(log).expect("the log exists");
    assert!(
        !log.contains("running `get_requires_for_build_wheel`"),
        "no hook ran, so no build env was made: {log}"
    );
}

#[test]
fn a_given_rustc_without_the_targets_std_is_refused() {
    require_tools!("arm-linux-gnueabihf-gcc", "rustc", "cargo");
    let rustc = which::which("rustc").unwrap();
    let libdir = std::process::Command::new(&rustc)
        .args(["--print", "target-libdir", "--target"])
        .arg("armv7-unknown-linux-gnueabihf")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if Path::new(&libdir).is_dir() {
        eprintln!("SKIPPED: this machine's `rustc` has the armv7 std");
        return;
    }
    let ctx = TestContext::new();
    let out = ctx
        .pyx()
        .args(["wheel", "--target", "armv7l", "-w", "wh", "--no-cache"])
        .arg(package("rust_setuptools"))
        .env("RUSTC", &rustc)
        .output()
        .expect("run pyx wheel");
    let stderr = text(&out).1;
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the Rust toolchain `RUSTC={}` has no standard library for \
             `armv7-unknown-linux-gnueabihf`",
            rustc.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: add the target (`rustup target add armv7-unknown-linux-gnueabihf`), or set PYX_RUST_TOOLCHAIN=debian"),
        "{stderr}"
    );
}
