//! `pyx env` and `pyx run`: the cross env answers like the target, and fixture C extensions built
//! by hand inside it import and compute under QEMU with the target's own Python.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{TestContext, fixture, text};
use crate::require_tools;

/// What `pyx env show --json` must say for a target on its Debian sysroot.
struct Expected {
    target: &'static str,
    ext_suffix: &'static str,
    multiarch: &'static str,
    first_tag: &'static str,
}

fn env_answers_like(ctx: &TestContext, want: &Expected) {
    let dir = ctx.path().join("env");
    let out = ctx
        .pyx()
        .args(["env", "create"])
        .arg(&dir)
        .args(["--target", want.target])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "env create failed:\n{stderr}");
    assert_eq!(
        stdout.trim(),
        dir.canonicalize().unwrap().display().to_string()
    );

    let out = ctx
        .pyx()
        .args(["env", "show", "--json"])
        .arg(&dir)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "env show failed:\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let platform = format!("linux-{}", want.target);
    assert_eq!(report["platform"], platform.as_str());
    assert_eq!(report["machine"], want.target);
    assert_eq!(report["uname_machine"], want.target);
    assert_eq!(report["ext_suffix"], want.ext_suffix);
    assert_eq!(
        report["soabi"],
        want.ext_suffix[1..want.ext_suffix.len() - 3]
    );
    assert_eq!(report["multiarch"], want.multiarch);
    assert_eq!(report["config_multiarch"], want.multiarch);
    assert_eq!(report["extension_suffixes"][0], want.ext_suffix);
    assert_eq!(report["first_tag"], want.first_tag);
    assert_eq!(
        report["glibc"], "glibc 2.36",
        "the Debian 12 sysroot's glibc"
    );
    let cc = dir.canonicalize().unwrap().join("bin/cc");
    assert_eq!(report["cc"], cc.display().to_string().as_str());

    // A second create rewrites nothing and is fast.
    let mtimes = |dir: &Path| -> Vec<(PathBuf, std::time::SystemTime)> {
        walkdir::WalkDir::new(dir)
            .into_iter()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().is_file() && !e.path().ends_with("shim-log.jsonl"))
            .filter(|e| {
                !e.path()
                    .components()
                    .any(|c| c.as_os_str() == "__pycache__")
            })
            .map(|e| {
                (
                    e.path().to_path_buf(),
                    e.metadata().unwrap().modified().unwrap(),
                )
            })
            .collect()
    };
    let before = mtimes(&dir);
    let start = std::time::Instant::now();
    let out = ctx
        .pyx()
        .args(["env", "create"])
        .arg(&dir)
        .args(["--target", want.target])
        .output()
        .unwrap();
    assert!(out.status.success());
    let took = start.elapsed();
    // About 0.2 s alone (a probe compile included); the bound allows for parallel tests.
    assert!(took.as_secs_f64() < 3.0, "env create took {took:?}");
    assert_eq!(mtimes(&dir), before);
}

/// `pyx run` in the cached env: child processes see the target too.
fn run_prints_target_values(ctx: &TestContext, want: &Expected) {
    let script = "import platform, subprocess, sys, sysconfig\n\
        print(sysconfig.get_platform(), sysconfig.get_config_var('EXT_SUFFIX'), platform.machine())\n\
        sys.stdout.flush()\n\
        subprocess.run([sys.executable, '-c', 'import sysconfig; print(sysconfig.get_platform())'], check=True)\n\
        sys.exit(5)";
    let out = ctx
        .pyx()
        .args(["run", "--target", want.target, "--", "python", "-c", script])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert_eq!(
        stdout,
        format!(
            "linux-{t} {} {t}\nlinux-{t}\n",
            want.ext_suffix,
            t = want.target
        )
    );
}

/// Build a fixture package by hand inside the env (`python -m build -n -w`); returns the wheel.
pub fn build_fixture(ctx: &TestContext, target: &str, package: &str) -> PathBuf {
    let src = ctx.path().join(package);
    copy_dir(&fixture(&format!("packages/{package}")), &src);
    let out = ctx
        .pyx()
        .current_dir(&src)
        .env("PYX_PACKAGE", package)
        .args(["run", "--target", target, "--", "sh", "-c"])
        .arg("python -m build -n -w -Csetup-args=--cross-file=\"$PYX_MESON_CROSS_FILE\" .")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(
        out.status.success(),
        "building {package} for {target} failed:\n{stdout}\n{stderr}"
    );
    let wheels: Vec<PathBuf> = std::fs::read_dir(src.join("dist"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
        .collect();
    assert_eq!(wheels.len(), 1, "{wheels:?}");
    wheels.into_iter().next().unwrap()
}

pub fn copy_dir(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-r")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}

fn fixtures_import_under_qemu(ctx: &TestContext, want: &Expected, pointer_bits: u32, ld: u32) {
    let st = build_fixture(ctx, want.target, "setuptools_c");
    let meson = build_fixture(ctx, want.target, "meson_c");
    for wheel in [&st, &meson] {
        let name = wheel.file_name().unwrap().to_str().unwrap();
        assert!(
            name.ends_with(&format!("-cp311-cp311-linux_{}.whl", want.target)),
            "{name}"
        );
    }
    let check = format!(
        "import platform, pyx_setuptools_c as s, pyx_meson_c as m\n\
         assert s.__file__.endswith({:?}), s.__file__\n\
         print(platform.machine(), s.sum_squares(100000), s.pointer_bits(), m.fib_mod(1000), m.long_double_size())",
        want.ext_suffix
    );
    let out = ctx
        .pyx()
        .args(["test", "--target", want.target])
        .arg(&st)
        .arg(&meson)
        .args(["--", "python", "-c", &check])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    // sum of i*i for i in 1..=100000, modulo 2**32; fib(1000) modulo 1e9+7.
    assert_eq!(
        stdout,
        format!("{} 1626540144 {pointer_bits} 517691607 {ld}\n", want.target)
    );
}

const ARMV7L: Expected = Expected {
    target: "armv7l",
    ext_suffix: ".cpython-311-arm-linux-gnueabihf.so",
    multiarch: "arm-linux-gnueabihf",
    first_tag: "cp311-cp311-linux_armv7l",
};
const AARCH64: Expected = Expected {
    target: "aarch64",
    ext_suffix: ".cpython-311-aarch64-linux-gnu.so",
    multiarch: "aarch64-linux-gnu",
    first_tag: "cp311-cp311-linux_aarch64",
};
const I686: Expected = Expected {
    target: "i686",
    ext_suffix: ".cpython-311-i386-linux-gnu.so",
    multiarch: "i386-linux-gnu",
    first_tag: "cp311-cp311-linux_i686",
};

#[test]
fn armv7l_env_answers_like_the_target() {
    require_tools!("arm-linux-gnueabihf-gcc", "qemu-arm");
    let ctx = TestContext::new();
    env_answers_like(&ctx, &ARMV7L);
    run_prints_target_values(&ctx, &ARMV7L);
}

#[test]
fn aarch64_env_answers_like_the_target() {
    require_tools!("aarch64-linux-gnu-gcc", "qemu-aarch64");
    let ctx = TestContext::new();
    env_answers_like(&ctx, &AARCH64);
    run_prints_target_values(&ctx, &AARCH64);
}

#[test]
fn i686_env_answers_like_the_target() {
    require_tools!("i686-linux-gnu-gcc", "qemu-i386");
    let ctx = TestContext::new();
    env_answers_like(&ctx, &I686);
    run_prints_target_values(&ctx, &I686);
}

#[test]
fn armv7l_fixtures_build_and_import_under_qemu() {
    require_tools!("arm-linux-gnueabihf-gcc", "qemu-arm");
    fixtures_import_under_qemu(&TestContext::new(), &ARMV7L, 32, 8);
}

#[test]
fn aarch64_fixtures_build_and_import_under_qemu() {
    require_tools!("aarch64-linux-gnu-gcc", "qemu-aarch64");
    fixtures_import_under_qemu(&TestContext::new(), &AARCH64, 64, 16);
}

#[test]
fn i686_fixtures_build_and_import_under_qemu() {
    require_tools!("i686-linux-gnu-gcc", "qemu-i386");
    fixtures_import_under_qemu(&TestContext::new(), &I686, 32, 12);
}

#[test]
fn host_gcc_is_refused_at_env_creation() {
    require_tools!("gcc", "arm-linux-gnueabihf-gcc");
    let ctx = TestContext::new();
    let out = ctx
        .pyx()
        .args(["env", "create", "env", "--target", "armv7l", "--cc", "gcc"])
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "`gcc` compiles for EM_X86_64 (e_machine 62), ELF64, little-endian, expected EM_ARM \
             (e_machine 40), ELF32, little-endian, hard-float for `armv7l`"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: that is not a cross compiler for `arm-linux-gnueabihf`: install `gcc-arm-linux-gnueabihf`"),
        "{stderr}"
    );
    assert!(!ctx.path().join("env/pyx/env.json").exists());
}

#[test]
fn env_show_prints_the_meson_cross_file_and_cmake_toolchain() {
    require_tools!("arm-linux-gnueabihf-gcc");
    let ctx = TestContext::new();
    let out = ctx
        .pyx()
        .args(["env", "create", "env", "--target", "armv7l"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    let show = |flag: &str| {
        let out = ctx
            .pyx()
            .args(["env", "show", "env", flag])
            .output()
            .unwrap();
        assert!(out.status.success());
        ctx.filter(&text(&out).0)
    };
    let cross = show("--meson-cross");
    for line in [
        "c = ['[TEMP]/env/bin/cc']",
        "python = ['[TEMP]/env/bin/python']",
        "longdouble_format = 'IEEE_DOUBLE_LE'",
        "cpu_family = 'arm'",
        "cpu = 'armv7l'",
        "endian = 'little'",
    ] {
        assert!(cross.lines().any(|l| l == line), "{line} not in\n{cross}");
    }
    assert!(cross.contains("exe_wrapper = ["), "{cross}");
    let cmake = show("--cmake-toolchain");
    for line in [
        "set(CMAKE_SYSTEM_NAME Linux)",
        "set(CMAKE_SYSTEM_PROCESSOR \"armv7l\")",
        "set(CMAKE_C_COMPILER \"[TEMP]/env/bin/cc\")",
    ] {
        assert!(cmake.lines().any(|l| l == line), "{line} not in\n{cmake}");
    }
}

/// The build env's own Python (the `meson` script's interpreter) inherits
/// `_PYTHON_SYSCONFIGDATA_NAME` and must still import the target's sysconfig data.
#[test]
fn build_env_python_imports_the_target_sysconfig() {
    require_tools!("arm-linux-gnueabihf-gcc");
    let ctx = TestContext::new();
    let script = "py=\"$(dirname \"$(dirname \"$(dirname \"$PYX_BUILD_SITE\")\")\")/bin/python\"; \
                  \"$py\" -c 'import sys, sysconfig; print(sys.prefix != sys.base_prefix, sysconfig.get_config_var(\"SOABI\"))'";
    let out = ctx
        .pyx()
        .args(["run", "--target", "armv7l", "--", "sh", "-c", script])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout, "True cpython-311-arm-linux-gnueabihf\n");
}

/// `pyx env create DIR --target TARGET`, which must succeed.
fn create_env(ctx: &TestContext, dir: &Path, target: &str) {
    let out = ctx
        .pyx()
        .args(["env", "create"])
        .arg(dir)
        .args(["--target", target])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
}

/// An env made by `pyx env create` works by hand: its `python -m build` finds meson, ninja and the
/// shims without `pyx run` setting anything.
#[test]
fn env_works_by_hand_without_pyx_run() {
    require_tools!("arm-linux-gnueabihf-gcc", "qemu-arm");
    let ctx = TestContext::new();
    let env = ctx.path().join("env");
    create_env(&ctx, &env, "armv7l");
    let src = ctx.path().join("meson_c");
    copy_dir(&fixture("packages/meson_c"), &src);
    let mut build = Command::new(env.join("bin/python"));
    build
        .current_dir(&src)
        .args(["-m", "build", "-n", "-w"])
        .arg(format!(
            "-Csetup-args=--cross-file={}",
            env.join("pyx/cross.ini").display()
        ))
        .arg(".");
    for var in [
        "PYX_CROSS_ENV",
        "PYX_BUILD_SITE",
        "PYTHONPATH",
        "_PYTHON_SYSCONFIGDATA_NAME",
        "_PYTHON_HOST_PLATFORM",
        "CC",
    ] {
        build.env_remove(var);
    }
    let out = build.output().unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let wheel = src
        .join("dist")
        .join("pyx_fixture_meson_c-1.0-cp311-cp311-linux_armv7l.whl");
    let out = ctx
        .pyx()
        .args(["test", "--target", "armv7l"])
        .arg(&wheel)
        .args([
            "--",
            "python",
            "-c",
            "import pyx_meson_c as m; print(m.fib_mod(90))",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    // fib(90) = 2880067194370816120, modulo 1e9+7.
    assert_eq!(
        stdout,
        format!("{}\n", 2880067194370816120u64 % 1_000_000_007)
    );
}

/// The kernel starts `pyx-shim` for the env's `bin/cc` (no shell in between); an env whose path
/// has a space gets the shell wrapper instead. Both compile for the target and log the call.
#[test]
fn shims_start_without_a_shell_and_fall_back_to_one() {
    require_tools!("arm-linux-gnueabihf-gcc");
    let ctx = TestContext::new();
    std::fs::write(ctx.path().join("f.c"), "int f(void) { return 42; }\n").unwrap();
    for (dir, first_line) in [
        (
            ctx.path().join("env"),
            format!("#!{}", env!("CARGO_BIN_EXE_pyx-shim")),
        ),
        (
            ctx.path().join("with space").join("env"),
            "#!/bin/sh".to_string(),
        ),
    ] {
        create_env(&ctx, &dir, "armv7l");
        let script = std::fs::read_to_string(dir.join("bin/cc")).unwrap();
        assert!(
            script.lines().next().unwrap().starts_with(&first_line),
            "{script}"
        );
        let object = ctx.path().join("f.o");
        let out = Command::new(dir.join("bin/cc"))
            .current_dir(ctx.path())
            .env_remove("PYX_CROSS_ENV")
            .args(["-c", "f.c", "-o"])
            .arg(&object)
            .output()
            .unwrap();
        assert!(out.status.success(), "{script}\n{}", text(&out).1);
        let bytes = std::fs::read(&object).unwrap();
        let elf = goblin::elf::Elf::parse(&bytes).unwrap();
        assert_eq!(elf.header.e_machine, goblin::elf::header::EM_ARM);
        let log = std::fs::read_to_string(dir.join("pyx/shim-log.jsonl")).unwrap();
        assert!(log.contains("\"tool\":\"cc\""), "{log}");
        std::fs::remove_file(&object).unwrap();
    }
    // Started any other way, it says what it is for.
    let out = Command::new(env!("CARGO_BIN_EXE_pyx-shim"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out).1;
    assert!(
        stderr.contains("`pyx-shim` runs as the interpreter of a cross env's tool shim"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: run the env's `bin/<tool>`"),
        "{stderr}"
    );
}

/// Mirror `real` into `root` with symlinks, recreating the directories on `path` and copying its
/// last component, which `edit` may change.
fn mirror_with(real: &Path, root: &Path, path: &[&str], edit: &dyn Fn(String) -> String) {
    std::fs::create_dir_all(root).unwrap();
    let (first, rest) = path.split_first().unwrap();
    for entry in std::fs::read_dir(real).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let dest = root.join(&name);
        if name.to_str() != Some(*first) {
            std::os::unix::fs::symlink(entry.path(), &dest).unwrap();
        } else if rest.is_empty() {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            std::fs::write(&dest, edit(text)).unwrap();
        } else {
            mirror_with(&entry.path(), &dest, rest, edit);
        }
    }
}

/// `packaging.tags` must see the target's glibc: here a root whose headers say 2.31, unlike the
/// build machine (Debian 12: 2.36).
#[test]
fn the_env_reports_the_sysroots_glibc_not_the_build_machines() {
    require_tools!("aarch64-linux-gnu-gcc");
    let real = crate::sysroot::sysroot_for("aarch64");
    let ctx = TestContext::new();
    let root = ctx.path().join("root");
    mirror_with(&real, &root, &["usr", "include", "features.h"], &|text| {
        text.replace(
            "#define\t__GLIBC_MINOR__\t36",
            "#define\t__GLIBC_MINOR__\t31",
        )
    });
    let features = std::fs::read_to_string(root.join("usr/include/features.h")).unwrap();
    assert!(
        features.contains("__GLIBC_MINOR__\t31"),
        "the fixture edit took"
    );

    let dir = ctx.path().join("env");
    let out = ctx
        .pyx()
        .args(["env", "create"])
        .arg(&dir)
        .args(["--target", "aarch64", "--sysroot"])
        .arg(&root)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    let out = ctx
        .pyx()
        .args(["env", "show", "--json"])
        .arg(&dir)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["glibc"], "glibc 2.31");
}

/// `pyx run -- pip wheel --no-build-isolation .` ran the build machine's pip (first on PATH, with
/// the host's setuptools: `invalid command 'bdist_wheel'`), and `pyx run -- python -m pip` failed
/// with `No module named pip`: envs had no pip. The env's own pip resolves for the target's tags,
/// builds through the shims and installs into the env.
#[test]
fn pip_in_the_env_is_the_envs_own() {
    require_tools!("arm-linux-gnueabihf-gcc", "qemu-arm");
    let ctx = TestContext::new();
    let out = ctx
        .pyx()
        .args(["sysroot", "path", "armv7l"])
        .output()
        .unwrap();
    let sysroot = PathBuf::from(text(&out).0.trim());
    let cache = ctx.path().join("cache");
    std::fs::create_dir_all(cache.join("sysroots")).unwrap();
    std::os::unix::fs::symlink(
        &sysroot,
        cache.join("sysroots").join(sysroot.file_name().unwrap()),
    )
    .unwrap();
    let project = ctx.path().join("setuptools_c");
    for file in ["pyproject.toml", "setup.py", "src/pyx_setuptools_c.c"] {
        let to = project.join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(fixture(&format!("packages/setuptools_c/{file}")), to).unwrap();
    }
    let run = |dir: &Path, args: &[&str]| {
        let out = ctx
            .pyx()
            .env("PYX_CACHE_DIR", &cache)
            .current_dir(dir)
            .args(["run", "--target", "armv7l", "--"])
            .args(args)
            .output()
            .unwrap();
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{args:?}:\n{stdout}\n{stderr}");
        stdout
    };

    let version = run(&project, &["pip", "--version"]);
    assert!(
        version.contains(&cache.join("build-envs").display().to_string()),
        "{version}"
    );
    let tags = run(&project, &["python", "-m", "pip", "debug", "--verbose"]);
    let first = tags
        .lines()
        .skip_while(|l| !l.starts_with("Compatible tags"))
        .nth(1)
        .unwrap_or_default();
    assert_eq!(first.trim(), "cp311-cp311-linux_armv7l", "{tags}");
    assert!(!tags.contains("x86_64"), "{tags}");

    run(
        &project,
        &[
            "pip",
            "wheel",
            "--no-build-isolation",
            "--no-deps",
            "-w",
            "dist",
            ".",
        ],
    );
    let wheel = project.join("dist/pyx_fixture_setuptools_c-1.0-cp311-cp311-linux_armv7l.whl");
    assert!(
        wheel.is_file(),
        "{:?}",
        std::fs::read_dir(project.join("dist"))
            .unwrap()
            .collect::<Vec<_>>()
    );
    let out = ctx
        .pyx()
        .args(["test", "--target", "armv7l"])
        .arg(&wheel)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);

    run(&project, &["python", "-m", "pip", "install", "-q", "six"]);
    let six = run(
        &project,
        &["python", "-c", "import six; print(six.__file__)"],
    );
    assert!(
        six.starts_with(&cache.join("envs").display().to_string()),
        "{six}"
    );
}
