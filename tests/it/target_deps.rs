//! Target build dependencies: packages that compile against a platform-specific build requirement
//! (numpy's C API) get the target's headers, built or fetched at the same version, and the compiled
//! code computes right under QEMU. Without the mechanism these fixtures fail their static asserts.

use std::path::Path;

use crate::common::{TestContext, fixture, text};
use crate::require_tools;
use crate::wheel::{run_on, wheels};

/// `pyx wheel --target TARGET -w wh ARGS`; returns (success, stderr).
fn wheel(ctx: &TestContext, target: &str, args: &[&str]) -> (bool, String) {
    let out = ctx
        .pyx()
        .args([
            "wheel", "--target", target, "-w", "wh", "--report", "r.json",
        ])
        .args(args)
        .output()
        .expect("run pyx wheel");
    let (_, stderr) = text(&out);
    (out.status.success(), stderr)
}

fn report(ctx: &TestContext) -> serde_json::Value {
    let text = std::fs::read_to_string(ctx.path().join("r.json")).expect("report written");
    serde_json::from_str(&text).expect("report is JSON")
}

/// The dependencies the report says `package` was compiled against: `name version from`.
fn build_dependencies(ctx: &TestContext, package: &str) -> Vec<String> {
    let report = report(ctx);
    let row = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == package)
        .unwrap_or_else(|| panic!("no `{package}` in {report}"))
        .clone();
    row["build_dependencies"]
        .as_array()
        .map(|deps| {
            deps.iter()
                .map(|d| format!("{} {} {}", d["name"], d["version"], d["from"]).replace('"', ""))
                .collect()
        })
        .unwrap_or_default()
}

const NUMPY_CHECK: &str = "
import numpy as np, pyx_numpy_capi as m
a = np.arange(50001, dtype=np.intp)
assert m.sum_intp(a) == int(a.sum()) == 50001 * 50000 // 2, m.sum_intp(a)
assert m.mean_intp(a) == 25000, m.mean_intp(a)
sizes = (np.dtype('long').itemsize, np.dtype(np.intp).itemsize, np.dtype(np.longdouble).itemsize)
assert m.sizes() == sizes, (m.sizes(), sizes)
print('numpy C API sizes', sizes)
";

/// A numpy-C-API package for `target`: the target's numpy is used to compile it, and its `npy_intp`
/// reduction is right on the emulated CPU.
fn numpy_capi(target: &str, gcc: &str, qemu: &str, numpy_from: &[&str]) {
    require_tools!(gcc, qemu);
    let ctx = TestContext::new();
    let (ok, stderr) = wheel(
        &ctx,
        target,
        &[fixture("packages/numpy_capi").to_str().unwrap()],
    );
    assert!(ok, "{stderr}");
    let deps = build_dependencies(&ctx, "pyx-fixture-numpy-capi");
    assert_eq!(deps.len(), 1, "{deps:?}");
    assert!(
        numpy_from.iter().any(|from| deps[0].ends_with(from)) && deps[0].starts_with("numpy 2."),
        "{deps:?}"
    );
    let out = run_on(&ctx, target, &wheels(&ctx), NUMPY_CHECK);
    assert!(out.contains("numpy C API sizes"), "{out}");
}

#[test]
fn numpy_c_api_for_aarch64_uses_the_index_wheel() {
    numpy_capi(
        "aarch64",
        "aarch64-linux-gnu-gcc",
        "qemu-aarch64",
        &["index"],
    );
}

/// PyPI has no numpy wheel for armv7l: pyx builds numpy 2.x for the target first (minutes).
#[test]
fn numpy_c_api_for_armv7l_builds_the_targets_numpy() {
    numpy_capi(
        "armv7l",
        "arm-linux-gnueabihf-gcc",
        "qemu-arm",
        &["built", "cached"],
    );
}

#[test]
fn numpy_c_api_for_i686_builds_the_targets_numpy() {
    numpy_capi(
        "i686",
        "i686-linux-gnu-gcc",
        "qemu-i386",
        &["built", "cached"],
    );
}

/// A build requirement whose header is not under `include/` (as cffi's are) is not provided up
/// front; the shims refuse the compile that reads the build machine's copy, and pyx builds again
/// with the target's.
#[test]
fn a_refused_build_machine_header_is_replaced_by_the_targets() {
    require_tools!("arm-linux-gnueabihf-gcc", "qemu-arm", "tar");
    let ctx = TestContext::new();
    let sdist = crate::wheel::sdist(
        &ctx,
        "capi_provider",
        "pyx_capi_provider-1.0.tar.gz",
        "dist",
    );
    let dist = sdist.parent().unwrap();
    let (ok, stderr) = wheel(
        &ctx,
        "armv7l",
        &[
            fixture("packages/capi_consumer").to_str().unwrap(),
            "-f",
            dist.to_str().unwrap(),
        ],
    );
    assert!(ok, "{stderr}");
    let deps = build_dependencies(&ctx, "pyx-capi-consumer");
    assert!(
        deps == ["pyx-capi-provider 1.0 built"] || deps == ["pyx-capi-provider 1.0 cached"],
        "{deps:?}"
    );
    let log = report(&ctx)["packages"][0]["log"]
        .as_str()
        .unwrap()
        .to_string();
    let log = std::fs::read_to_string(Path::new(&log)).unwrap();
    assert!(
        log.contains("pyx refused")
            && log.contains("the build read the build machine's pyx-capi-provider; building again"),
        "{log}"
    );
    let out = run_on(
        &ctx,
        "armv7l",
        &wheels(&ctx),
        "import pyx_capi_consumer as c; assert c.sizeof_long() == 4; print('long', c.sizeof_long())",
    );
    assert!(out.contains("long 4"), "{out}");
}

/// meson's `dependency('numpy')` (pkg-config, then `numpy-config`) finds the target's numpy too.
#[test]
fn meson_dependency_numpy_gets_the_targets_numpy() {
    require_tools!("arm-linux-gnueabihf-gcc", "qemu-arm");
    let ctx = TestContext::new();
    let (ok, stderr) = wheel(
        &ctx,
        "armv7l",
        &[fixture("packages/numpy_capi_meson").to_str().unwrap()],
    );
    assert!(ok, "{stderr}");
    let out = run_on(
        &ctx,
        "armv7l",
        &wheels(&ctx),
        "import numpy as np, pyx_numpy_meson as m\n\
         assert m.itemsize(np.zeros(3, dtype=np.intp)) == 4\n\
         assert m.itemsize(np.zeros(3, dtype=np.longdouble)) == 8\n\
         print('itemsizes ok')",
    );
    assert!(out.contains("itemsizes ok"), "{out}");
}

/// In an env used by hand there is no overlay, so a compile against the build env's numpy headers
/// would build for x86_64's type sizes and pass `pyx verify`: the shims refuse it.
#[test]
fn an_env_by_hand_refuses_the_build_machines_numpy_headers() {
    require_tools!("arm-linux-gnueabihf-gcc");
    let ctx = TestContext::new();
    let out = ctx
        .pyx()
        .args(["env", "create", "xenv", "--target", "armv7l"])
        .args([
            "--build-requires",
            "numpy",
            "--build-requires",
            "setuptools",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    std::fs::write(ctx.path().join("x.c"), "#include <numpy/arrayobject.h>\n").unwrap();
    let out = std::process::Command::new(ctx.path().join("xenv/bin/python"))
        .current_dir(ctx.path())
        .args([
            "-c",
            "import numpy, subprocess, sys\n\
             sys.exit(subprocess.call(['cc', '-I' + numpy.get_include(), '-c', 'x.c']))",
        ])
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("holds the build machine's numpy 2."),
        "{stderr}"
    );
}
