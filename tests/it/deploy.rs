//! Deploying to devices: `pyx index` served over HTTP to the target's own pip under QEMU, and
//! `pyx test --pip` judging a wheelhouse as a device's pip would (docs/deploy.md).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use crate::common::{TestContext, fixture, text};
use crate::require_tools;
use crate::wheel::{CROSS, package, wheel, wheelhouse};

/// `python3 -m http.server` on 127.0.0.1, on a port the OS picks, serving `dir`; its request log
/// goes to `log`. Stopped when dropped.
struct HttpServer {
    child: Child,
    port: u16,
}

impl HttpServer {
    fn start(dir: &Path, log: &Path) -> HttpServer {
        let mut child = Command::new("python3")
            .args([
                "-u",
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                "0",
                "--directory",
            ])
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .expect("start python3 -m http.server");
        // "Serving HTTP on 127.0.0.1 port 41235 (http://127.0.0.1:41235/) ..."
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .split(" port ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        HttpServer { child, port }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two fixture wheels and the dependency of one (pure_dep needs setuptools_c), built for armv7l
/// into `wh` (the built-wheel cache makes a second build cheap).
fn fixture_wheelhouse(ctx: &TestContext) -> Vec<String> {
    let (ok, _, stderr) = wheel(
        ctx,
        &[
            &package("pure_dep"),
            &package("cython_ext"),
            &package("setuptools_c"),
        ],
    );
    assert!(ok, "{stderr}");
    let names = wheelhouse(ctx);
    assert_eq!(names.len(), 3, "{names:?}");
    names
}

/// `pyx test --pip --target armv7l ARGS`: (exit code, stdout, stderr), timed on stderr.
fn test_pip(ctx: &TestContext, args: &[&str]) -> (Option<i32>, String, String) {
    let start = Instant::now();
    let out = ctx
        .pyx()
        .args(["test", "--pip", "--target", "armv7l"])
        .args(args)
        .output()
        .unwrap();
    eprintln!(
        "pyx test --pip {args:?}: {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let (stdout, stderr) = text(&out);
    (out.status.code(), stdout, stderr)
}

#[test]
fn index_served_over_http_installs_with_the_targets_pip() {
    require_tools!(CROSS[0], CROSS[1], "python3");
    let ctx = TestContext::new();
    fixture_wheelhouse(&ctx);
    let out = ctx.pyx().args(["index", "wh"]).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout, "wh/simple\n");
    assert!(
        stderr.contains("indexed 3 wheels of 3 projects (9 files written, 0 unchanged)"),
        "{stderr}"
    );
    let page =
        std::fs::read_to_string(ctx.path().join("wh/simple/pyx-fixture-pure-dep/index.html"))
            .unwrap();
    assert!(
        page.contains("<a href=\"../../pyx_fixture_pure_dep-1.0-py2.py3-none-any.whl#sha256="),
        "{page}"
    );
    let out = ctx.pyx().args(["index", "wh"]).output().unwrap();
    let (_, stderr) = text(&out);
    assert!(
        stderr.contains("(0 files written, 9 unchanged)"),
        "{stderr}"
    );

    let server = HttpServer::start(&ctx.path().join("wh"), &ctx.path().join("http.log"));
    let url = format!("http://127.0.0.1:{}/simple/", server.port);
    let (code, stdout, stderr) = test_pip(
        &ctx,
        &[
            "--index-url",
            &url,
            "-r",
            "wh/pinned-requirements.txt",
            "--",
            "python",
            "-c",
            "import platform, pyx_cython_ext, pyx_pure_dep\n\
             print(platform.machine(), pyx_cython_ext.fib(90), pyx_pure_dep.answer())",
        ],
    );
    drop(server);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.starts_with("armv7l 2880067194370816120 "),
        "{stdout}"
    );
    assert!(
        stderr.contains(
            "Successfully installed pyx-fixture-cython-ext-1.0 pyx-fixture-pure-dep-1.0 \
             pyx-fixture-setuptools-c-1.0"
        ),
        "{stderr}"
    );
    let log = std::fs::read_to_string(ctx.path().join("http.log")).unwrap();
    for get in [
        "\"GET /simple/pyx-fixture-pure-dep/ HTTP/1.1\" 200",
        "\"GET /pyx_fixture_setuptools_c-1.0-cp311-cp311-linux_armv7l.whl HTTP/1.1\" 200",
    ] {
        assert!(log.contains(get), "{get} not in\n{log}");
    }
}

#[test]
fn pip_refuses_a_wheelhouse_that_lacks_a_dependency() {
    require_tools!(CROSS[0], CROSS[1]);
    let ctx = TestContext::new();
    fixture_wheelhouse(&ctx);
    std::fs::remove_file(
        ctx.path()
            .join("wh/pyx_fixture_setuptools_c-1.0-cp311-cp311-linux_armv7l.whl"),
    )
    .unwrap();
    let (code, stdout, stderr) = test_pip(&ctx, &["wh"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(
        stderr.ends_with(
            "error: the `armv7l` target's pip finds no `pyx-fixture-setuptools-c>=1.0` (required by \
             `pyx-fixture-pure-dep`): the wheelhouse `wh` has no wheel of `pyx-fixture-setuptools-c`\n  \
             | ERROR: Could not find a version that satisfies the requirement \
             pyx-fixture-setuptools-c>=1.0 (from pyx-fixture-pure-dep) (from versions: none)\n  \
             | ERROR: No matching distribution found for pyx-fixture-setuptools-c>=1.0\n  \
             hint: build it into the wheelhouse (`pyx wheel 'pyx-fixture-setuptools-c>=1.0' --target \
             armv7l -w DIR`), or add it to the requirements the wheelhouse is built from\n"
        ),
        "{stderr}"
    );
}

/// Issue 13's "done when": the built-in example, built for armv7l, installs with the target's pip
/// from the wheelhouse and the requirements that built it; a crossenv-style `linux_armv8l` wheel
/// put in its place is named, by the audit and, past it, by pip.
#[test]
fn example_wheelhouse_installs_with_the_targets_pip_and_a_linux_armv8l_wheel_is_named() {
    require_tools!(CROSS[0], CROSS[1]);
    let ctx = TestContext::new();
    let example = fixture("example/requirements.txt");
    let example = example.to_str().unwrap();
    let (ok, _, stderr) = wheel(&ctx, &["-r", example, "--with", "libyaml-dev"]);
    assert!(ok, "{stderr}");
    let (code, stdout, stderr) = test_pip(&ctx, &["-r", example, "wh"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(
        stdout, "imported _yaml, markupsafe, msgpack, six, yaml on armv7l\n",
        "{stderr}"
    );

    // crossenv's tag: the same binaries, named for the machine Debian's armhf Python was built on.
    let msgpack = "msgpack-1.2.4-cp311-cp311-linux_armv7l.whl";
    let armv8l = "msgpack-1.2.4-cp311-cp311-linux_armv8l.whl";
    let out = ctx
        .pyx()
        .args(["retag", "--force", "--platform", "linux_armv8l"])
        .arg(PathBuf::from("wh").join(msgpack))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    std::fs::remove_file(ctx.path().join("wh").join(msgpack)).unwrap();

    let (code, _, stderr) = test_pip(&ctx, &["-r", example, "wh"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("error: `{armv8l}`")),
        "the audit names it: {stderr}"
    );
    assert!(
        stderr.contains("error: not testing 1 wheel that would not work on `armv7l` (of 4 given)"),
        "{stderr}"
    );

    let (code, _, stderr) = test_pip(&ctx, &["--no-verify", "-r", example, "wh"]);
    assert_eq!(code, Some(1), "{stderr}");
    let expected = format!(
        "error: the `armv7l` target's pip finds no `msgpack==1.2.4`: no wheel of `msgpack` in the \
         wheelhouse `wh` has a tag the target accepts\n  \
         wheel:    `{armv8l}`\n  \
         accepted: `manylinux_2_36_armv7l` … `manylinux_2_17_armv7l`, `manylinux2014_armv7l`, \
         `linux_armv7l`, `any` (564 tags, as `pip debug --verbose` lists them on the target)\n  \
         | ERROR: Could not find a version that satisfies the requirement msgpack==1.2.4 (from \
         versions: none)\n  \
         | ERROR: No matching distribution found for msgpack==1.2.4\n  \
         hint: `linux_armv8l` names no CPU a device's pip reports (it is the machine Debian's armhf \
         Python was built on, and crossenv's tag): build with `pyx wheel --target armv7l`, or give \
         the wheel the tag its binaries deserve with `pyx retag --auto wh/{armv8l}`\n"
    );
    assert!(
        stderr.ends_with(&expected),
        "{expected}\nis not the end of\n{stderr}"
    );
}
