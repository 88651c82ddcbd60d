//! Host paths that packages hard-code, and `*-config` programs: the shims map them into the
//! sysroot, the fixtures build with the real cross compiler, and their compiled code runs under
//! QEMU. A mapped directory the sysroot lacks fails with the `-dev` package to add.

use std::path::Path;

use crate::common::{TestContext, text};
use crate::require_tools;
use crate::wheel::{CROSS, package, run_on_target, wheel, wheelhouse, wheels};

/// `pyx wheel --no-cache` (the shims must run, not a cached wheel land) with a report; returns
/// (success, stderr, the build log of the first package).
fn build(ctx: &TestContext, args: &[&str]) -> (bool, String, String) {
    let mut all = vec!["--no-cache", "--report", "r.json"];
    all.extend(args);
    let (ok, _, stderr) = wheel(ctx, &all);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ctx.path().join("r.json")).unwrap()).unwrap();
    let log = report["packages"][0]["log"].as_str().unwrap_or_default();
    let log = std::fs::read_to_string(log).unwrap_or_default();
    (ok, stderr, log)
}

/// The cached armv7l sysroot with `libxml2-dev` (provisioning is locked; a no-op when present).
pub(crate) fn sysroot_with_libxml2(ctx: &TestContext) -> String {
    let out = ctx
        .pyx()
        .args(["sysroot", "add", "armv7l", "--with", "libxml2-dev"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let sysroot = stdout.lines().last().unwrap().trim().to_string();
    assert!(
        Path::new(&sysroot)
            .join("usr/include/libxml2/libxml/parser.h")
            .is_file(),
        "{sysroot}"
    );
    sysroot
}

#[test]
fn cxx_extension_passing_host_system_dirs_builds_and_runs() {
    require_tools!(CROSS[0], CROSS[1], "arm-linux-gnueabihf-g++");
    let ctx = TestContext::new();
    let (ok, stderr, log) = build(&ctx, &[&package("hostinc_cxx")]);
    assert!(ok, "{stderr}");
    for dropped in [
        "-I/usr/include",
        "-I/usr/include/x86_64-linux-gnu",
        "-isystem/usr/include",
        "-L/usr/lib/x86_64-linux-gnu",
        "-Wl,-rpath-link,/usr/lib/x86_64-linux-gnu",
    ] {
        assert!(
            log.contains(&format!(
                "pyx: dropped `{dropped}`: the compiler searches that system directory in the \
                 sysroot already"
            )),
            "{dropped}: {log}"
        );
    }
    assert_eq!(
        wheelhouse(&ctx),
        ["pyx_fixture_hostinc_cxx-1.0-cp311-cp311-linux_armv7l.whl"]
    );
    run_on_target(
        &ctx,
        &wheels(&ctx),
        "import pyx_hostinc_cxx as m\nassert m.hypot_abs(3.0, 4.0, -2) == 7, m.hypot_abs(3.0, 4.0, -2)",
    );
}

#[test]
fn hard_coded_dirs_of_a_dev_package_map_into_the_sysroot() {
    require_tools!(CROSS[0], CROSS[1]);
    let ctx = TestContext::new();
    let sysroot = sysroot_with_libxml2(&ctx);
    let (ok, stderr, log) = build(&ctx, &[&package("hostinc_libxml2")]);
    assert!(ok, "{stderr}");
    assert!(
        log.contains(&format!(
            "pyx: mapped `-I/usr/include/libxml2` to `-I{sysroot}/usr/include/libxml2` in the sysroot"
        )),
        "{log}"
    );
    assert!(
        log.contains("pyx: dropped `-L/usr/lib/x86_64-linux-gnu/`"),
        "{log}"
    );
    run_on_target(
        &ctx,
        &wheels(&ctx),
        "import pyx_hostinc_libxml2 as m\n\
         assert m.xml_strlen('pyx-on-arm') == 10\n\
         assert m.header_version().startswith('2.'), m.header_version()",
    );
}

#[test]
fn a_mapped_dir_the_sysroot_lacks_fails_with_the_dev_package() {
    require_tools!(CROSS[0]);
    let ctx = TestContext::new();
    let (ok, stderr, log) = build(
        &ctx,
        &[
            &package("hostinc_missing"),
            &package("setuptools_c"),
            "--keep-going",
            "-j",
            "1",
        ],
    );
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains("error: `hostinc_missing` failed"),
        "{stderr}"
    );
    assert!(stderr.contains("log: "), "{stderr}");
    assert!(
        stderr.contains("fatal error: uuid.h: No such file or directory"),
        "{stderr}"
    );
    // `uuid-dev` when pyx could check the package lists, `libuuid-dev` as its guess offline.
    assert!(
        stderr.contains("hint: the sysroot lacks `uuid.h`; add it to the sysroot: `pyx sysroot add armv7l --with ")
            && stderr.contains("uuid-dev`"),
        "{stderr}"
    );
    assert!(
        log.contains("pyx: mapped `-I/usr/include/uuid` to `-I"),
        "the mapping is in the build log: {log}"
    );
    assert!(
        stderr.contains("1 ok, 1 failed"),
        "--keep-going builds the rest: {stderr}"
    );
    assert_eq!(
        wheelhouse(&ctx),
        ["pyx_fixture_setuptools_c-1.0-cp311-cp311-linux_armv7l.whl"]
    );
}

#[test]
fn xml2_config_comes_from_the_sysroot_and_the_extension_parses_under_qemu() {
    require_tools!(CROSS[0], CROSS[1]);
    let ctx = TestContext::new();
    let sysroot = sysroot_with_libxml2(&ctx);
    let (ok, stderr, log) = build(&ctx, &[&package("xml2_config")]);
    assert!(ok, "{stderr}");
    assert!(
        log.contains(&format!(
            "xml2-config --cflags: -I{sysroot}/usr/include/libxml2"
        )),
        "setup.py printed the sysroot's flags: {log}"
    );
    assert!(log.contains("xml2-config --libs: -lxml2"), "{log}");
    let out = run_on_target(
        &ctx,
        &wheels(&ctx),
        "import platform, pyx_xml2_config as m\n\
         assert m.count_children('<r><a/><b>text</b><c><d/></c><!-- no --></r>') == 3\n\
         assert m.count_children('<empty/>') == 0\n\
         try:\n    m.count_children('<broken>')\nexcept ValueError:\n    pass\n\
         else:\n    raise AssertionError('parsed a broken document')\n\
         print(platform.machine(), m.runtime_version())",
    );
    let mut words = out.split_whitespace();
    assert_eq!(words.next(), Some("armv7l"), "{out}");
    assert!(
        words
            .next()
            .is_some_and(|v| v.starts_with('2') && v.chars().all(|c| c.is_ascii_digit())),
        "libxml2's runtime version: {out}"
    );
}
