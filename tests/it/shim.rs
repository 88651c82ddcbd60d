//! The compiler shims: host-arch flags and the build Python's own paths are refused with the
//! documented message, allowed flags pass as written, every call is logged with the package being
//! built; `*-config` programs come from the sysroot only.

use crate::common::{TestContext, fixture, text};
use crate::env::copy_dir;
use crate::require_tools;

fn build_in_env(ctx: &TestContext, package: &str, allow: Option<&str>) -> std::process::Output {
    let src = ctx.path().join(package);
    copy_dir(&fixture(&format!("packages/{package}")), &src);
    let mut cmd = ctx.pyx();
    cmd.current_dir(&src)
        .env("PYX_PACKAGE", package)
        .env_remove("PYX_SHIM_ALLOW")
        .args([
            "run", "--target", "armv7l", "--", "python", "-m", "build", "-n", "-w", ".",
        ]);
    if let Some(allow) = allow {
        cmd.env("PYX_SHIM_ALLOW", allow);
    }
    cmd.output().unwrap()
}

/// `pyx run --target armv7l -- sh -c SCRIPT` in the test's directory, as package `package`.
fn run_in_env(ctx: &TestContext, package: &str, script: &str) -> std::process::Output {
    ctx.pyx()
        .env("PYX_PACKAGE", package)
        .env_remove("PYX_SHIM_ALLOW")
        .args(["run", "--target", "armv7l", "--", "sh", "-c", script])
        .output()
        .unwrap()
}

#[test]
fn build_python_prefix_paths_are_refused_unless_it_is_a_system_prefix() {
    require_tools!("arm-linux-gnueabihf-gcc");
    let ctx = TestContext::new();
    let out = run_in_env(
        &ctx,
        "prefix-check",
        "python -c 'import sys; print(sys.base_prefix)'",
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let prefix = stdout.trim().trim_end_matches('/').to_string();
    std::fs::write(ctx.path().join("f.c"), "int f(void) { return 1; }\n").unwrap();
    let dir = format!("{prefix}/lib/python3.11/config-3.11-x86_64-linux-gnu");
    let out = run_in_env(&ctx, "prefix-check", &format!("cc -c f.c -o f.o -L{dir}"));
    let (stdout, stderr) = text(&out);
    let all = format!("{stdout}{stderr}");
    if ["/usr", "/usr/local"].contains(&prefix.as_str()) {
        // A system Python's files are where system paths map into the sysroot.
        assert!(out.status.success(), "{all}");
        assert!(
            all.contains(&format!("pyx: mapped `-L{dir}` to `-L")),
            "{all}"
        );
        return;
    }
    assert!(!out.status.success());
    assert!(
        all.contains(&format!(
            "error: pyx refused `-L{dir}` in a `cc` call for `armv7l` while building `prefix-check`\n  \
             Caused by: `{dir}` holds the build Python's libraries (it is under `{prefix}/lib`), \
             not the target's; a cross build must use the sysroot's, under `"
        )),
        "{all}"
    );
    assert!(
        all.contains(&format!(
            "hint: fix the flag in the package's build files, or let it pass with PYX_SHIM_ALLOW='-L{dir}' (or `all`)"
        )),
        "{all}"
    );
}

#[test]
fn allowed_host_path_passes_unchanged() {
    require_tools!("arm-linux-gnueabihf-gcc");
    let ctx = TestContext::new();
    std::fs::write(ctx.path().join("f.c"), "int f(void) { return 1; }\n").unwrap();
    let out = ctx
        .pyx()
        .env("PYX_SHIM_ALLOW", "-I/usr/include/pyx-allowed")
        .args(["run", "--target", "armv7l", "--", "sh", "-c"])
        .arg("cc -v -c f.c -o f.o -I/usr/include/pyx-allowed -I/usr/include/pyx-mapped")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let all = format!("{stdout}{stderr}");
    assert!(
        !all.contains("pyx: mapped `-I/usr/include/pyx-allowed`"),
        "{all}"
    );
    assert!(
        all.contains("ignoring nonexistent directory \"/usr/include/pyx-allowed\""),
        "the compiler got the flag as written: {all}"
    );
    assert!(
        all.contains("pyx: mapped `-I/usr/include/pyx-mapped` to `-I"),
        "{all}"
    );
}

#[test]
fn m64_is_refused_on_a_32_bit_target() {
    require_tools!("arm-linux-gnueabihf-gcc");
    let ctx = TestContext::new();
    let out = build_in_env(&ctx, "bad_m64", None);
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success());
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains(
            "error: pyx refused `-m64` in a `cc` call for `armv7l` while building `bad_m64`\n  \
             Caused by: `-m64` asks for 64-bit code, but `armv7l` is a 32-bit target\n  \
             hint: fix the flag in the package's build files, or let it pass with PYX_SHIM_ALLOW='-m64' (or `all`)"
        ),
        "{all}"
    );
}

#[test]
fn allowed_flag_reaches_the_compiler() {
    require_tools!("arm-linux-gnueabihf-gcc");
    let ctx = TestContext::new();
    let out = build_in_env(&ctx, "bad_m64", Some("-m64"));
    let (stdout, stderr) = text(&out);
    let all = format!("{stdout}{stderr}");
    // The shim lets it through; the real ARM compiler then rejects it itself.
    assert!(!out.status.success());
    assert!(!all.contains("pyx refused"), "{all}");
    assert!(all.contains("-m64"), "{all}");
}

#[test]
fn shim_calls_are_logged_per_package() {
    require_tools!("arm-linux-gnueabihf-gcc");
    let ctx = TestContext::new();
    let package = format!("log-check-{}", std::process::id());
    let out = ctx
        .pyx()
        .env("PYX_PACKAGE", &package)
        .args(["run", "--target", "armv7l", "--", "sh", "-c"])
        .arg("echo 'int f(void){return 1;}' > f.c && cc -c f.c -o f.o && cc --version >/dev/null && echo \"$PYX_CROSS_ENV\"")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let obj = std::fs::read(ctx.path().join("f.o")).unwrap();
    assert_eq!(&obj[..4], b"\x7fELF");
    assert_eq!(u16::from_le_bytes([obj[18], obj[19]]), 40, "EM_ARM");
    let env = std::path::PathBuf::from(stdout.trim());
    let log = std::fs::read_to_string(env.join("pyx/shim-log.jsonl")).unwrap();
    let calls: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|c: &serde_json::Value| c["package"] == package.as_str())
        .collect();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[0]["tool"], "cc");
    assert_eq!(
        calls[0]["args"],
        serde_json::json!(["-c", "f.c", "-o", "f.o"])
    );
    assert_eq!(calls[0]["exit"], 0);
    assert_eq!(calls[1]["args"], serde_json::json!(["--version"]));
}

/// A `*-config` program on the build machine's PATH that prints a marker.
fn host_config(ctx: &TestContext, name: &str) -> std::path::PathBuf {
    let dir = ctx.path().join("host-bin");
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join(name);
    std::fs::write(&script, "#!/bin/sh\necho -I/host/only/marker\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn path_with(dir: &std::path::Path) -> std::ffi::OsString {
    let mut dirs = vec![dir.to_path_buf()];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap()
}

#[test]
fn config_programs_come_from_the_sysroot_only() {
    require_tools!("arm-linux-gnueabihf-gcc");
    let ctx = TestContext::new();
    let sysroot = crate::host_paths::sysroot_with_libxml2(&ctx);
    let name = "pyxtest-hostonly-config";
    let host_bin = host_config(&ctx, name);
    let path = path_with(&host_bin);
    let create = |path: &std::ffi::OsStr| {
        let out = ctx
            .pyx()
            .env("PATH", path)
            .args(["env", "create", "env", "--target", "armv7l"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out).1);
    };
    create(&path);
    let env = ctx.path().join("env");
    let bin = env.join("bin");
    let wrapper = std::fs::read_to_string(bin.join(name)).expect("a wrapper for the host's");
    assert!(wrapper.contains(&format!("config '{name}'")), "{wrapper}");
    assert!(
        bin.join("xml2-config").is_file(),
        "a wrapper for the sysroot's"
    );
    assert!(!bin.join("x86_64-linux-gnu-pkg-config").exists());

    let run = |args: &[&str]| {
        let out = std::process::Command::new(bin.join(args[0]))
            .args(&args[1..])
            .env("PATH", &path)
            .env("PYX_PACKAGE", "config-check")
            .current_dir(ctx.path())
            .output()
            .unwrap();
        let (stdout, stderr) = text(&out);
        (out.status.success(), stdout, stderr)
    };
    // The host's program is never reached, even first on PATH.
    let (ok, stdout, stderr) = run(&[name, "--cflags"]);
    assert!(!ok);
    assert!(
        !stdout.contains("marker") && !stderr.contains("marker"),
        "{stdout}{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "error: the sysroot for `armv7l` has no `{name}` (`{sysroot}/usr/bin/{name}`); pyx \
             never runs the build machine's, which describes the build machine's libraries\n  \
             hint: add it to the sysroot: `pyx sysroot add armv7l --with "
        )),
        "{stderr}"
    );
    // The sysroot's script runs, its output mapped into the sysroot.
    let (ok, stdout, stderr) = run(&["xml2-config", "--cflags", "--libs"]);
    assert!(ok, "{stderr}");
    assert_eq!(
        stdout.trim(),
        format!("-I{sysroot}/usr/include/libxml2 -lxml2")
    );
    assert!(
        stderr.contains(&format!(
            "pyx: mapped `-I/usr/include/libxml2` to `-I{sysroot}/usr/include/libxml2` in the sysroot"
        )),
        "{stderr}"
    );
    // Debian's `python3.11-config` is the target's `<multiarch>-python3.11-config`.
    let (ok, stdout, stderr) = run(&["python3.11-config", "--includes"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.starts_with(&format!("-I{sysroot}/usr/include/python3.11 ")),
        "{stdout}"
    );
    // A compiled program for the target cannot run here.
    let out = ctx
        .pyx()
        .args(["shim", "--env"])
        .arg(&env)
        .args(["config", "python3.11", "--version"])
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!(
            "error: the sysroot's `python3.11` (`{sysroot}/usr/bin/python3.11`) is a compiled \
             program for `armv7l`, not a script: it cannot run on the build machine\n  \
             hint: give the build its flags another way: through pkg-config"
        )),
        "{stderr}"
    );

    let log = std::fs::read_to_string(env.join("pyx/shim-log.jsonl")).unwrap();
    let calls: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|c: &serde_json::Value| c["package"] == "config-check")
        .collect();
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert_eq!(calls[0]["tool"], "config");
    assert_eq!(calls[0]["args"], serde_json::json!([name, "--cflags"]));
    assert_eq!(calls[0]["exit"], serde_json::Value::Null);
    assert_eq!(calls[1]["exit"], 0);
    assert_eq!(
        calls[1]["mapped"],
        serde_json::json!([[
            "-I/usr/include/libxml2",
            format!("-I{sysroot}/usr/include/libxml2")
        ]])
    );

    // Without the host's program on PATH its wrapper goes.
    create(&std::env::var_os("PATH").unwrap_or_default());
    assert!(!bin.join(name).exists());
    assert!(bin.join("xml2-config").is_file());
}
