//! `pyx wheel --target armv7l` end to end: fixture packages built with the real cross compiler
//! through each PEP 517 backend, audited, tagged, and imported with the target's Python under QEMU
//! (`pyx test`); the deliberately broken fixtures fail with their documented messages.

use std::path::{Path, PathBuf};

use crate::common::{TestContext, fixture, text};
use crate::require_tools;

pub(crate) const CROSS: [&str; 2] = ["arm-linux-gnueabihf-gcc", "qemu-arm"];

/// Run `pyx wheel --target armv7l -w wh ARGS`; returns (success, stdout, stderr).
pub(crate) fn wheel(ctx: &TestContext, args: &[&str]) -> (bool, String, String) {
    let out = ctx
        .pyx()
        .args(["wheel", "--target", "armv7l", "-w", "wh"])
        .args(args)
        .output()
        .expect("run pyx wheel");
    let (stdout, stderr) = text(&out);
    (out.status.success(), stdout, stderr)
}

pub(crate) fn package(name: &str) -> String {
    fixture(&format!("packages/{name}")).display().to_string()
}

/// Wheel file names in the wheelhouse, sorted.
pub(crate) fn wheelhouse(ctx: &TestContext) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(ctx.path().join("wh"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".whl"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

pub(crate) fn wheels(ctx: &TestContext) -> Vec<PathBuf> {
    wheelhouse(ctx)
        .iter()
        .map(|n| ctx.path().join("wh").join(n))
        .collect()
}

/// `pyx test --target armv7l WHEELS -- python -c CODE` under QEMU; panics with its output.
pub(crate) fn run_on_target(ctx: &TestContext, wheels: &[PathBuf], code: &str) -> String {
    run_on(ctx, "armv7l", wheels, code)
}

/// `pyx test --target TARGET WHEELS -- python -c CODE` under QEMU; panics with its output.
pub(crate) fn run_on(ctx: &TestContext, target: &str, wheels: &[PathBuf], code: &str) -> String {
    let out = ctx
        .pyx()
        .args(["test", "--target", target])
        .args(wheels)
        .args(["--", "python", "-c", code])
        .output()
        .expect("run pyx test");
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "pyx test failed\n{stdout}\n{stderr}");
    stdout
}

pub(crate) fn report(ctx: &TestContext, path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(ctx.path().join(path)).expect("report written");
    serde_json::from_str(&text).expect("report is JSON")
}

#[test]
fn cython_and_a_pure_package_on_a_c_extension_import_under_qemu() {
    require_tools!(CROSS[0], CROSS[1]);
    let ctx = TestContext::new();
    let (ok, stdout, stderr) = wheel(
        &ctx,
        &[
            &package("pure_dep"),
            &package("cython_ext"),
            &package("setuptools_c"),
            "--report",
            "report.json",
        ],
    );
    assert!(ok, "{stderr}");
    assert_eq!(
        wheelhouse(&ctx),
        [
            "pyx_fixture_cython_ext-1.0-cp311-cp311-linux_armv7l.whl",
            "pyx_fixture_pure_dep-1.0-py2.py3-none-any.whl",
            "pyx_fixture_setuptools_c-1.0-cp311-cp311-linux_armv7l.whl",
        ]
    );
    assert_eq!(
        stdout.lines().count(),
        3,
        "stdout lists the wheels: {stdout}"
    );
    let report = report(&ctx, Path::new("report.json"));
    assert_eq!(report["target"], "armv7l");
    let cython = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "pyx-fixture-cython-ext")
        .expect("cython fixture in the report");
    assert_eq!(cython["backend"], "setuptools.build_meta");
    assert_eq!(cython["audit"], "passed");
    assert_eq!(cython["tags"], serde_json::json!(["linux_armv7l"]));
    let out = run_on_target(
        &ctx,
        &wheels(&ctx),
        "import platform, pyx_cython_ext, pyx_pure_dep\n\
         assert pyx_cython_ext.sizeof_long() == 4\n\
         assert pyx_cython_ext.fib(90) == 2880067194370816120\n\
         print(platform.machine(), pyx_pure_dep.answer())",
    );
    assert!(out.contains("armv7l"), "{out}");
}

#[test]
fn scikit_build_core_uses_the_cmake_toolchain() {
    require_tools!(CROSS[0], CROSS[1], "cmake");
    let ctx = TestContext::new();
    let (ok, _, stderr) = wheel(&ctx, &[&package("skbuild_ext")]);
    assert!(ok, "{stderr}");
    assert_eq!(
        wheelhouse(&ctx),
        ["pyx_fixture_skbuild_ext-1.0-cp311-cp311-linux_armv7l.whl"]
    );
    run_on_target(
        &ctx,
        &wheels(&ctx),
        "import pyx_skbuild_ext as m\nassert m.pointer_bits() == 32\nassert m.add(40, 2) == 42",
    );
}

#[test]
fn meson_python_gets_the_cross_file() {
    require_tools!(CROSS[0], CROSS[1], "ninja");
    let ctx = TestContext::new();
    let (ok, _, stderr) = wheel(&ctx, &[&package("meson_c")]);
    assert!(ok, "{stderr}");
    let names = wheelhouse(&ctx);
    assert_eq!(
        names,
        ["pyx_fixture_meson_c-1.0-cp311-cp311-linux_armv7l.whl"]
    );
    run_on_target(&ctx, &wheels(&ctx), "import pyx_meson_c");
}

#[test]
fn markers_select_target_dependencies_only() {
    require_tools!(CROSS[0]);
    let ctx = TestContext::new();
    let (ok, _, stderr) = wheel(&ctx, &[&package("markers")]);
    assert!(
        ok,
        "the x86_64-only dependency must not be looked up: {stderr}"
    );
    let names = wheelhouse(&ctx);
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names[0].starts_with("pyx_fixture_markers-1.0-"),
        "{names:?}"
    );
    assert!(
        names[1].starts_with("six-"),
        "the armv7l-only dependency is fetched: {names:?}"
    );
}

#[test]
fn a_silent_pure_fallback_is_a_failure() {
    require_tools!(CROSS[0]);
    let ctx = TestContext::new();
    let (ok, _, stderr) = wheel(&ctx, &[&package("fallback")]);
    assert!(!ok);
    assert!(
        stderr.contains("produced a pure-Python wheel (a silent fallback)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("fatal error: pyx_fixture_missing.h"),
        "{stderr}"
    );
    assert!(stderr.contains("--allow-pure-fallback"), "{stderr}");
    assert!(wheelhouse(&ctx).is_empty(), "a failed build lands nothing");

    let good = ctx
        .path()
        .join("wh/pyx_fixture_fallback-1.0-py3-none-any.whl");
    std::fs::write(&good, b"a good wheel from an earlier run").unwrap();
    let (ok, _, _) = wheel(&ctx, &[&package("fallback")]);
    assert!(!ok);
    assert_eq!(
        std::fs::read(&good).unwrap(),
        b"a good wheel from an earlier run",
        "a failed build never overwrites a wheel"
    );
    std::fs::remove_file(&good).unwrap();

    let (ok, _, stderr) = wheel(&ctx, &[&package("fallback"), "--allow-pure-fallback"]);
    assert!(ok, "{stderr}");
    assert_eq!(
        wheelhouse(&ctx),
        ["pyx_fixture_fallback-1.0-py3-none-any.whl"]
    );
}

#[test]
fn a_rerun_reuses_the_built_wheel() {
    require_tools!(CROSS[0]);
    let ctx = TestContext::new();
    let (ok, _, stderr) = wheel(&ctx, &[&package("setuptools_c")]);
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = wheel(&ctx, &[&package("setuptools_c"), "--report", "r.json"]);
    assert!(ok, "{stderr}");
    assert_eq!(
        report(&ctx, Path::new("r.json"))["packages"][0]["source"],
        "cached"
    );
    let (ok, _, stderr) = wheel(
        &ctx,
        &[&package("setuptools_c"), "--no-cache", "--report", "r.json"],
    );
    assert!(ok, "{stderr}");
    assert_eq!(
        report(&ctx, Path::new("r.json"))["packages"][0]["source"],
        "built"
    );
}

#[test]
fn markupsafe_and_msgpack_from_pypi() {
    require_tools!(CROSS[0], CROSS[1]);
    let ctx = TestContext::new();
    let (ok, _, stderr) = wheel(&ctx, &["markupsafe==3.0.2", "msgpack==1.1.0", "six"]);
    assert!(ok, "{stderr}");
    let names = wheelhouse(&ctx);
    assert!(
        names.contains(&"markupsafe-3.0.2-cp311-cp311-linux_armv7l.whl".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"msgpack-1.1.0-cp311-cp311-linux_armv7l.whl".to_string()),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("six-") && n.ends_with("-none-any.whl")),
        "{names:?}"
    );
    run_on_target(
        &ctx,
        &wheels(&ctx),
        "import markupsafe, markupsafe._speedups, msgpack, msgpack._cmsgpack, six\n\
         assert str(markupsafe.escape('<pyx>')) == '&lt;pyx&gt;'\n\
         assert msgpack.unpackb(msgpack.packb({'a': [1, 2]})) == {'a': [1, 2]}",
    );
}

#[test]
fn nothing_to_build_is_a_usage_error() {
    let ctx = TestContext::new();
    let out = ctx
        .pyx()
        .args(["wheel", "--target", "armv7l"])
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("nothing to build"), "{stderr}");
}

/// `tar czf` an sdist of a fixture into `dir`.
pub(crate) fn sdist(ctx: &TestContext, fixture_name: &str, file: &str, dir: &str) -> PathBuf {
    let out = ctx.path().join(dir);
    std::fs::create_dir_all(&out).unwrap();
    let status = std::process::Command::new("tar")
        .arg("-czf")
        .arg(out.join(file))
        .arg("-C")
        .arg(fixture("packages"))
        .arg(fixture_name)
        .status()
        .expect("run tar");
    assert!(status.success());
    out.join(file)
}

#[test]
fn local_sdists_and_find_links() {
    require_tools!(CROSS[0], "tar");
    let ctx = TestContext::new();
    let file = "pyx_fixture_setuptools_c-1.0.tar.gz";
    let path = sdist(&ctx, "setuptools_c", file, "dist");
    let (ok, _, stderr) = wheel(&ctx, &[path.to_str().unwrap(), "--report", "r.json"]);
    assert!(ok, "{stderr}");
    assert_eq!(
        wheelhouse(&ctx),
        ["pyx_fixture_setuptools_c-1.0-cp311-cp311-linux_armv7l.whl"]
    );
    let source = &report(&ctx, Path::new("r.json"))["packages"][0]["source"];
    assert!(
        source == "built" || source == "cached",
        "an sdist is built: {source}"
    );

    std::fs::remove_dir_all(ctx.path().join("wh")).unwrap();
    let (ok, _, stderr) = wheel(&ctx, &["pyx-fixture-pure-dep", "--no-index", "-f", "dist"]);
    assert!(!ok, "pure-dep is no archive in dist/: {stderr}");
    assert!(
        stderr.contains("no distribution of `pyx-fixture-pure-dep`"),
        "{stderr}"
    );
    let (ok, _, stderr) = wheel(
        &ctx,
        &["pyx-fixture-setuptools-c==1.0", "--no-index", "-f", "dist"],
    );
    assert!(ok, "{stderr}");
    assert_eq!(
        wheelhouse(&ctx),
        ["pyx_fixture_setuptools_c-1.0-cp311-cp311-linux_armv7l.whl"]
    );
}

/// A directory with neither `pyproject.toml` nor `setup.py` became `unknown-0.0.0-py3-none-any.whl`
/// and exit 0; pip refuses it, and so does pyx now.
#[test]
fn a_directory_that_is_not_a_python_project_is_an_error() {
    require_tools!(CROSS[0], CROSS[1]);
    let ctx = TestContext::new();
    let dir = ctx.path().join("notes");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("README.md"), "# not a project\n").unwrap();
    let (ok, stdout, stderr) = wheel(&ctx, &["./notes"]);
    assert!(!ok, "{stdout}{stderr}");
    assert!(
        stderr.contains("does not appear to be a Python project"),
        "{stderr}"
    );
    assert!(wheelhouse(&ctx).is_empty(), "{:?}", wheelhouse(&ctx));
}

/// A file server on 127.0.0.1 (Python's `http.server`) for `dir`, and its base URL; killed when
/// the guard drops.
pub(crate) struct FileServer(std::process::Child, pub String);

impl FileServer {
    pub(crate) fn start(dir: &Path) -> FileServer {
        use std::io::BufRead;
        let mut child = std::process::Command::new("python3")
            .args([
                "-u",
                "-m",
                "http.server",
                "0",
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.split_whitespace().nth(5).expect("a port").to_string();
        FileServer(child, format!("http://127.0.0.1:{port}"))
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A truncated download in the cache failed every later run, even with `--no-cache`: its sha256
/// was never checked again. It is now, and a damaged file is fetched again.
#[test]
fn a_damaged_download_in_the_cache_is_fetched_again() {
    require_tools!(CROSS[0], CROSS[1]);
    let ctx = TestContext::new();
    let out = ctx
        .pyx()
        .args(["sysroot", "path", "armv7l"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    let sysroot = text(&out).0.trim().to_string();
    let served = ctx.path().join("served");
    std::fs::create_dir(&served).unwrap();
    let name = "demo_pure-1.0-py3-none-any.whl";
    std::fs::copy(fixture(&format!("wheels/good/{name}")), served.join(name)).unwrap();
    let server = FileServer::start(&served);
    let cache = ctx.path().join("cache");
    let run = || {
        let out = ctx
            .pyx()
            .env("PYX_CACHE_DIR", &cache)
            .args([
                "wheel",
                "--target",
                "armv7l",
                "--sysroot",
                &sysroot,
                "-w",
                "wh",
            ])
            .arg(format!("{}/{name}", server.1))
            .output()
            .unwrap();
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stdout}{stderr}");
        stderr
    };
    run();
    let cached: Vec<PathBuf> = walkdir::WalkDir::new(cache.join("downloads"))
        .into_iter()
        .flatten()
        .map(|e| e.into_path())
        .filter(|p| p.file_name().is_some_and(|n| n == name))
        .collect();
    assert_eq!(cached.len(), 1, "{cached:?}");
    let good = std::fs::read(&cached[0]).unwrap();
    std::fs::write(&cached[0], &good[..good.len() / 2]).unwrap();
    let stderr = run();
    assert!(stderr.contains("is damaged"), "{stderr}");
    assert_eq!(std::fs::read(&cached[0]).unwrap(), good, "fetched again");
    assert_eq!(
        std::fs::read(ctx.path().join("wh").join(name)).unwrap(),
        good
    );
}

/// A truncated wheel in the built-wheel cache failed every later run with `METADATA is
/// unreadable` (and a hint without `--no-cache`). The entry is checked when it is used, dropped
/// with a warning, and the package built again.
#[test]
fn a_truncated_wheel_in_the_built_wheel_cache_is_built_again() {
    require_tools!(CROSS[0], CROSS[1]);
    let ctx = TestContext::new();
    let project = ctx.path().join("tiny");
    std::fs::create_dir_all(project.join("tiny")).unwrap();
    std::fs::write(
        project.join("pyproject.toml"),
        "[build-system]\nrequires = [\"flit_core>=3.4\"]\nbuild-backend = \"flit_core.buildapi\"\n\n\
         [project]\nname = \"tiny\"\nversion = \"1.0\"\ndescription = \"a pure fixture\"\n",
    )
    .unwrap();
    std::fs::write(project.join("tiny/__init__.py"), "x = 1\n").unwrap();
    let cache = ctx.path().join("cache");
    let run = || {
        let out = ctx
            .pyx()
            .env("PYX_CACHE_DIR", &cache)
            .args(["wheel", "--target", "armv7l", "-w", "wh", "./tiny"])
            .args(["--report", "r.json"])
            .output()
            .unwrap();
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stdout}{stderr}");
        (
            stderr,
            report(&ctx, Path::new("r.json"))["packages"][0]["source"].clone(),
        )
    };
    let sysroot = ctx
        .pyx()
        .args(["sysroot", "path", "armv7l"])
        .output()
        .unwrap();
    let sysroot = PathBuf::from(text(&sysroot).0.trim());
    std::fs::create_dir_all(cache.join("sysroots")).unwrap();
    std::os::unix::fs::symlink(
        &sysroot,
        cache.join("sysroots").join(sysroot.file_name().unwrap()),
    )
    .unwrap();
    assert_eq!(run().1, "built");
    assert_eq!(run().1, "cached");
    let cached: Vec<PathBuf> = walkdir::WalkDir::new(cache.join("built"))
        .into_iter()
        .flatten()
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
        .collect();
    assert_eq!(cached.len(), 1, "{cached:?}");
    let len = std::fs::metadata(&cached[0]).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&cached[0])
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let (stderr, source) = run();
    assert!(stderr.contains("is damaged"), "{stderr}");
    assert_eq!(source, "built");
    assert_eq!(run().1, "cached");
}

/// A package whose build failed was listed with source `built` in the summary and the report.
#[test]
fn a_failed_package_has_no_source() {
    require_tools!(CROSS[0], CROSS[1]);
    let ctx = TestContext::new();
    let (ok, _, stderr) = wheel(&ctx, &[&package("bad_m64"), "--report", "r.json"]);
    assert!(!ok, "{stderr}");
    let row = stderr
        .lines()
        .find(|l| l.starts_with("pyx-fixture-bad-m64") || l.starts_with("bad"))
        .unwrap_or_else(|| panic!("no summary row: {stderr}"));
    assert!(row.contains(" -  ") && row.ends_with("FAILED"), "{row}");
    let report = report(&ctx, Path::new("r.json"));
    assert_eq!(report["packages"][0]["source"], serde_json::Value::Null);
    assert!(report["packages"][0]["error"].is_string());
}

/// An unwritable `--report` path was found only after every wheel had been built and landed.
#[test]
fn an_unwritable_report_path_is_refused_before_anything_is_built() {
    let ctx = TestContext::new();
    // A file where a directory is needed (root writes anywhere else).
    std::fs::write(ctx.path().join("a-file"), "").unwrap();
    let (ok, _, stderr) = wheel(&ctx, &["six==1.16.0", "--report", "a-file/report.json"]);
    assert!(!ok);
    assert!(
        stderr.contains("cannot write the report `a-file/report.json`"),
        "{stderr}"
    );
    assert!(!stderr.contains("resolving"), "nothing ran: {stderr}");
    assert!(wheelhouse(&ctx).is_empty());

    // A report inside the wheelhouse of a first run: its directory is made, as the wheelhouse is
    // (the README's demo does this; the check refused it).
    require_tools!(CROSS[0]);
    let (ok, _, stderr) = wheel(&ctx, &["six==1.16.0", "--report", "wh/new/report.json"]);
    assert!(ok, "{stderr}");
    assert!(ctx.path().join("wh/new/report.json").is_file());
}

/// A source that ships a prebuilt x86_64 `.so` failed the audit with the hint "rebuild with
/// `pyx wheel --target armv7l`", which is what had just run; the hint names the shipped file.
#[test]
fn a_prebuilt_binary_in_the_source_is_named_in_the_hint() {
    require_tools!(CROSS[0], CROSS[1]);
    let ctx = TestContext::new();
    let src = ctx.path().join("prebuilt");
    std::fs::create_dir_all(src.join("src")).unwrap();
    std::fs::create_dir_all(src.join("pyx_prebuilt")).unwrap();
    std::fs::copy(
        fixture("packages/setuptools_c/src/pyx_setuptools_c.c"),
        src.join("src/pyx_setuptools_c.c"),
    )
    .unwrap();
    std::fs::write(src.join("pyx_prebuilt/__init__.py"), "").unwrap();
    std::fs::copy(fixture("elf/x86_64.so"), src.join("pyx_prebuilt/_fast.so")).unwrap();
    std::fs::write(
        src.join("pyproject.toml"),
        "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n\n\
         [project]\nname = \"pyx-prebuilt\"\nversion = \"1.0\"\n",
    )
    .unwrap();
    std::fs::write(
        src.join("setup.py"),
        "from setuptools import Extension, setup\n\
         setup(packages=['pyx_prebuilt'], package_data={'pyx_prebuilt': ['*.so']},\n\
         \x20     ext_modules=[Extension('pyx_setuptools_c', ['src/pyx_setuptools_c.c'])])\n",
    )
    .unwrap();
    let (ok, _, stderr) = wheel(&ctx, &["./prebuilt"]);
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("`pyx_prebuilt/_fast.so`"), "{stderr}");
    assert!(
        stderr.contains("hint: the source ships `pyx_prebuilt/_fast.so` prebuilt"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("rebuild with `pyx wheel --target"),
        "{stderr}"
    );
}

/// `-w` under a path that cannot hold a directory said `cannot put `ro1/sub` into the wheelhouse
/// `ro1/sub`` and not what failed.
#[test]
fn a_wheelhouse_that_cannot_be_created_says_why() {
    require_tools!(CROSS[0], CROSS[1]);
    let ctx = TestContext::new();
    std::fs::write(ctx.path().join("ro1"), b"a file").unwrap();
    let out = ctx
        .pyx()
        .args([
            "wheel",
            "--target",
            "armv7l",
            "-w",
            "ro1/sub",
            "six==1.16.0",
        ])
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot create the wheelhouse directory `ro1/sub`: Not a directory"),
        "{stderr}"
    );
}
