//! `pyx test`: wheels unpacked into a scratch prefix, run with the target's Python under QEMU.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::common::{TestContext, text};
use crate::require_tools;

/// A pure-Python wheel with one package whose `VALUE` is 42.
fn pure_wheel(dir: &Path) -> PathBuf {
    let path = dir.join("pyx_pure_fixture-1.0-py3-none-any.whl");
    let file = std::fs::File::create(&path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default();
    for (name, body) in [
        ("pyx_pure_fixture/__init__.py", "VALUE = 42\n"),
        (
            "pyx_pure_fixture-1.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: pyx-pure-fixture\nVersion: 1.0\n",
        ),
        (
            "pyx_pure_fixture-1.0.dist-info/WHEEL",
            "Wheel-Version: 1.0\nGenerator: pyx-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        ),
        ("pyx_pure_fixture-1.0.dist-info/RECORD", ""),
    ] {
        zip.start_file(name, opts).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    path
}

#[test]
fn default_command_imports_every_top_level_module() {
    require_tools!("qemu-arm");
    let ctx = TestContext::new();
    let wheel = pure_wheel(ctx.path());
    let out = ctx
        .pyx()
        .args(["test", "--target", "armv7l"])
        .arg(&wheel)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout, "imported pyx_pure_fixture on armv7l\n");
}

#[test]
fn exit_code_is_passed_through_and_scratch_removed() {
    require_tools!("qemu-aarch64");
    let ctx = TestContext::new();
    let wheel = pure_wheel(ctx.path());
    let script = "import os, sys, pyx_pure_fixture as p\n\
        print(os.environ['PYX_TEST_PREFIX'], p.VALUE, sys.implementation._multiarch)\n\
        sys.exit(7)";
    let out = ctx
        .pyx()
        .args(["test", "--target", "aarch64"])
        .arg(&wheel)
        .args(["--", "python", "-c", script])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(7), "{stderr}");
    let (prefix, rest) = stdout.trim().split_once(' ').unwrap();
    assert_eq!(rest, "42 aarch64-linux-gnu");
    assert!(!Path::new(prefix).exists(), "{prefix} was not removed");
}

#[test]
fn keep_leaves_the_scratch_prefix() {
    require_tools!("qemu-i386");
    let ctx = TestContext::new();
    let wheel = pure_wheel(ctx.path());
    let out = ctx
        .pyx()
        .args(["test", "--target", "i686", "--keep"])
        .arg(&wheel)
        .args(["--", "sh", "-c", "echo $PYX_TEST_PREFIX"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let prefix = PathBuf::from(stdout.trim());
    assert!(prefix.join("site/pyx_pure_fixture/__init__.py").is_file());
    assert!(stderr.contains(&format!("kept the scratch prefix `{}`", prefix.display())));
    std::fs::remove_dir_all(prefix).unwrap();
}

/// numpy's `test_sdot_bug_8577` starts `sys.executable` in a subprocess: that was the target's ARM
/// binary, which the build machine cannot exec (`Exec format error` without binfmt_misc).
#[test]
fn subprocesses_of_sys_executable_run_on_the_target_too() {
    require_tools!("qemu-arm");
    let ctx = TestContext::new();
    let wheel = pure_wheel(ctx.path());
    let code = "import subprocess, sys\n\
                out = subprocess.check_output([sys.executable, '-c', \
                'import platform, pyx_pure_fixture; print(platform.machine(), pyx_pure_fixture.VALUE)'])\n\
                print(out.decode().strip())";
    let out = ctx
        .pyx()
        .args(["test", "--target", "armv7l"])
        .arg(&wheel)
        .args(["--", "python", "-c", code])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout, "armv7l 42\n");
}
