//! Debian releases as sysroots (12 bookworm: Python 3.11, 13 trixie: Python 3.13), the build
//! Python provisioned to match, and riscv64: fixture packages and real sdists built with the real
//! cross compilers, verified, and called with the target's own Python under QEMU.

use std::path::PathBuf;
use std::process::Command;

use crate::common::{TestContext, fixture, text};
use crate::require_tools;
use crate::wheel::{package, wheelhouse, wheels};

/// `pyx ARGS`; panics with the output when it fails, returns stdout.
fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run pyx");
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{cmd:?} failed:\n{stdout}\n{stderr}");
    stdout
}

/// The done-when of issue 11: with no Python 3.13 used from the machine (`PYX_BUILD_PYTHON=debian`
/// makes pyx provision trixie's amd64 one), markupsafe and msgpack from their sdists and a C
/// fixture build as `cp313-cp313-linux_riscv64`, verify, and work on riscv64 under QEMU.
#[test]
fn riscv64_python313_wheels_from_sdists_build_verify_and_run() {
    require_tools!("riscv64-linux-gnu-gcc", "qemu-riscv64");
    let ctx = TestContext::new();
    let pyx = |args: &[&str]| {
        let mut cmd = ctx.pyx();
        cmd.env("PYX_BUILD_PYTHON", "debian").args(args);
        cmd
    };
    ok(&mut pyx(&[
        "wheel",
        "msgpack",
        "markupsafe",
        "--no-binary",
        "markupsafe,msgpack",
        &package("setuptools_c"),
        "--target",
        "riscv64",
        "--python",
        "3.13",
        "-w",
        "wh",
    ]));
    let names = wheelhouse(&ctx);
    assert_eq!(names.len(), 3, "{names:?}");
    for name in &names {
        assert!(name.ends_with("-cp313-cp313-linux_riscv64.whl"), "{name}");
    }
    ok(&mut pyx(&[
        "verify", "wh", "--target", "riscv64", "--python", "3.13",
    ]));
    let mut test = pyx(&["test", "--target", "riscv64", "--python", "3.13"]);
    test.args(wheels(&ctx)).args([
        "--",
        "python",
        "-c",
        "import markupsafe, markupsafe._speedups, msgpack, msgpack._cmsgpack, platform, sys\n\
         import pyx_setuptools_c as s\n\
         assert str(markupsafe.escape('<pyx>')) == '&lt;pyx&gt;'\n\
         assert msgpack.unpackb(msgpack.packb({'a': [1, 2]})) == {'a': [1, 2]}\n\
         print(platform.machine(), '%d.%d' % sys.version_info[:2], s.sum_squares(100000), s.pointer_bits(), \
         s.atomic_ops())",
    ]);
    assert_eq!(ok(&mut test), "riscv64 3.13 1626540144 64 7\n");

    // The provisioned build Python is listed, and its cross env reports it.
    let targets: serde_json::Value =
        serde_json::from_str(&ok(&mut pyx(&["targets", "--json"]))).unwrap();
    let trixie = targets["releases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["release"] == "trixie")
        .unwrap()
        .clone();
    assert_eq!(trixie["origin"], "debian", "{trixie}");
    assert!(
        trixie["build_python"]
            .as_str()
            .unwrap()
            .ends_with("pythons/trixie-amd64/usr/bin/python3.13"),
        "{trixie}"
    );
    let list = ok(&mut pyx(&["sysroot", "list"]));
    assert!(
        list.lines()
            .any(|l| l.starts_with("riscv64") && l.contains("trixie") && l.contains("python3.13")),
        "{list}"
    );
}

/// One target on one release: the setuptools and meson-python fixtures through `pyx wheel`,
/// verified, imported and called under QEMU (pointer size and long double from the target;
/// atomics that GCC 12 makes libatomic calls on riscv64 and armel).
fn fixtures_run_on(target: &str, python: &str, pointer_bits: u32, long_double: u32) {
    let ctx = TestContext::new();
    let pyx = |args: &[&str]| {
        let mut cmd = ctx.pyx();
        cmd.args(args)
            .args(["--target", target, "--python", python]);
        cmd
    };
    let mut build = pyx(&["wheel", "-w", "wh"]);
    build.arg(package("setuptools_c")).arg(package("meson_c"));
    ok(&mut build);
    let tag = format!("-cp{}-cp{0}-linux_{target}.whl", python.replace('.', ""));
    let names = wheelhouse(&ctx);
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.iter().all(|n| n.ends_with(&tag)), "{names:?}");
    ok(&mut pyx(&["verify", "wh"]));
    let mut test = pyx(&["test"]);
    test.args(wheels(&ctx)).args([
        "--",
        "python",
        "-c",
        "import platform, sys, pyx_setuptools_c as s, pyx_meson_c as m\n\
         print(platform.machine(), '%d.%d' % sys.version_info[:2], s.sum_squares(100000), \
         s.pointer_bits(), s.atomic_ops(), m.fib_mod(1000), m.long_double_size())",
    ]);
    assert_eq!(
        ok(&mut test),
        format!("{target} {python} 1626540144 {pointer_bits} 7 517691607 {long_double}\n")
    );
}

#[test]
fn aarch64_python313_fixtures_build_and_run() {
    require_tools!("aarch64-linux-gnu-gcc", "qemu-aarch64", "ninja");
    fixtures_run_on("aarch64", "3.13", 64, 16);
}

#[test]
fn armv7l_python313_fixtures_build_and_run() {
    require_tools!("arm-linux-gnueabihf-gcc", "qemu-arm", "ninja");
    fixtures_run_on("armv7l", "3.13", 32, 8);
}

#[test]
fn i686_python313_fixtures_build_and_run() {
    require_tools!("i686-linux-gnu-gcc", "qemu-i386", "ninja");
    fixtures_run_on("i686", "3.13", 32, 12);
}

#[test]
fn riscv64_python313_fixtures_build_and_run() {
    require_tools!("riscv64-linux-gnu-gcc", "qemu-riscv64", "ninja");
    fixtures_run_on("riscv64", "3.13", 64, 16);
}

// Trixie's armel, ppc64el and s390x: this machine's Debian mirror lists them but answers 404 for
// libc6, zlib1g and six more of their packages, so they cannot be proven here.
#[test]
#[ignore = "the mirror here 404s trixie's armel libc6; run with --ignored where it serves them"]
fn armv5tel_python313_fixtures_build_and_run() {
    require_tools!("arm-linux-gnueabi-gcc", "qemu-arm", "ninja");
    fixtures_run_on("armv5tel", "3.13", 32, 8);
}

#[test]
#[ignore = "the mirror here 404s trixie's ppc64el libc6; run with --ignored where it serves them"]
fn ppc64le_python313_fixtures_build_and_run() {
    require_tools!("powerpc64le-linux-gnu-gcc", "qemu-ppc64le", "ninja");
    fixtures_run_on("ppc64le", "3.13", 64, 16);
}

#[test]
#[ignore = "the mirror here 404s trixie's s390x libc6; run with --ignored where it serves them"]
fn s390x_python313_fixtures_build_and_run() {
    require_tools!("s390x-linux-gnu-gcc", "qemu-s390x", "ninja");
    fixtures_run_on("s390x", "3.13", 64, 16);
}

// Bookworm's other targets (armv7l, aarch64 and i686 are in env.rs).
#[test]
fn armv5tel_python311_fixtures_build_and_run() {
    require_tools!("arm-linux-gnueabi-gcc", "qemu-arm", "ninja");
    fixtures_run_on("armv5tel", "3.11", 32, 8);
}

#[test]
fn ppc64le_python311_fixtures_build_and_run() {
    require_tools!("powerpc64le-linux-gnu-gcc", "qemu-ppc64le", "ninja");
    fixtures_run_on("ppc64le", "3.11", 64, 16);
}

#[test]
fn s390x_python311_fixtures_build_and_run() {
    require_tools!("s390x-linux-gnu-gcc", "qemu-s390x", "ninja");
    fixtures_run_on("s390x", "3.11", 64, 16);
}

#[test]
fn mips64_python311_fixtures_build_and_run() {
    require_tools!("mips64el-linux-gnuabi64-gcc", "qemu-mips64el", "ninja");
    fixtures_run_on("mips64", "3.11", 64, 16);
}

/// An executable linked against the sysroot's libpython: Debian 12's cross gcc would take its own
/// glibc 2.36 first and fail on trixie's libpython3.13 (`__isoc23_strtol@GLIBC_2.38`); the shims
/// put the sysroot's C library first, for both releases.
fn embedding_links_and_runs(target: &str, python: &str) {
    let ctx = TestContext::new();
    let src = ctx.path().join("embed.c");
    std::fs::write(
        &src,
        "#include <Python.h>\n\
         int main(void) { Py_Initialize(); \
         PyRun_SimpleString(\"import sys; print('embedded', '%d.%d' % sys.version_info[:2])\"); \
         return Py_FinalizeEx() < 0; }\n",
    )
    .unwrap();
    let script = format!(
        "cc $(python{python}-config --includes) embed.c -lpython{python} -o embed && \
         PYTHONHOME=\"$SYSROOT/usr\" \"$QEMU\" -L \"$SYSROOT\" ./embed"
    );
    let root = PathBuf::from(
        ok(ctx
            .pyx()
            .args(["sysroot", "path", target, "--python", python]))
        .trim(),
    );
    let qemu = match target {
        "armv7l" => "qemu-arm".to_string(),
        other => format!("qemu-{other}"),
    };
    let out = ok(ctx
        .pyx()
        .current_dir(ctx.path())
        .env("SYSROOT", &root)
        .env("QEMU", qemu)
        .args(["run", "--target", target, "--python", python, "--"])
        .args(["sh", "-c", &script]));
    assert_eq!(out, format!("embedded {python}\n"));
}

#[test]
fn an_executable_links_trixies_libpython() {
    require_tools!("arm-linux-gnueabihf-gcc", "qemu-arm");
    embedding_links_and_runs("armv7l", "3.13");
}

#[test]
fn an_executable_links_bookworms_libpython() {
    require_tools!("arm-linux-gnueabihf-gcc", "qemu-arm");
    embedding_links_and_runs("armv7l", "3.11");
}

/// stderr of a pyx command that must fail with exit code 2, run with a cache of its own that
/// must stay without a provisioned build Python or sysroot.
fn usage_error(ctx: &TestContext, args: &[&str]) -> String {
    usage_error_with(ctx, &[], args)
}

fn usage_error_with(ctx: &TestContext, envs: &[(&str, &str)], args: &[&str]) -> String {
    let cache = ctx.path().join("cache");
    let out = ctx
        .pyx()
        .env("PYX_CACHE_DIR", &cache)
        .envs(envs.iter().copied())
        .args(args)
        .output()
        .unwrap();
    for provisioned in ["pythons", "sysroots"] {
        assert!(
            !cache.join(provisioned).exists(),
            "{args:?} provisioned `{provisioned}` before failing"
        );
    }
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    ctx.filter(&stderr)
}

#[test]
fn a_target_a_release_lacks_names_the_release_that_has_it() {
    let ctx = TestContext::new();
    let fixture = fixture("packages/setuptools_c").display().to_string();
    // Said before a build Python 3.13 is provisioned for nothing.
    assert_eq!(
        usage_error_with(
            &ctx,
            &[("PYX_BUILD_PYTHON", "debian")],
            &["wheel", &fixture, "--target", "mips64", "--python", "3.13"]
        ),
        "error: Debian 13 (trixie) has no `mips64el` architecture for target `mips64`\n  \
         hint: `mips64` is in Debian 12 (bookworm) with `--python 3.11`; or bring a target root \
         and a build Python of your own: `--sysroot DIR` (a root with `usr/lib/python3.X`) and \
         `PYX_BUILD_PYTHON=/path/to/python3.X`\n"
    );
    assert_eq!(
        usage_error(&ctx, &["sysroot", "add", "riscv64", "--python", "3.11"]),
        "error: Debian 12 (bookworm) has no `riscv64` architecture for target `riscv64`\n  \
         hint: `riscv64` is in Debian 13 (trixie) with `--python 3.13`; or bring a target root \
         and a build Python of your own: `--sysroot DIR` (a root with `usr/lib/python3.X`) and \
         `PYX_BUILD_PYTHON=/path/to/python3.X`\n"
    );
    assert!(
        usage_error(&ctx, &["sysroot", "add", "riscv64", "--debian", "bookworm"])
            .starts_with("error: Debian 12 (bookworm) has no `riscv64` architecture")
    );
}

#[test]
fn a_python_no_release_ships_says_which_ones_do_and_how_to_bring_your_own() {
    let ctx = TestContext::new();
    let expected = "error: no Debian release pyx knows ships Python 3.12 (Debian 12 (bookworm): \
        Python 3.11, Debian 13 (trixie): Python 3.13)\n  \
        hint: use `--python 3.11` or `--python 3.13`, or bring a target root and a build Python of \
        your own: `--sysroot DIR` (a root with `usr/lib/python3.X`) and \
        `PYX_BUILD_PYTHON=/path/to/python3.X`\n";
    assert_eq!(
        usage_error(&ctx, &["sysroot", "add", "aarch64", "--python", "3.12"]),
        expected
    );
    // `pyx wheel` says so before any work, whatever build Python is installed.
    let out = usage_error(
        &ctx,
        &["wheel", "six", "--target", "aarch64", "--python", "3.12"],
    );
    assert!(
        out.starts_with(
            "error: no Debian release pyx knows ships Python 3.12 (Debian 12 (bookworm): Python \
             3.11, Debian 13 (trixie): Python 3.13)\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("`--sysroot DIR` (a root with `usr/lib/python3.X`) and `PYX_BUILD_PYTHON="),
        "{out}"
    );
    assert_eq!(
        usage_error(
            &ctx,
            &[
                "sysroot", "add", "aarch64", "--python", "3.11", "--debian", "trixie"
            ]
        ),
        "error: `--python 3.11` and `--debian trixie` disagree: Debian 13 (trixie) ships Python \
         3.13\n  hint: give one of them\n"
    );
}
