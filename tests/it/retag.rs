//! `pyx retag`: derive or set tags, rewrite WHEEL and RECORD, and prove pip accepts the result.

use std::path::{Path, PathBuf};

use crate::common::{TestContext, fixture, text};

fn copy_in(ctx: &TestContext, rel: &str) -> PathBuf {
    let src = fixture(rel);
    let dst = ctx.path().join(src.file_name().unwrap());
    std::fs::copy(&src, &dst).unwrap();
    dst
}

fn verify_ok(ctx: &TestContext, wheel: &Path) {
    let out = ctx.pyx().arg("verify").arg(wheel).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
}

#[test]
fn auto_turns_linux_arm_into_linux_armv7l_that_pip_accepts() {
    let ctx = TestContext::new();
    let wheel = copy_in(
        &ctx,
        "wheels/broken/linux_arm-1.0-cp311-cp311-linux_arm.whl",
    );
    let original = std::fs::read(&wheel).unwrap();
    let out = ctx
        .pyx()
        .args(["retag", "--auto"])
        .arg(&wheel)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let new = ctx
        .path()
        .join("linux_arm-1.0-cp311-cp311-linux_armv7l.whl");
    assert_eq!(stdout.trim(), new.display().to_string());
    assert_eq!(
        std::fs::read(&wheel).unwrap(),
        original,
        "the original is untouched"
    );
    verify_ok(&ctx, &new);

    let target = ctx.path().join("site");
    let pip = |w: &Path| {
        std::process::Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-index",
                "--only-binary",
                ":all:",
            ])
            .args([
                "--platform",
                "linux_armv7l",
                "--python-version",
                "3.11",
                "--no-deps",
                "--target",
            ])
            .arg(&target)
            .arg(w)
            .output()
            .unwrap()
    };
    let accepted = pip(&new);
    assert!(accepted.status.success(), "{}", text(&accepted).1);
    assert!(
        target
            .join("demo/_demo.cpython-311-arm-linux-gnueabihf.so")
            .is_file()
    );
    let refused = pip(&wheel);
    assert!(!refused.status.success());
    assert!(
        text(&refused)
            .1
            .contains("is not a supported wheel on this platform")
    );
}

#[test]
fn wheel_and_record_are_rewritten_and_other_members_copied_raw() {
    let ctx = TestContext::new();
    let wheel = copy_in(
        &ctx,
        "wheels/broken/linux_arm-1.0-cp311-cp311-linux_arm.whl",
    );
    let out = ctx
        .pyx()
        .args(["retag", "--platform", "linux_armv7l", "-w", "out"])
        .arg(&wheel)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    let new = ctx
        .path()
        .join("out/linux_arm-1.0-cp311-cp311-linux_armv7l.whl");
    let mut old_zip = zip::ZipArchive::new(std::fs::File::open(&wheel).unwrap()).unwrap();
    let mut new_zip = zip::ZipArchive::new(std::fs::File::open(&new).unwrap()).unwrap();
    assert_eq!(old_zip.len(), new_zip.len());
    for i in 0..old_zip.len() {
        let a = old_zip.by_index_raw(i).unwrap();
        let (name, crc, csize) = (
            a.name().unwrap().to_string(),
            a.crc32(),
            a.compressed_size(),
        );
        drop(a);
        let b = new_zip.by_index_raw(i).unwrap();
        assert_eq!(b.name().unwrap(), name, "member order is kept");
        if !name.ends_with("/WHEEL") && !name.ends_with("/RECORD") {
            assert_eq!((b.crc32(), b.compressed_size()), (crc, csize), "{name}");
        }
    }
    let mut wheel_file = String::new();
    std::io::Read::read_to_string(
        &mut new_zip.by_name("linux_arm-1.0.dist-info/WHEEL").unwrap(),
        &mut wheel_file,
    )
    .unwrap();
    assert!(
        wheel_file.ends_with("Tag: cp311-cp311-linux_armv7l\n"),
        "{wheel_file}"
    );
    verify_ok(&ctx, &new);
}

#[test]
fn in_place_replaces_the_wheel_atomically() {
    let ctx = TestContext::new();
    let wheel = copy_in(&ctx, "wheels/broken/pure_with_so-1.0-py3-none-any.whl");
    let out = ctx
        .pyx()
        .args(["retag", "--in-place"])
        .arg(&wheel)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    assert!(!wheel.exists());
    let names: Vec<_> = std::fs::read_dir(ctx.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        names,
        ["pure_with_so-1.0-py3-none-linux_armv7l.whl"],
        "no temp files are left"
    );
    verify_ok(&ctx, &ctx.path().join(&names[0]));
}

#[test]
fn auto_derives_armv6l_and_armv5tel_and_every_other_arch() {
    let ctx = TestContext::new();
    for target in [
        "armv6l", "armv5tel", "aarch64", "i686", "x86_64", "ppc64le", "s390x", "mips64",
    ] {
        let wheel = copy_in(
            &ctx,
            &format!("wheels/good/demo-1.0-cp311-cp311-linux_{target}.whl"),
        );
        let out = ctx
            .pyx()
            .args(["retag", "--platform", "linux_arm", "--force"])
            .arg(&wheel)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out).1);
        let arm = ctx.path().join("demo-1.0-cp311-cp311-linux_arm.whl");
        let out = ctx
            .pyx()
            .args(["retag", "--auto", "--in-place"])
            .arg(&arm)
            .output()
            .unwrap();
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stderr}");
        assert!(
            stdout
                .trim()
                .ends_with(&format!("demo-1.0-cp311-cp311-linux_{target}.whl")),
            "{target}: {stdout}"
        );
    }
}

#[test]
fn manylinux_tag_only_where_policy_allows() {
    let ctx = TestContext::new();
    let wheel = copy_in(&ctx, "wheels/good/demo-1.0-cp311-cp311-linux_aarch64.whl");
    let out = ctx
        .pyx()
        .args(["retag", "--auto", "--manylinux"])
        .arg(&wheel)
        .output()
        .unwrap();
    let (stdout, _) = text(&out);
    assert!(
        stdout
            .trim()
            .ends_with("demo-1.0-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl")
    );

    let wheel = copy_in(
        &ctx,
        "wheels/broken/manylinux_overclaim-1.0-cp311-cp311-manylinux2014_aarch64.whl",
    );
    let out = ctx
        .pyx()
        .args(["retag", "--auto", "--manylinux"])
        .arg(&wheel)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout
            .trim()
            .ends_with("manylinux_overclaim-1.0-cp311-cp311-manylinux_2_34_aarch64.whl"),
        "{stdout}"
    );

    let wheel = copy_in(&ctx, "wheels/good/demo-1.0-cp311-cp311-linux_armv6l.whl");
    let out = ctx
        .pyx()
        .args(["retag", "--auto", "--manylinux"])
        .arg(&wheel)
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr,
        "error: `demo-1.0-cp311-cp311-linux_armv6l.whl` cannot be tagged manylinux for `armv6l`: \
         no manylinux policy covers `armv6l`\n  hint: drop `--manylinux` to tag it `linux_<arch>`, or \
         rebuild against an older sysroot\n"
    );
}

#[test]
fn a_tag_contradicting_the_binaries_is_refused_unless_forced() {
    let ctx = TestContext::new();
    let wheel = copy_in(&ctx, "wheels/good/demo-1.0-cp311-cp311-linux_armv7l.whl");
    let out = ctx
        .pyx()
        .args(["retag", "--platform", "linux_armv6l"])
        .arg(&wheel)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("is ARM v7 code, which does not run on armv6l"),
        "{stderr}"
    );
    assert!(stderr.ends_with(
        "error: `demo-1.0-cp311-cp311-linux_armv7l.whl` is not retagged `linux_armv6l`: the tag contradicts \
         its binaries\n  hint: use `--auto` to derive the tag, or `--force` to set it anyway\n"
    ), "{stderr}");
    assert!(
        !ctx.path()
            .join("demo-1.0-cp311-cp311-linux_armv6l.whl")
            .exists()
    );

    let out = ctx
        .pyx()
        .args(["retag", "--platform", "linux_armv6l", "--force"])
        .arg(&wheel)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        ctx.path()
            .join("demo-1.0-cp311-cp311-linux_armv6l.whl")
            .exists()
    );
}

#[test]
fn invalid_tags_and_unsound_wheels_are_refused() {
    let ctx = TestContext::new();
    let wheel = copy_in(&ctx, "wheels/good/demo-1.0-cp311-cp311-linux_armv7l.whl");
    let out = ctx
        .pyx()
        .args(["retag", "--platform", "linux-armv7l"])
        .arg(&wheel)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out).1,
        "error: `linux-armv7l` is not a valid platform tag: tags hold only ASCII letters, digits and `_`\n  \
         hint: a platform tag looks like `linux_armv7l` or `manylinux_2_17_aarch64`\n"
    );
    let wheel = copy_in(
        &ctx,
        "wheels/broken/dotdot-1.0-cp311-cp311-linux_armv7l.whl",
    );
    let out = ctx
        .pyx()
        .args(["retag", "--auto"])
        .arg(&wheel)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out)
            .1
            .contains("is not retagged: it is not a sound wheel")
    );
}

/// Retagged wheels were 0600 whatever the umask, and `--in-place` turned 0644 into 0600: another
/// user (a web server serving the wheels) got `PermissionError`.
#[test]
fn retagged_wheels_are_not_0600_and_in_place_keeps_the_mode() {
    use std::os::unix::fs::PermissionsExt;
    let ctx = TestContext::new();
    let wheel = copy_in(
        &ctx,
        "wheels/broken/linux_arm-1.0-cp311-cp311-linux_arm.whl",
    );
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let retag = |args: &[&str]| {
        let out = std::process::Command::new("sh")
            .args(["-c", "umask 022 && exec \"$@\"", "sh"])
            .arg(crate::common::pyx_bin())
            .arg("retag")
            .args(args)
            .arg(&wheel)
            .current_dir(ctx.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out).1);
        PathBuf::from(text(&out).0.trim())
    };
    let out_dir = ctx.path().join("out");
    let new = retag(&["--auto", "-w", out_dir.to_str().unwrap()]);
    assert_eq!(mode(&new), 0o644, "0666 & ~umask 022");

    std::fs::set_permissions(&wheel, std::fs::Permissions::from_mode(0o640)).unwrap();
    let replaced = retag(&["--auto", "--in-place"]);
    assert!(!wheel.exists());
    assert_eq!(mode(&replaced), 0o640, "the original's mode");
}

/// `retag` kept a wrong RECORD hash (and an unlisted member) silently, so the retagged wheel failed
/// `pyx verify` with the finding whose hint says "retag it with `pyx retag`, which refreshes RECORD".
#[test]
fn retag_refreshes_wrong_record_lines_so_verify_passes() {
    let ctx = TestContext::new();
    for (fixture_name, member) in [
        ("wrong_hash", "demo/__init__.py"),
        ("not_in_record", "demo/extra.py"),
    ] {
        let wheel = copy_in(
            &ctx,
            &format!("wheels/broken/{fixture_name}-1.0-cp311-cp311-linux_armv7l.whl"),
        );
        let out = ctx.pyx().arg("verify").arg(&wheel).output().unwrap();
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!((stdout + &stderr).contains("refreshes RECORD"));

        let out_dir = ctx.path().join(format!("out-{fixture_name}"));
        let out = ctx
            .pyx()
            .args(["retag", "--platform", "linux_armv7l", "-w"])
            .arg(&out_dir)
            .arg(&wheel)
            .output()
            .unwrap();
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stderr}");
        assert!(
            stderr.contains(&format!("`{member}`")) && stderr.contains("RECORD is refreshed"),
            "{stderr}"
        );
        verify_ok(&ctx, Path::new(stdout.trim()));
    }
}

/// `retag --in-place` of a wheel that cannot be removed said it "cannot write" the new wheel,
/// which it had written, and left both. Now the original stays as it was and nothing else is left.
#[test]
fn in_place_of_an_unremovable_wheel_keeps_it_and_leaves_nothing_else() {
    crate::require_tools!("chattr");
    let ctx = TestContext::new();
    let wheel = copy_in(&ctx, "wheels/broken/pure_with_so-1.0-py3-none-any.whl");
    let original = std::fs::read(&wheel).unwrap();
    let chattr = |flag: &str| {
        std::process::Command::new("chattr")
            .arg(flag)
            .arg(&wheel)
            .status()
            .unwrap()
            .success()
    };
    if !chattr("+i") {
        assert!(
            std::env::var_os("CI").is_none(),
            "`chattr +i` needs root (CAP_LINUX_IMMUTABLE) in CI"
        );
        eprintln!("SKIPPED: `chattr +i` is not permitted here");
        return;
    }
    let out = ctx
        .pyx()
        .args(["retag", "--in-place"])
        .arg(&wheel)
        .output()
        .unwrap();
    chattr("-i");
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot be removed"), "{stderr}");
    assert!(stderr.contains("it is kept as it was"), "{stderr}");
    let names: Vec<_> = std::fs::read_dir(ctx.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["pure_with_so-1.0-py3-none-any.whl"]);
    assert_eq!(std::fs::read(&wheel).unwrap(), original);
}

/// `retag --force` printed the overridden findings as `error:` lines and exited 0; they are
/// warnings now (the run succeeds, so nothing in it is an error).
#[test]
fn forced_retag_prints_the_overridden_findings_as_warnings() {
    let ctx = TestContext::new();
    let wheel = copy_in(&ctx, "wheels/good/demo-1.0-cp311-cp311-linux_armv7l.whl");
    let out = ctx
        .pyx()
        .args(["retag", "--platform", "linux_armv6l", "--force"])
        .arg(&wheel)
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: `demo-1.0-cp311-cp311-linux_armv7l.whl`: `demo/_demo.cpython-311-arm-linux-gnueabihf.so` is ARM v7 code"),
        "{stderr}"
    );
    assert!(!stderr.contains("error:"), "{stderr}");
}
