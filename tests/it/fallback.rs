//! Fallback pure wheels (docs/wheel.md, "What is built and what is reused"): a release that ships
//! binary wheels for other platforms and none for the target has compiled parts; its pure wheel
//! is a fallback, so `pyx wheel` builds the sdist for the target.

use std::path::Path;

use crate::common::{TestContext, fixture};
use crate::require_tools;
use crate::wheel::{CROSS, report, run_on_target, sdist, wheel, wheelhouse, wheels};

const PURE: &str = "pyx_fixture_setuptools_c-1.0-py3-none-any.whl";
const X86: &str = "pyx_fixture_setuptools_c-1.0-cp311-cp311-manylinux_2_17_x86_64.whl";
const BUILT: &str = "pyx_fixture_setuptools_c-1.0-cp311-cp311-linux_armv7l.whl";

/// A find-links directory laid out like coverage's index page: the sdist, the pure wheel and a
/// binary wheel for x86_64, of one release.
fn coverage_like_page(ctx: &TestContext) {
    sdist(
        ctx,
        "setuptools_c",
        "pyx_fixture_setuptools_c-1.0.tar.gz",
        "dist",
    );
    for wheel in [PURE, X86] {
        let from = fixture("wheels/fallback").join(wheel);
        std::fs::copy(from, ctx.path().join("dist").join(wheel)).unwrap();
    }
}

#[test]
fn a_pure_wheel_beside_other_platforms_wheels_is_built_from_the_sdist() {
    require_tools!(CROSS[0], "tar");
    let ctx = TestContext::new();
    coverage_like_page(&ctx);
    // Not --no-index: the build requirements (setuptools) come from the same indexes as in pip.
    let find_links = ["pyx-fixture-setuptools-c", "-f", "dist"];
    let (ok, _, stderr) = wheel(&ctx, &[&find_links[..], &["--report", "r.json"]].concat());
    assert!(ok, "{stderr}");
    assert_eq!(wheelhouse(&ctx), [BUILT], "{stderr}");
    assert!(
        stderr.contains(
            "built from the sdist because the only wheel for the target was a pure-Python fallback"
        ),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("`{PURE}`")), "{stderr}");
    let package = &report(&ctx, Path::new("r.json"))["packages"][0];
    assert!(package["source"] == "built" || package["source"] == "cached");
    assert_eq!(
        package["pure_fallback"],
        serde_json::json!({"wheel": PURE, "action": "built"})
    );

    std::fs::remove_dir_all(ctx.path().join("wh")).unwrap();
    let allowed = [
        &find_links[..],
        &["--allow-pure-fallback", "--report", "r.json"],
    ]
    .concat();
    let (ok, _, stderr) = wheel(&ctx, &allowed);
    assert!(ok, "{stderr}");
    assert_eq!(wheelhouse(&ctx), [PURE], "--allow-pure-fallback takes it");
    let package = &report(&ctx, Path::new("r.json"))["packages"][0];
    assert_eq!(package["source"], "reused");
    assert_eq!(package["pure_fallback"]["action"], "allowed");

    std::fs::remove_dir_all(ctx.path().join("wh")).unwrap();
    std::fs::remove_file(ctx.path().join("dist/pyx_fixture_setuptools_c-1.0.tar.gz")).unwrap();
    let (ok, _, stderr) = wheel(&ctx, &[&find_links[..], &["--report", "r.json"]].concat());
    assert!(ok, "without an sdist the pure wheel is taken: {stderr}");
    assert_eq!(wheelhouse(&ctx), [PURE]);
    assert!(
        stderr.contains("warning: pure-Python fallback wheels taken"),
        "{stderr}"
    );
    let package = &report(&ctx, Path::new("r.json"))["packages"][0];
    assert_eq!(package["pure_fallback"]["action"], "no-sdist");
}

/// PyPI offers coverage as `py3-none-any` beside binary wheels for x86_64, aarch64, i686,
/// Windows and macOS, none for armv7l: pyx builds the sdist, and the C tracer runs on the target.
#[test]
fn coverage_for_armv7l_is_built_and_its_c_tracer_traces_under_qemu() {
    require_tools!(CROSS[0], CROSS[1]);
    let ctx = TestContext::new();
    let (ok, _, stderr) = wheel(&ctx, &["coverage==7.9.2", "--report", "r.json"]);
    assert!(ok, "{stderr}");
    assert_eq!(
        wheelhouse(&ctx),
        ["coverage-7.9.2-cp311-cp311-linux_armv7l.whl"],
        "{stderr}"
    );
    assert!(
        stderr.contains("`coverage-7.9.2-py3-none-any.whl`"),
        "the summary names the pure wheel passed over: {stderr}"
    );
    let package = &report(&ctx, Path::new("r.json"))["packages"][0];
    assert_eq!(
        package["pure_fallback"],
        serde_json::json!({"wheel": "coverage-7.9.2-py3-none-any.whl", "action": "built"})
    );
    let out = run_on_target(
        &ctx,
        &wheels(&ctx),
        "import os, platform, sys, tempfile\n\
         import coverage, coverage.tracer\n\
         assert coverage.tracer.__file__.endswith('tracer.cpython-311-arm-linux-gnueabihf.so')\n\
         os.chdir(tempfile.mkdtemp())\n\
         open('traced.py', 'w').write('def f(n):\\n    t = 0\\n    for i in range(n):\\n        t += i\\n    return t\\n')\n\
         sys.path.insert(0, '.')\n\
         cov = coverage.Coverage(data_file=None)\n\
         cov.start()\n\
         import traced\n\
         assert traced.f(10) == 45\n\
         cov.stop()\n\
         assert cov._collector.core.tracer_class is coverage.tracer.CTracer, cov._collector.core.tracer_class\n\
         lines = sorted(cov.get_data().lines(os.path.abspath('traced.py')))\n\
         assert lines == [1, 2, 3, 4, 5], lines\n\
         print(platform.machine(), cov._collector.tracer_name(), lines)",
    );
    assert!(out.contains("armv7l CTracer [1, 2, 3, 4, 5]"), "{out}");
}
