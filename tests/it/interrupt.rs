//! Interrupting `pyx wheel` mid-build: SIGTERM and Ctrl-C (SIGINT) stop the PEP 517 hook and
//! what it started and remove the run's temp entries; after `kill -9`, the next run sweeps them.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::{TestContext, fixture, text};
use crate::require_tools;
use crate::wheel::CROSS;

/// A private cache that shares the armv7l sysroot of the usual one (no provisioning).
fn private_cache(ctx: &TestContext) -> PathBuf {
    let out = ctx
        .pyx()
        .args(["sysroot", "path", "armv7l"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    let sysroot = PathBuf::from(text(&out).0.trim());
    let cache = ctx.path().join("cache");
    std::fs::create_dir_all(cache.join("sysroots")).unwrap();
    std::os::unix::fs::symlink(
        &sysroot,
        cache.join("sysroots").join(sysroot.file_name().unwrap()),
    )
    .unwrap();
    cache
}

/// `pyx wheel` of the never-ending fixture, once its hook runs: the child and the hook's pids.
fn start_build(ctx: &TestContext, cache: &Path) -> (std::process::Child, u32, u32) {
    let pids = ctx.path().join("pids");
    let _ = std::fs::remove_file(&pids);
    let child = ctx
        .pyx()
        .env("PYX_CACHE_DIR", cache)
        .env("PYX_FIXTURE_PIDS", &pids)
        .args(["wheel", "--target", "armv7l", "-w", "wh"])
        .arg(fixture("packages/slow_backend"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(180);
    while !pids.exists() {
        assert!(Instant::now() < deadline, "the hook never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    let text = std::fs::read_to_string(&pids).unwrap();
    let mut it = text.split_whitespace().map(|p| p.parse::<u32>().unwrap());
    (child, it.next().unwrap(), it.next().unwrap())
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit_once(')')
            .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
    })
}

fn kill(signal: &str, pid: u32) {
    let ok = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(ok.success());
}

/// Temp entries (`.pyx-tmp-*`, and `.tmp*` as pyx named them before) under `dir`, a few levels
/// deep.
fn temp_entries(dir: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .max_depth(3)
        .into_iter()
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy();
            name.starts_with(".pyx-tmp-") || name.starts_with(".tmp")
        })
        .map(|e| e.into_path())
        .collect()
}

/// After SIGTERM or Ctrl-C of `pyx wheel`, the PEP 517 hook (and its child) kept running and
/// `scratch/.tmp*` stayed in the cache.
#[test]
fn an_interrupted_build_stops_its_hook_and_leaves_no_temp_entries() {
    require_tools!(CROSS[0], CROSS[1]);
    let ctx = TestContext::new();
    let cache = private_cache(&ctx);
    for signal in ["TERM", "INT"] {
        let (mut pyx, hook, grandchild) = start_build(&ctx, &cache);
        assert!(alive(hook) && alive(grandchild));
        assert!(!temp_entries(&cache.join("scratch")).is_empty());
        kill(signal, pyx.id());
        let status = pyx.wait().unwrap();
        let stderr = std::io::read_to_string(pyx.stderr.take().unwrap()).unwrap();
        let number = if signal == "TERM" { 15 } else { 2 };
        assert_eq!(status.signal(), Some(number), "{stderr}");
        assert!(stderr.contains("pyx: interrupted"), "{stderr}");
        let deadline = Instant::now() + Duration::from_secs(5);
        while (alive(hook) || alive(grandchild)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(!alive(hook), "SIG{signal}: the hook is still running");
        assert!(
            !alive(grandchild),
            "SIG{signal}: the hook's child is still running"
        );
        assert_eq!(temp_entries(&cache), Vec::<PathBuf>::new(), "SIG{signal}");
    }
}

/// After `kill -9` of `pyx wheel`, `scratch/.tmp*`, `build-envs/.tmp-*` and
/// `sysroots/.<name>.tmp-PID` stayed in the cache for good (`sysroot add` and `remove` did not
/// remove them). The next run sweeps the entries whose owner is gone.
#[test]
fn the_next_run_sweeps_what_a_killed_run_left() {
    require_tools!(CROSS[0], CROSS[1]);
    let ctx = TestContext::new();
    let cache = private_cache(&ctx);
    let (mut pyx, hook, grandchild) = start_build(&ctx, &cache);
    kill("KILL", pyx.id());
    pyx.wait().unwrap();
    // What was running under the killed pyx is the test's to stop.
    kill("KILL", grandchild);
    kill("KILL", hook);
    let left = temp_entries(&cache.join("scratch"));
    assert!(!left.is_empty());
    let staging = cache.join("sysroots/.armhf-python9.9.tmp-4194304");
    std::fs::create_dir_all(staging.join("usr/lib")).unwrap();
    std::fs::write(cache.join("sysroots/.armhf-python9.9.lock"), "").unwrap();

    let out = ctx
        .pyx()
        .env("PYX_CACHE_DIR", &cache)
        .args(["sysroot", "list"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    assert_eq!(temp_entries(&cache), Vec::<PathBuf>::new());
    assert!(!staging.exists(), "the stale sysroot staging dir is swept");
    let owners: Vec<_> = std::fs::read_dir(cache.join("owners"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        owners.len() <= 1,
        "only the sweeping run's own lock: {owners:?}"
    );
}
