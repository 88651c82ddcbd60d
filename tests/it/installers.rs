//! What fills the build envs: uv when it is installed, the build Python's pip otherwise or when
//! asked (`PYX_INSTALLER=pip`), and pip again when uv fails.

use crate::common::{TestContext, text};
use crate::require_tools;
use crate::wheel::{CROSS, package, wheelhouse};

/// `pyx -v wheel` of the setuptools fixture with a find-links dir of its own (so the build env is
/// new: its key holds the index flags) and `PYX_INSTALLER=installer`; returns stderr.
fn build_with(ctx: &TestContext, installer: &str) -> String {
    let links = ctx
        .path()
        .join(format!("links{}", installer.replace('/', "-")));
    std::fs::create_dir_all(&links).unwrap();
    let out = ctx
        .pyx()
        .args([
            "-v",
            "wheel",
            "--target",
            "armv7l",
            "--no-cache",
            "-w",
            "wh",
            "-f",
        ])
        .arg(&links)
        .arg(package("setuptools_c"))
        .env("PYX_INSTALLER", installer)
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(wheelhouse(ctx).len(), 1, "{stderr}");
    stderr
}

#[test]
fn build_envs_are_filled_by_uv_or_pip() {
    require_tools!(CROSS[0], "uv");
    let ctx = TestContext::new();
    let stderr = build_with(&ctx, "uv");
    assert!(stderr.contains("with uv"), "{stderr}");
    let stderr = build_with(&ctx, "pip");
    assert!(stderr.contains("with pip"), "{stderr}");
    let stderr = build_with(&ctx, "/nonexistent/uv");
    assert!(
        stderr.contains("uv could not install") && stderr.contains("installing with pip"),
        "{stderr}"
    );
}
