//! The compiler launchers behind the shims, for real: ccache hits on a rebuild in a new scratch
//! directory, compile jobs handed to a `distccd` on 127.0.0.1, and builds on a machine with
//! neither installed.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::common::{TestContext, text};
use crate::require_tools;
use crate::wheel::{CROSS, package, report, run_on_target, wheels};

/// `pyx wheel --target armv7l --no-cache -w wh --report REPORT ARGS` with `envs`.
fn build(
    ctx: &TestContext,
    report_name: &str,
    args: &[&str],
    envs: &[(&str, &Path)],
) -> (bool, String) {
    let mut cmd = ctx.pyx();
    cmd.args(["wheel", "--target", "armv7l", "--no-cache", "-w", "wh"])
        .args(["--report", report_name])
        .args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run pyx wheel");
    let (_, stderr) = text(&out);
    (out.status.success(), stderr)
}

fn package_cache(report: &serde_json::Value, name: &str) -> serde_json::Value {
    report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {report}"))["compiler_cache"]
        .clone()
}

#[test]
fn a_rebuild_in_a_new_scratch_dir_is_served_by_ccache() {
    require_tools!(CROSS[0], CROSS[1], "ccache");
    let ctx = TestContext::new();
    let ccache_dir = ctx.path().join("ccache");
    let envs = [("CCACHE_DIR", ccache_dir.as_path())];
    let fixture = package("setuptools_c");
    let (ok, stderr) = build(&ctx, "cold.json", &[&fixture], &envs);
    assert!(ok, "{stderr}");
    let cold = report(&ctx, Path::new("cold.json"));
    assert_eq!(cold["compiler_cache"]["tool"], "ccache");
    assert_eq!(
        cold["compiler_cache"]["dir"],
        serde_json::Value::Null,
        "CCACHE_DIR is the user's: pyx keeps it"
    );
    let name = "pyx-fixture-setuptools-c";
    assert_eq!(package_cache(&cold, name)["misses"], 1, "{cold}");

    // The target's CFLAGS carry -g: the scratch dir must not reach the hash or the binary.
    let (ok, stderr) = build(&ctx, "warm.json", &[&fixture], &envs);
    assert!(ok, "{stderr}");
    let warm = report(&ctx, Path::new("warm.json"));
    assert_eq!(package_cache(&warm, name)["hits"], 1, "{warm}");
    assert_eq!(warm["compiler_cache"]["hit_rate"], 1.0);
    assert!(
        stderr.contains("ccache: 1 of 1 cacheable compiles were hits (100.0%)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cache hits"),
        "the summary has the column: {stderr}"
    );

    let wheel = &wheels(&ctx)[0];
    let mut so = Vec::new();
    let mut zip = zip::ZipArchive::new(std::fs::File::open(wheel).unwrap()).unwrap();
    let index = (0..zip.len())
        .find(|&i| zip.by_index(i).unwrap().name().unwrap().ends_with(".so"))
        .expect("an extension module");
    zip.by_index(index).unwrap().read_to_end(&mut so).unwrap();
    let text = String::from_utf8_lossy(&so);
    assert!(
        !text.contains("/scratch/"),
        "the scratch dir is mapped out of the debug info"
    );
    let out = run_on_target(
        &ctx,
        &wheels(&ctx),
        "import pyx_setuptools_c; print(pyx_setuptools_c.pointer_bits())",
    );
    assert_eq!(out.trim(), "32");
}

/// `ccache --print-stats` of the cache in `dir`, by counter name.
fn ccache_stats(dir: &Path) -> std::collections::BTreeMap<String, u64> {
    let out = Command::new("ccache")
        .arg("--print-stats")
        .env("CCACHE_DIR", dir)
        .output()
        .expect("run ccache --print-stats");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (name, value) = l.split_once('\t')?;
            Some((name.to_string(), value.trim().parse().ok()?))
        })
        .collect()
}

/// meson writes each compile's dependencies (`-MD`): pyx turns on ccache's depend mode, so a
/// miss runs no preprocessor pass of its own, and the rebuild in a new scratch (and meson build)
/// directory still hits.
#[test]
fn a_meson_rebuild_hits_and_its_misses_run_no_preprocessor() {
    require_tools!(CROSS[0], "ccache");
    let ctx = TestContext::new();
    let ccache_dir = ctx.path().join("ccache");
    let envs = [("CCACHE_DIR", ccache_dir.as_path())];
    let fixture = package("meson_c");
    let name = "pyx-fixture-meson-c";
    let (ok, stderr) = build(&ctx, "cold.json", &[&fixture], &envs);
    assert!(ok, "{stderr}");
    let cold = report(&ctx, Path::new("cold.json"));
    assert_eq!(package_cache(&cold, name)["misses"], 1, "{cold}");
    let stats = ccache_stats(&ccache_dir);
    assert_eq!(stats.get("direct_cache_miss"), Some(&1), "{stats:?}");
    assert_eq!(
        stats.get("preprocessed_cache_miss").copied().unwrap_or(0),
        0,
        "depend mode: no preprocessor run on the miss: {stats:?}"
    );
    let (ok, stderr) = build(&ctx, "warm.json", &[&fixture], &envs);
    assert!(ok, "{stderr}");
    let warm = report(&ctx, Path::new("warm.json"));
    assert_eq!(package_cache(&warm, name)["hits"], 1, "{warm}");
}

/// A PATH of links to everything on this one but ccache, sccache and distcc.
fn path_without_launchers(ctx: &TestContext) -> PathBuf {
    let bin = ctx.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = std::env::var_os("PATH").unwrap();
    for dir in std::env::split_paths(&path) {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name();
            let skip = ["ccache", "sccache", "distcc"].iter().any(|n| name == *n);
            let link = bin.join(&name);
            if !skip && !link.exists() {
                let _ = std::os::unix::fs::symlink(entry.path(), link);
            }
        }
    }
    bin
}

#[test]
fn without_ccache_or_distcc_the_build_works_and_says_so_once() {
    require_tools!(CROSS[0], CROSS[1]);
    let ctx = TestContext::new();
    let bin = path_without_launchers(&ctx);
    let python = which::which("python3").unwrap();
    let python = std::fs::canonicalize(python).unwrap();
    // Compilers given by absolute path: an env of its own, whose tools are found on this PATH.
    let cc = which::which(CROSS[0]).unwrap();
    let cxx = which::which("arm-linux-gnueabihf-g++").unwrap();
    let out = ctx
        .pyx()
        .args(["wheel", "--target", "armv7l", "--no-cache", "-w", "wh"])
        .args(["--report", "r.json", "--cc"])
        .arg(&cc)
        .arg("--cxx")
        .arg(&cxx)
        .arg(package("setuptools_c"))
        .env("PATH", &bin)
        .env("PYX_BUILD_PYTHON", python)
        .env("DISTCC_HOSTS", "127.0.0.1:1/2")
        .env_remove("PYX_COMPILER_CACHE")
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let notes: Vec<&str> = stderr.lines().filter(|l| l.starts_with("note:")).collect();
    assert_eq!(
        notes,
        [
            "note: no compiler cache: ccache is not installed (`apt-get install ccache` makes rebuilds fast; `--compiler-cache none` hides this note)",
            "note: `DISTCC_HOSTS` is set, but distcc is not installed: compiling locally",
        ],
        "{stderr}"
    );
    let report = report(&ctx, Path::new("r.json"));
    assert_eq!(report["compiler_cache"], serde_json::Value::Null);
    assert_eq!(report["compiler_launcher"], serde_json::Value::Null);
    assert!(!stderr.contains("cache hits"), "{stderr}");

    let out = ctx
        .pyx()
        .args([
            "wheel",
            "--target",
            "armv7l",
            "-w",
            "wh2",
            "--compiler-cache",
            "ccache",
        ])
        .arg(package("setuptools_c"))
        .env("PATH", &bin)
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains(
            "error: `--compiler-cache ccache` was asked for, and `ccache` is not installed"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: install it (`apt-get install ccache`)"),
        "{stderr}"
    );
}

/// `distccd` on 127.0.0.1 on a port of its own, allowed to serve 127.0.0.1 and to run only the
/// cross compilers (`DISTCC_CMDLIST`); its log goes to `log`. Stopped (with its workers) when
/// dropped.
struct Distccd {
    child: Child,
    port: u16,
}

impl Distccd {
    fn start(dir: &Path, compilers: &[PathBuf], log: &Path) -> Distccd {
        use std::os::unix::process::CommandExt;
        let cmdlist = dir.join("distcc-cmdlist");
        let list: String = compilers
            .iter()
            .map(|c| format!("{}\n", c.display()))
            .collect();
        std::fs::write(&cmdlist, list).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("distccd")
            .args(["--daemon", "--no-detach", "--listen", "127.0.0.1"])
            .args(["--allow", "127.0.0.1", "--jobs", "2", "--log-stderr"])
            .args(["--log-level", "info", "--port", &port.to_string()])
            .env("DISTCC_CMDLIST", &cmdlist)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .process_group(0)
            .spawn()
            .expect("start distccd");
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed().as_secs() < 20,
                "distccd did not listen on {port}: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Distccd { child, port }
    }
}

impl Drop for Distccd {
    fn drop(&mut self) {
        // SIGTERM to its process group: the daemon and the workers it forked.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
        // Its workers hold the listening socket until they have exited too.
        let stopping = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
            && stopping.elapsed().as_secs() < 10
        {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

#[test]
fn compile_jobs_go_to_a_distccd_on_loopback_and_links_stay_local() {
    require_tools!(CROSS[0], CROSS[1], "distcc", "distccd", "ccache");
    let ctx = TestContext::new();
    let compilers = [
        which::which(CROSS[0]).unwrap(),
        which::which("arm-linux-gnueabihf-g++").unwrap(),
    ];
    let log = ctx.path().join("distccd.log");
    let daemon = Distccd::start(ctx.path(), &compilers, &log);
    let hosts = format!("127.0.0.1:{}/2", daemon.port);
    let distcc_dir = ctx.path().join("distcc-state");
    std::fs::create_dir_all(&distcc_dir).unwrap();
    let ccache_dir = ctx.path().join("ccache");
    let fixtures = [package("setuptools_c"), package("meson_c")];
    let args: Vec<&str> = fixtures.iter().map(String::as_str).collect();
    // distcc alone, then ccache in front of it (its misses go to distcc).
    for (report_name, cache) in [("distcc.json", "none"), ("ccache.json", "ccache")] {
        let mut all = args.clone();
        all.extend(["--compiler-cache", cache]);
        let (ok, stderr) = build(
            &ctx,
            report_name,
            &all,
            &[
                ("DISTCC_HOSTS", Path::new(&hosts)),
                ("DISTCC_DIR", &distcc_dir),
                ("CCACHE_DIR", &ccache_dir),
            ],
        );
        assert!(ok, "{stderr}");
        let report = report(&ctx, Path::new(report_name));
        assert_eq!(report["compiler_launcher"]["tool"], "distcc", "{report}");
        assert_eq!(report["compiler_launcher"]["hosts"], hosts.as_str());
        assert_eq!(report["compiler_launcher"]["remote_slots"], 2);
    }
    let served = std::fs::read_to_string(&log).unwrap();
    let jobs: Vec<&str> = served
        .lines()
        .filter(|l| l.contains("COMPILE_OK"))
        .collect();
    for (source, times) in [("pyx_setuptools_c.c", 2), ("pyx_meson_c.c", 2)] {
        let n = jobs.iter().filter(|l| l.contains(source)).count();
        assert_eq!(
            n, times,
            "`{source}` compiled by distccd {times} times:\n{served}"
        );
    }
    let cc = compilers[0].display().to_string();
    assert!(
        jobs.iter().all(|l| l.contains(&cc)),
        "distccd ran the real cross compiler by its absolute name:\n{served}"
    );
    let out = run_on_target(
        &ctx,
        &wheels(&ctx),
        "import pyx_setuptools_c, pyx_meson_c\n\
         print(pyx_setuptools_c.pointer_bits(), pyx_meson_c.long_double_size())",
    );
    assert_eq!(out.trim(), "32 8");
    let port = daemon.port;
    drop(daemon);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "distccd is stopped"
    );
}
