//! Requirements files through `pyx wheel`: nesting, markers evaluated for the target, constraints,
//! and malformed lines reported with file:line.

use crate::common::{TestContext, fixture, text};
use crate::require_tools;

#[test]
fn a_malformed_line_names_file_line_and_text() {
    let ctx = TestContext::new();
    std::fs::create_dir(ctx.path().join("reqs")).unwrap();
    std::fs::write(
        ctx.path().join("requirements.txt"),
        "six\n-r reqs/more.txt\n",
    )
    .unwrap();
    std::fs::write(
        ctx.path().join("reqs/more.txt"),
        "# ok\nmsgpack\nnumpy=>2\n",
    )
    .unwrap();
    let out = ctx
        .pyx()
        .args(["wheel", "-r", "requirements.txt", "--target", "armv7l"])
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    insta::assert_snapshot!(ctx.filter(&stderr), @r#"error: reqs/more.txt:3: invalid requirement `numpy=>2`: no such comparison operator "=>", must be one of ~= == != <= >= < > === (at column 6: `=>2`)"#);
}

#[test]
fn markers_and_constraints_from_files() {
    require_tools!("arm-linux-gnueabihf-gcc");
    let ctx = TestContext::new();
    std::fs::write(
        ctx.path().join("requirements.txt"),
        format!(
            "-c constraints.txt\n\
             six ; platform_machine == \"armv7l\"\n\
             pyx-fixture-no-such-package ; platform_machine == \"x86_64\"\n\
             {} ; python_version >= \"3.8\"\n",
            fixture("packages/markers").display()
        ),
    )
    .unwrap();
    std::fs::write(ctx.path().join("constraints.txt"), "six==1.16.0\n").unwrap();
    let out = ctx
        .pyx()
        .args([
            "wheel",
            "-r",
            "requirements.txt",
            "--target",
            "armv7l",
            "-w",
            "wh",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let mut wheels: Vec<&str> = stdout
        .lines()
        .map(|l| l.rsplit('/').next().unwrap())
        .collect();
    wheels.sort();
    assert_eq!(
        wheels,
        [
            "pyx_fixture_markers-1.0-py2.py3-none-any.whl",
            "six-1.16.0-py2.py3-none-any.whl"
        ]
    );
}

#[test]
fn a_conflict_is_reported_with_both_sources() {
    require_tools!("arm-linux-gnueabihf-gcc");
    let ctx = TestContext::new();
    std::fs::write(
        ctx.path().join("requirements.txt"),
        format!("six==1.16.0\n{}\n", fixture("packages/markers").display()),
    )
    .unwrap();
    std::fs::write(ctx.path().join("constraints.txt"), "six<1.16\n").unwrap();
    let out = ctx
        .pyx()
        .args([
            "wheel",
            "-r",
            "requirements.txt",
            "-c",
            "constraints.txt",
            "--target",
            "armv7l",
            "-w",
            "wh",
        ])
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no version of `six` matches `<1.16` (constraints.txt:1) and `==1.16.0` (requirements.txt:1)"),
        "{stderr}"
    );
}

/// pip turns on hash-checking mode when one line has `--hash` and then requires a hash for every
/// requirement and dependency; pyx accepted the unhashed lines (and dependencies) silently.
#[test]
fn with_one_hashed_line_every_requirement_and_dependency_needs_a_hash() {
    let ctx = TestContext::new();
    std::fs::write(
        ctx.path().join("requirements.txt"),
        "six==1.16.0 --hash=sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254\n\
         msgpack==1.1.0\n",
    )
    .unwrap();
    let out = ctx
        .pyx()
        .args(["wheel", "-r", "requirements.txt", "--target", "armv7l"])
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("needs a `--hash` on every requirement; this one has none: `msgpack==1.1.0` (requirements.txt:2)"),
        "{stderr}"
    );

    require_tools!("arm-linux-gnueabihf-gcc");
    // A hashed wheel whose dependency has no line: the dependency fails, as in pip.
    let wheel = ctx.path().join("needs_six-1.0-py3-none-any.whl");
    let made = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import sys, zipfile\n\
             with zipfile.ZipFile(sys.argv[1], 'w') as z:\n\
             \x20   z.writestr('needs_six/__init__.py', '')\n\
             \x20   z.writestr('needs_six-1.0.dist-info/METADATA', 'Metadata-Version: 2.1\\nName: needs-six\\nVersion: 1.0\\nRequires-Dist: six\\n')\n\
             \x20   z.writestr('needs_six-1.0.dist-info/WHEEL', 'Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n')\n\
             \x20   z.writestr('needs_six-1.0.dist-info/RECORD', '')\n",
        )
        .arg(&wheel)
        .status()
        .unwrap();
    assert!(made.success());
    let sha = {
        let out = std::process::Command::new("sha256sum")
            .arg(&wheel)
            .output()
            .unwrap();
        text(&out).0.split_whitespace().next().unwrap().to_string()
    };
    std::fs::write(
        ctx.path().join("requirements.txt"),
        format!("./needs_six-1.0-py3-none-any.whl --hash=sha256:{sha}\n"),
    )
    .unwrap();
    let out = ctx
        .pyx()
        .args([
            "wheel",
            "-r",
            "requirements.txt",
            "--target",
            "armv7l",
            "-w",
            "wh",
        ])
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("`six` (required by `needs-six==1.0`) has no `--hash`"),
        "{stderr}"
    );
}

/// A `-r` line naming a missing file gave "cannot read requirements file" without the
/// `file:line` of the `-r`.
#[test]
fn a_missing_nested_file_names_the_line_that_includes_it() {
    let ctx = TestContext::new();
    std::fs::write(
        ctx.path().join("requirements.txt"),
        "six\n-r extra/missing.txt\n",
    )
    .unwrap();
    let out = ctx
        .pyx()
        .args(["wheel", "-r", "requirements.txt", "--target", "armv7l"])
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with(
            "error: requirements.txt:2: cannot read `extra/missing.txt`, which it includes\n"
        ),
        "{stderr}"
    );
}
