//! `pyx test`: wheels unpacked into a scratch prefix, run with the target's Python under QEMU.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::common::{TestContext, fixture, text};
use crate::require_tools;

/// Write a wheel `{name}-{version}-{tag}.whl` into `dir` with `files`, its METADATA (plus
/// `metadata` lines), WHEEL and a RECORD that matches, so only what a test means is wrong with it.
pub(crate) fn make_wheel(
    dir: &Path,
    (name, version, tag): (&str, &str, &str),
    files: &[(&str, &[u8])],
    metadata: &str,
) -> PathBuf {
    let dist = name.replace('-', "_");
    let path = dir.join(format!("{dist}-{version}-{tag}.whl"));
    let info = format!("{dist}-{version}.dist-info");
    let mut members: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(n, b)| (n.to_string(), b.to_vec()))
        .collect();
    members.push((
        format!("{info}/METADATA"),
        format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{metadata}").into_bytes(),
    ));
    let purelib = tag.ends_with("-none-any");
    members.push((
        format!("{info}/WHEEL"),
        format!(
            "Wheel-Version: 1.0\nGenerator: pyx-tests\nRoot-Is-Purelib: {purelib}\nTag: {tag}\n"
        )
        .into_bytes(),
    ));
    let mut record = String::new();
    for (member, body) in &members {
        let digest = pyx::wheel::record::sha256_entry(body);
        record.push_str(&format!("{member},{digest},{}\n", body.len()));
    }
    record.push_str(&format!("{info}/RECORD,,\n"));
    members.push((format!("{info}/RECORD"), record.into_bytes()));
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    for (member, body) in &members {
        zip.start_file(member.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(body).unwrap();
    }
    zip.finish().unwrap();
    path
}

/// A pure-Python wheel with one package whose `VALUE` is 42.
fn pure_wheel(dir: &Path) -> PathBuf {
    make_wheel(
        dir,
        ("pyx-pure-fixture", "1.0", "py3-none-any"),
        &[("pyx_pure_fixture/__init__.py", b"VALUE = 42\n")],
        "",
    )
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

/// Issue 10: `pyx test --target armv7l` on msgpack's x86_64 manylinux wheel from PyPI printed
/// `imported msgpack on armv7l` and exited 0, because msgpack falls back to pure Python when its
/// extension does not load. The same wheel is now refused with the audit's findings first.
#[test]
fn x86_64_wheel_with_a_pure_fallback_said_imported_on_armv7l() {
    require_tools!("qemu-arm");
    let ctx = TestContext::new();
    let so = std::fs::read(fixture("elf/x86_64.so")).unwrap();
    let wheel = make_wheel(
        ctx.path(),
        ("pyx-speedups", "1.0", "cp311-cp311-manylinux_2_17_x86_64"),
        &[
            (
                "pyx_speedups/__init__.py",
                b"try:\n    from ._speedups import VALUE\nexcept ImportError:\n    VALUE = 42\n",
            ),
            (
                "pyx_speedups/_speedups.cpython-311-x86_64-linux-gnu.so",
                &so,
            ),
        ],
        "",
    );
    let out = ctx
        .pyx()
        .args(["test", "--target", "armv7l"])
        .arg(&wheel)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert_eq!(stdout, "", "nothing ran");
    let name = "pyx_speedups-1.0-cp311-cp311-manylinux_2_17_x86_64.whl";
    for line in [
        format!("error: `{name}` is tagged for x86_64, not the target armv7l\n"),
        format!(
            "error: `{name}`: `pyx_speedups/_speedups.cpython-311-x86_64-linux-gnu.so` is x86_64 \
             code, not armv7l\n  expected: EM_ARM, 32-bit, little-endian\n  found:    EM_X86_64, \
             64-bit, little-endian\n"
        ),
        "error: not testing 1 wheel that would not work on `armv7l` (of 1 given)\n  hint: these \
         are the findings of `pyx verify --target armv7l`; rebuild for the target (`pyx wheel \
         --target armv7l`), or pass `--no-verify` to install and run anyway\n"
            .to_string(),
    ] {
        assert!(stderr.contains(&line), "{line}\nnot in\n{stderr}");
    }

    let out = ctx
        .pyx()
        .args(["test", "--target", "armv7l", "--no-verify"])
        .arg(&wheel)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout, "imported pyx_speedups on armv7l\n");
}

/// An x86_64 wheel of a package without a fallback failed with `No module named` and no word
/// about the CPU; the audit names the binary instead.
#[test]
fn x86_64_extension_without_fallback_is_explained_by_the_audit() {
    let ctx = TestContext::new();
    let wheel = fixture(
        "wheels/fallback/pyx_fixture_setuptools_c-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
    );
    let out = ctx
        .pyx()
        .args(["test", "--target", "armv7l"])
        .arg(&wheel)
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("No module named"), "{stderr}");
    assert!(
        stderr.contains(
            "`pyx_setuptools_c.cpython-311-x86_64-linux-gnu.so` is x86_64 code, not armv7l"
        ),
        "{stderr}"
    );
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
