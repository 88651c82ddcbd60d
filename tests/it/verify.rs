//! `pyx verify` against the good and deliberately broken wheel fixtures.

use crate::common::{TestContext, fixture, text};

/// Run `pyx verify --json` on one wheel; returns the exit code and its findings as
/// `(kind, member, what)`.
fn findings(
    ctx: &TestContext,
    wheel: &str,
    extra: &[&str],
) -> (i32, Vec<(String, String, String)>) {
    let out = ctx
        .pyx()
        .arg("verify")
        .arg("--json")
        .args(extra)
        .arg(fixture(wheel))
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    let json: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"));
    let list = json[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_string(),
                f["member"].as_str().unwrap_or("").to_string(),
                f["what"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (out.status.code().unwrap(), list)
}

fn one(kind: &str, member: &str, what: &str) -> Vec<(String, String, String)> {
    vec![(kind.into(), member.into(), what.into())]
}

const SO_ARM: &str = "demo/_demo.cpython-311-arm-linux-gnueabihf.so";

#[test]
fn good_wheels_are_sound() {
    let ctx = TestContext::new();
    let out = ctx
        .pyx()
        .arg("verify")
        .arg(fixture("wheels/good"))
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("ok: ")).count(),
        15,
        "{stdout}"
    );
    assert!(
        stderr
            .lines()
            .any(|l| l == "verified 15 wheel(s): 15 sound"),
        "all sound: the summary names no findings\n{stderr}"
    );
}

#[test]
fn good_wheels_match_their_target() {
    let ctx = TestContext::new();
    for target in [
        "armv7l", "armv6l", "armv5tel", "aarch64", "i686", "x86_64", "ppc64le", "s390x", "mips64",
        "riscv64",
    ] {
        let wheel = format!("wheels/good/demo-1.0-cp311-cp311-linux_{target}.whl");
        assert_eq!(
            findings(&ctx, &wheel, &["--target", target]),
            (0, vec![]),
            "{target}"
        );
    }
}

#[test]
fn x86_64_so_in_armv7l_wheel() {
    let ctx = TestContext::new();
    let member = "demo/_demo.cpython-311-x86_64-linux-gnu.so";
    assert_eq!(
        findings(
            &ctx,
            "wheels/broken/x86_in_arm-1.0-cp311-cp311-linux_armv7l.whl",
            &[]
        ),
        (
            1,
            vec![
                (
                    "elf-machine".into(),
                    member.into(),
                    "is x86_64 code, not armv7l".into()
                ),
                (
                    "ext-suffix".into(),
                    member.into(),
                    "is an extension module for `x86_64-linux-gnu`, not armv7l".into()
                ),
            ]
        )
    );
}

#[test]
fn x86_64_so_human_output() {
    let ctx = TestContext::new();
    let out = ctx
        .pyx()
        .args(["verify", "--target", "armv7l"])
        .arg(fixture(
            "wheels/broken/x86_in_arm-1.0-cp311-cp311-linux_armv7l.whl",
        ))
        .output()
        .unwrap();
    let (stdout, _) = text(&out);
    assert!(stdout.starts_with(
        "error: `x86_in_arm-1.0-cp311-cp311-linux_armv7l.whl`: `demo/_demo.cpython-311-x86_64-linux-gnu.so` \
         is x86_64 code, not armv7l\n  expected: EM_ARM, 32-bit, little-endian\n  \
         found:    EM_X86_64, 64-bit, little-endian\n  hint: the build used another machine's compiler"
    ), "{stdout}");
}

#[test]
fn linux_arm_tag() {
    let ctx = TestContext::new();
    assert_eq!(
        findings(
            &ctx,
            "wheels/broken/linux_arm-1.0-cp311-cp311-linux_arm.whl",
            &[]
        ),
        (
            1,
            one(
                "platform-tag",
                "",
                "platform tag `linux_arm` names no CPU a device's pip reports"
            )
        )
    );
}

#[test]
fn wrong_record_hash() {
    let ctx = TestContext::new();
    assert_eq!(
        findings(
            &ctx,
            "wheels/broken/wrong_hash-1.0-cp311-cp311-linux_armv7l.whl",
            &[]
        ),
        (
            1,
            one(
                "record-hash",
                "demo/__init__.py",
                "has a sha256 that differs from RECORD"
            )
        )
    );
}

#[test]
fn member_missing_from_record() {
    let ctx = TestContext::new();
    assert_eq!(
        findings(
            &ctx,
            "wheels/broken/not_in_record-1.0-cp311-cp311-linux_armv7l.whl",
            &[]
        ),
        (
            1,
            one("record-missing", "demo/extra.py", "is not listed in RECORD")
        )
    );
}

#[test]
fn dotdot_member_path() {
    let ctx = TestContext::new();
    assert_eq!(
        findings(
            &ctx,
            "wheels/broken/dotdot-1.0-cp311-cp311-linux_armv7l.whl",
            &[]
        ),
        (
            1,
            one("unsafe-path", "../evil.py", "has a `..` path component")
        )
    );
}

#[test]
fn absolute_member_path() {
    let ctx = TestContext::new();
    assert_eq!(
        findings(
            &ctx,
            "wheels/broken/absolute-1.0-cp311-cp311-linux_armv7l.whl",
            &[]
        ),
        (
            1,
            one("unsafe-path", "/tmp/evil.py", "has an absolute path")
        )
    );
}

#[test]
fn symlink_escaping_the_wheel() {
    let ctx = TestContext::new();
    assert_eq!(
        findings(
            &ctx,
            "wheels/broken/symlink_escape-1.0-cp311-cp311-linux_armv7l.whl",
            &[]
        ),
        (
            1,
            one(
                "unsafe-path",
                "demo/escape",
                "is a symlink to `../../../etc/passwd`, outside the wheel"
            )
        )
    );
}

#[test]
fn truncated_elf() {
    let ctx = TestContext::new();
    assert_eq!(
        findings(
            &ctx,
            "wheels/broken/truncated_elf-1.0-cp311-cp311-linux_armv7l.whl",
            &[]
        ),
        (
            1,
            one("elf-corrupt", SO_ARM, "is a truncated or corrupt ELF file")
        )
    );
}

#[test]
fn not_a_zip_and_truncated_zip() {
    let ctx = TestContext::new();
    let what = "is not a readable zip archive (not a wheel, or truncated)";
    assert_eq!(
        findings(&ctx, "wheels/broken/not_a_zip-1.0-py3-none-any.whl", &[]),
        (1, one("unreadable", "", what))
    );
    assert_eq!(
        findings(
            &ctx,
            "wheels/broken/truncated_zip-1.0-cp311-cp311-linux_armv7l.whl",
            &[]
        ),
        (1, one("unreadable", "", what))
    );
}

#[test]
fn zip_bomb_is_refused_without_inflating() {
    let ctx = TestContext::new();
    assert_eq!(
        findings(
            &ctx,
            "wheels/broken/zip_bomb-1.0-cp311-cp311-linux_armv7l.whl",
            &[]
        ),
        (
            1,
            one(
                "unreadable",
                "",
                "declares sizes no wheel has (a zip bomb?)"
            )
        )
    );
}

#[test]
fn soft_float_so_in_armv7l_wheel() {
    let ctx = TestContext::new();
    assert_eq!(
        findings(
            &ctx,
            "wheels/broken/softfloat-1.0-cp311-cp311-linux_armv7l.whl",
            &[]
        ),
        (
            1,
            one("float-abi", SO_ARM, "has the wrong float ABI for armv7l")
        )
    );
}

/// GCC 12 compiles riscv64's 1- and 2-byte atomics to libatomic calls: numpy 2.4.6 built without
/// libatomic linked said sound and failed at import with `undefined symbol:
/// __atomic_compare_exchange_1`. The same object linked with `-latomic` is sound.
#[test]
fn libatomic_calls_without_libatomic_linked() {
    let ctx = TestContext::new();
    let wheel = "wheels/broken/unlinked_atomics-1.0-cp311-cp311-linux_riscv64.whl";
    let member = "demo/_demo.cpython-311-riscv64-linux-gnu.so";
    let what = "calls libatomic but does not link it: the import fails with `undefined symbol` on the device";
    assert_eq!(
        findings(&ctx, wheel, &["--target", "riscv64"]),
        (1, one("unresolved-symbols", member, what))
    );
    let out = ctx
        .pyx()
        .arg("verify")
        .arg(fixture(wheel))
        .output()
        .unwrap();
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains("undefined __atomic_compare_exchange_1; needed: none"),
        "{stdout}"
    );
    let good = "wheels/good/atomics-1.0-cp311-cp311-linux_riscv64.whl";
    assert_eq!(findings(&ctx, good, &["--target", "riscv64"]), (0, vec![]));
}

/// Debian's riscv64 is LP64D: an LP64 (soft-float) object does not load beside its libc.
#[test]
fn soft_float_so_in_riscv64_wheel() {
    let ctx = TestContext::new();
    let wheel = "wheels/broken/lp64-1.0-cp311-cp311-linux_riscv64.whl";
    assert_eq!(
        findings(&ctx, wheel, &[]),
        (
            1,
            one(
                "float-abi",
                "demo/_demo.cpython-311-riscv64-linux-gnu.so",
                "has the wrong float ABI for riscv64"
            )
        )
    );
    let out = ctx
        .pyx()
        .arg("verify")
        .arg(fixture(wheel))
        .output()
        .unwrap();
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains("expected: double-float (e_flags 0x4)")
            && stdout.contains("found:    soft-float (e_flags 0x0)"),
        "{stdout}"
    );
}

/// `--python X.Y`: a wheel whose Python/ABI tags do not install there is a finding.
#[test]
fn python_flag_catches_a_wheel_for_another_python() {
    let ctx = TestContext::new();
    let wheel = "wheels/good/demo-1.0-cp311-cp311-linux_riscv64.whl";
    assert_eq!(findings(&ctx, wheel, &["--python", "3.11"]), (0, vec![]));
    assert_eq!(
        findings(&ctx, wheel, &["--target", "riscv64", "--python", "3.13"]),
        (1, one("python-tag", "", "does not install on CPython 3.13"))
    );
    let pure = "wheels/good/demo_pure-1.0-py3-none-any.whl";
    assert_eq!(findings(&ctx, pure, &["--python", "3.13"]), (0, vec![]));
}

#[test]
fn armv7_so_in_armv6l_wheel() {
    let ctx = TestContext::new();
    assert_eq!(
        findings(
            &ctx,
            "wheels/broken/v7_in_v6-1.0-cp311-cp311-linux_armv6l.whl",
            &[]
        ),
        (
            1,
            one(
                "arm-cpu-arch",
                SO_ARM,
                "is ARM v7 code, which does not run on armv6l"
            )
        )
    );
}

#[test]
fn armv8_so_alone_in_armv7l_wheel() {
    let ctx = TestContext::new();
    assert_eq!(
        findings(
            &ctx,
            "wheels/broken/v8_in_v7-1.0-cp311-cp311-linux_armv7l.whl",
            &["--target", "armv7l"]
        ),
        (
            1,
            one(
                "arm-cpu-arch",
                SO_ARM,
                "is ARM v8-A code, which does not run on armv7l"
            )
        )
    );
}

/// Regression: numpy's runtime-dispatched ARMv8 loops made its armv7l wheel fail the audit.
#[test]
fn runtime_dispatched_armv8_code_beside_armv7_code_is_a_note() {
    let ctx = TestContext::new();
    let wheel = "wheels/good/dispatch-1.0-cp311-cp311-linux_armv7l.whl";
    assert_eq!(findings(&ctx, wheel, &["--target", "armv7l"]), (0, vec![]));
    let out = ctx
        .pyx()
        .args(["verify", "--target", "armv7l"])
        .arg(fixture(wheel))
        .output()
        .unwrap();
    let (stdout, _) = text(&out);
    assert!(
        stdout.starts_with(
            "note: `dispatch-1.0-cp311-cp311-linux_armv7l.whl`: \
             `demo/_simd.cpython-311-arm-linux-gnueabihf.so` is ARM v8-A code, which does not run \
             on armv7l without a runtime CPU check\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("ok: `dispatch-1.0-cp311-cp311-linux_armv7l.whl` (2 ELF files)"),
        "{stdout}"
    );
}

#[test]
fn pure_wheel_with_binaries() {
    let ctx = TestContext::new();
    assert_eq!(
        findings(&ctx, "wheels/broken/pure_with_so-1.0-py3-none-any.whl", &[]),
        (
            1,
            one(
                "pure-with-binaries",
                SO_ARM,
                "is a pure wheel (platform `any`) but contains 1 ELF file(s)"
            )
        )
    );
}

#[test]
fn manylinux_claim_beyond_symbol_versions() {
    let ctx = TestContext::new();
    let (code, list) = findings(
        &ctx,
        "wheels/broken/manylinux_overclaim-1.0-cp311-cp311-manylinux2014_aarch64.whl",
        &[],
    );
    assert_eq!(code, 1);
    assert_eq!(
        list,
        one(
            "manylinux",
            "demo/_demo.cpython-311-aarch64-linux-gnu.so",
            "breaks the `manylinux2014_aarch64` policy"
        )
    );
}

#[test]
fn wheel_tags_disagree_with_file_name() {
    let ctx = TestContext::new();
    assert_eq!(
        findings(
            &ctx,
            "wheels/broken/tag_mismatch-1.0-cp311-cp311-linux_armv7l.whl",
            &[]
        ),
        (
            1,
            one(
                "tag-mismatch",
                "tag_mismatch-1.0.dist-info/WHEEL",
                "has `Tag:` lines that differ from the file name"
            )
        )
    );
}

#[test]
fn target_flag_catches_a_wheel_for_another_cpu() {
    let ctx = TestContext::new();
    let (code, list) = findings(
        &ctx,
        "wheels/good/demo-1.0-cp311-cp311-linux_aarch64.whl",
        &["--target", "armv7l"],
    );
    assert_eq!(code, 1);
    assert_eq!(list[0].2, "is tagged for aarch64, not the target armv7l");
    assert_eq!(list[1].2, "is aarch64 code, not armv7l");
}

#[test]
fn every_broken_fixture_fails_and_missing_paths_are_usage_errors() {
    let ctx = TestContext::new();
    let out = ctx
        .pyx()
        .arg("verify")
        .arg(fixture("wheels/broken"))
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("verified 20 wheel(s): 0 sound, 20 with"),
        "{stderr}"
    );

    let out = ctx.pyx().args(["verify", "no-such.whl"]).output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr,
        "error: `no-such.whl` does not exist\n  hint: give wheel files, or a directory that holds them\n"
    );
}

/// A static library for another CPU in a wheel: a package that links it gets x86 code.
#[test]
fn x86_objects_in_a_static_library() {
    let ctx = TestContext::new();
    let wheel = "wheels/broken/x86_archive-1.0-cp311-cp311-linux_armv7l.whl";
    let expected = one(
        "elf-machine",
        "demo/lib/libdemo.a(demo.o)",
        "is x86_64 code, not armv7l",
    );
    assert_eq!(
        findings(&ctx, wheel, &[]),
        (1, expected.clone()),
        "the tag says armv7l"
    );
    assert_eq!(
        findings(&ctx, wheel, &["--target", "armv7l"]),
        (1, expected)
    );
    let good = "wheels/good/demo_static-1.0-cp311-cp311-linux_armv7l.whl";
    assert_eq!(findings(&ctx, good, &["--target", "armv7l"]), (0, vec![]));
}

/// Peak RSS in KiB of `pyx ARGS` (measured by a Python parent whose only child it is), with its
/// exit code.
fn peak_rss(ctx: &TestContext, args: &[&std::ffi::OsStr]) -> (i32, u64) {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import resource, subprocess, sys\n\
             r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n\
             print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
        ])
        .arg(crate::common::pyx_bin())
        .args(args)
        .current_dir(ctx.path())
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    let mut fields = stdout.split_whitespace().map(|f| f.parse::<i64>().unwrap());
    let (code, kib) = (fields.next(), fields.next());
    assert!(kib.is_some(), "{stdout}{stderr}");
    (code.unwrap() as i32, kib.unwrap() as u64)
}

/// A 4 MB wheel holding a 4 GiB all-zero member that starts with `\x7fELF` (honest sizes, under
/// the ratio check) made `pyx verify` use 4.2 GB of RAM: every ELF member was read into memory
/// whole, in verify, inspect and retag. Memory must not grow with the member's size.
#[test]
fn a_zip_bomb_with_honest_sizes_is_not_held_in_memory() {
    let ctx = TestContext::new();
    let bomb = |mib: u64| {
        let dir = ctx.path().join(format!("bomb-{mib}"));
        std::fs::create_dir(&dir).unwrap();
        let out = std::process::Command::new("python3")
            .arg(fixture("wheels/make_bomb.py"))
            .arg(&dir)
            .arg((mib << 20).to_string())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out).1);
        std::path::PathBuf::from(text(&out).0.trim())
    };
    let (small, big) = (bomb(16), bomb(128));
    let out_dir = ctx.path().join("out");
    for (command, extra, code) in [
        ("verify", &[][..], 1),
        ("inspect", &[][..], 2),
        ("retag", &["--platform", "linux_armv7l", "-w", "out"][..], 1),
    ] {
        let run = |wheel: &std::path::Path| {
            let mut args = vec![std::ffi::OsStr::new(command)];
            args.extend(extra.iter().map(std::ffi::OsStr::new));
            args.push(wheel.as_os_str());
            peak_rss(&ctx, &args)
        };
        let (small_code, small_kib) = run(&small);
        let (big_code, big_kib) = run(&big);
        eprintln!(
            "pyx {command}: peak RSS {small_kib} KiB with 2 x 16 MiB ELF members, \
             {big_kib} KiB with 2 x 128 MiB"
        );
        assert_eq!((small_code, big_code), (code, code), "pyx {command}");
        assert!(
            big_kib < small_kib + 8 * 1024 && big_kib < 64 * 1024,
            "pyx {command} grew from {small_kib} KiB to {big_kib} KiB"
        );
    }
    assert!(!out_dir.exists() || std::fs::read_dir(&out_dir).unwrap().next().is_none());
}
