//! System libraries for the target (docs/sysroot.md): `pyx wheel --with` adds Debian packages to
//! pyx's sysroot before the build, and one closing hint adds every `-dev` package a run lacked.

use std::path::Path;

use crate::common::{TestContext, text};
use crate::require_tools;
use crate::wheel::{CROSS, package, report, run_on_target, wheel, wheelhouse, wheels};

#[test]
fn with_libyaml_builds_pyyaml_with_its_c_extension() {
    require_tools!(CROSS[0], CROSS[1]);
    let ctx = TestContext::new();
    let (ok, _, stderr) = wheel(
        &ctx,
        &[
            "--with",
            "libyaml-dev",
            "pyyaml==6.0.2",
            "--no-binary",
            "pyyaml",
            "--report",
            "r.json",
        ],
    );
    assert!(ok, "{stderr}");
    assert_eq!(
        wheelhouse(&ctx),
        ["pyyaml-6.0.2-cp311-cp311-linux_armv7l.whl"],
        "{stderr}"
    );
    // The extension links the sysroot's libyaml, which the device must have: the summary says
    // so, with the target's Debian package that ships it (read from the sysroot's .deb files).
    assert!(
        stderr.contains("note: wheels that load libraries from the device's system")
            && stderr.contains("PyYAML 6.0.2: libyaml-0.so.2 (libyaml-0-2)")
            && stderr.contains("(Debian: `apt install libyaml-0-2`)"),
        "{stderr}"
    );
    let report = report(&ctx, Path::new("r.json"));
    assert_eq!(
        report["packages"][0]["system_libraries"],
        serde_json::json!([{"soname": "libyaml-0.so.2", "package": "libyaml-0-2"}])
    );
    let out = run_on_target(
        &ctx,
        &wheels(&ctx),
        "import platform, yaml, yaml._yaml\n\
         assert yaml.__with_libyaml__\n\
         doc = yaml.load('a: [1, 2.5, x]\\nb: {c: null}', Loader=yaml.CSafeLoader)\n\
         assert doc == {'a': [1, 2.5, 'x'], 'b': {'c': None}}, doc\n\
         assert yaml.dump(doc, Dumper=yaml.CSafeDumper).startswith('a:')\n\
         print(platform.machine(), yaml._yaml.__file__.rsplit('/', 1)[1])",
    );
    assert!(
        out.contains("armv7l _yaml.cpython-311-arm-linux-gnueabihf.so"),
        "{out}"
    );
}

/// The fixtures include `<lzo/lzo1x.h>` and `<uuid/uuid.h>`, which pyx's test sysroots never get
/// (zlib and libjpeg would not do: other tests add them to the shared sysroot).
#[test]
fn two_packages_missing_two_headers_get_one_command_for_both() {
    require_tools!(CROSS[0]);
    let ctx = TestContext::new();
    let (ok, _, stderr) = wheel(
        &ctx,
        &[
            &package("needs_lzo"),
            &package("needs_uuid"),
            "--keep-going",
            "--report",
            "r.json",
        ],
    );
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains("note: 2 packages failed for `-dev` packages the sysroot lacks"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "hint: add them all at once: run the same `pyx wheel` with `--with \
             liblzo2-dev,uuid-dev`, or `pyx sysroot add armv7l --with liblzo2-dev,uuid-dev` first"
        ),
        "the real Debian names: {stderr}"
    );
    let report = report(&ctx, Path::new("r.json"));
    let mut found: Vec<&str> = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["dev_package"].as_str().unwrap())
        .collect();
    found.sort_unstable();
    assert_eq!(found, ["liblzo2-dev", "uuid-dev"]);
}

#[test]
fn with_lists_are_checked_and_refused_with_a_root_of_your_own() {
    let ctx = TestContext::new();
    let out = ctx
        .pyx()
        .args([
            "sysroot",
            "add",
            "armv7l",
            "--with",
            "libffi-dev,-o=Dir::Etc=/tmp",
        ])
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error: `-o=Dir::Etc=/tmp` is not a Debian package name"),
        "{stderr}"
    );

    let root = ctx.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    let out = ctx
        .pyx()
        .args([
            "wheel",
            "six",
            "--target",
            "armv7l",
            "--with",
            "libffi-dev zlib1g-dev",
        ])
        .arg("--sysroot")
        .arg(&root)
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        ctx.filter(&stderr).contains(
            "error: `--with libffi-dev,zlib1g-dev` adds packages to pyx's Debian sysroot, but the \
             target root is `[TEMP]/root`"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: install the packages into that root"),
        "{stderr}"
    );
}
