//! Bytecode of build envs, compiled in the background. An env is installed without it (uv and
//! pip would compile every module before returning: 0.7 s of numpy's 1.2 s env, on both cores,
//! while the sdist unpacks beside it), and the build begins at once; the build Python then
//! compiles the env at low priority (`shims/compile_bytecode.py`) on the core that meson's
//! configure step or a single compile leaves idle. What a hook imports before that is compiled
//! by the import itself, as in any venv; the result is the same bytecode either way, but where
//! the machine sets `PYTHONDONTWRITEBYTECODE` each process compiles it again in memory (meson's
//! start-up: 1.2 s against 0.25 s with bytecode on a slow machine; Cython's is seconds). So the
//! compile takes the env's requirements first, each with what it requires: the backend and its
//! dependencies, which the hooks import at once, then the tools they run (meson, cython). Left to
//! the directory's order, numpy's meson started before mesonbuild was compiled.
//!
//! The compile writes `.pyx-bytecode` into the env when done; an env reused without it (an earlier
//! run ended first) is compiled again, which skips every module whose bytecode is current. A
//! compile still running when `pyx wheel` ends is stopped ([`stop_all`]); other commands wait for
//! theirs before pyx exits ([`wait_all`]).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

/// Written into a build env when its bytecode is complete.
pub const MARKER: &str = ".pyx-bytecode";

const SCRIPT: &str = include_str!("../../shims/compile_bytecode.py");

/// The compiles this process started: env directory and child.
static RUNNING: Mutex<Vec<(PathBuf, Child)>> = Mutex::new(Vec::new());

/// Start compiling the bytecode of the env at `dir` (its interpreter `python`, its modules in
/// `site_packages`) unless it is complete or this process is compiling it already. The modules of
/// `requirements` (the env's requirement set, in its order) and of what they require come first:
/// the hooks import them first.
pub fn compile_in_background(
    dir: &Path,
    python: &Path,
    site_packages: &Path,
    requirements: &[String],
) {
    if dir.join(MARKER).exists() {
        return;
    }
    let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    // reap the compiles that have ended (a long run starts many)
    running.retain_mut(|(_, child)| matches!(child.try_wait(), Ok(None)));
    if running.iter().any(|(d, _)| d == dir) {
        return;
    }
    let child = Command::new(python)
        .args(["-I", "-S", "-c", SCRIPT])
        .arg(site_packages)
        .arg(dir.join(MARKER))
        .args(requirements)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match child {
        Ok(child) => running.push((dir.to_path_buf(), child)),
        // Only speed is lost: imports compile what they load.
        Err(e) => tracing::debug!("cannot compile the bytecode of `{}`: {e}", dir.display()),
    }
}

/// Stop this process's compile of the env at `dir`, if one runs (between two modules: no
/// bytecode file is left half-written); the env stays without its marker.
pub fn stop(dir: &Path) {
    let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    let Some(at) = running.iter().position(|(d, _)| d == dir) else {
        return;
    };
    let (_, mut child) = running.remove(at);
    drop(running);
    if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    }
    let _ = child.wait();
}

/// Stop every compile this process started that still runs: `pyx wheel` does as it ends, so a
/// short run does not wait for one (its hooks wrote the bytecode of what they imported; the rest is
/// compiled by the imports that need it, or by the next run's compile).
pub fn stop_all() {
    let dirs: Vec<PathBuf> = RUNNING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|(dir, _)| dir.clone())
        .collect();
    for dir in dirs {
        stop(&dir);
    }
}

/// Wait for every compile this process started: pyx does before it exits, so no child outlives it
/// writing into a cache that may be removed next, and an env made by `pyx env create` for use by
/// hand has all its bytecode (a machine may set `PYTHONDONTWRITEBYTECODE`, and then every meson
/// process would compile meson again).
pub fn wait_all() {
    let children = std::mem::take(&mut *RUNNING.lock().unwrap_or_else(|e| e.into_inner()));
    for (dir, mut child) in children {
        match child.wait() {
            Ok(status) if !status.success() => {
                tracing::debug!(
                    "bytecode of `{}`: the compile exited with {status}",
                    dir.display()
                )
            }
            Err(e) => tracing::debug!("bytecode of `{}`: {e}", dir.display()),
            Ok(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether this process is still compiling the env at `dir`.
    fn is_compiling(dir: &Path) -> bool {
        let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        running.retain_mut(|(_, child)| matches!(child.try_wait(), Ok(None)));
        running.iter().any(|(d, _)| d == dir)
    }

    /// Until this process's compile of `dir` has ended (two minutes at most).
    fn wait_for(dir: &Path) {
        let started = std::time::Instant::now();
        while is_compiling(dir) && started.elapsed().as_secs() < 120 {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// pyx needs a build Python; the tests run the one on PATH.
    fn python3() -> PathBuf {
        which::which("python3").expect("python3 on PATH")
    }

    #[test]
    fn the_compile_skips_modules_an_extension_shadows_and_marks_the_env() {
        let python = python3();
        let env = tempfile::tempdir().unwrap();
        let site = env.path().join("site-packages");
        let pkg = site.join("pkg");
        fs_err::create_dir_all(&pkg).unwrap();
        fs_err::write(pkg.join("__init__.py"), "X = 1\n").unwrap();
        fs_err::write(pkg.join("pure.py"), "def f():\n    return 2\n").unwrap();
        fs_err::write(pkg.join("fast.py"), "Y = 3\n").unwrap();
        // what `import pkg.fast` loads instead of fast.py
        let suffix = std::process::Command::new(&python)
            .args([
                "-c",
                "import importlib.machinery as m; print(m.EXTENSION_SUFFIXES[0])",
            ])
            .output()
            .unwrap();
        let suffix = String::from_utf8(suffix.stdout).unwrap();
        fs_err::write(pkg.join(format!("fast{}", suffix.trim())), b"").unwrap();
        fs_err::write(pkg.join("broken.py"), "def (:\n").unwrap();

        compile_in_background(env.path(), &python, &site, &[]);
        wait_for(env.path());

        assert!(
            env.path().join(MARKER).is_file(),
            "the env is marked complete"
        );
        let cached: Vec<String> = fs_err::read_dir(pkg.join("__pycache__"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        let has = |stem: &str| cached.iter().any(|n| n.starts_with(&format!("{stem}.")));
        assert!(has("__init__") && has("pure"), "{cached:?}");
        assert!(
            !has("fast"),
            "the shadowed module is not compiled: {cached:?}"
        );
        assert!(!has("broken"), "a syntax error is skipped: {cached:?}");

        // a complete env is not compiled again
        compile_in_background(env.path(), &python, &site, &[]);
        assert!(!is_compiling(env.path()));
    }

    /// The requirements' modules, and those of the distributions they require, are compiled
    /// before the rest of the env; what an extra asks for is not.
    #[test]
    fn the_requirements_and_what_they_require_are_compiled_first() {
        let python = python3();
        let env = tempfile::tempdir().unwrap();
        let site = env.path().join("site-packages");
        let dist = |name: &str, modules: usize, requires: &[&str]| {
            let info = site.join(format!("{name}-1.0.dist-info"));
            fs_err::create_dir_all(&info).unwrap();
            fs_err::create_dir_all(site.join(name)).unwrap();
            let mut record = String::new();
            for m in 0..modules {
                fs_err::write(site.join(format!("{name}/m{m}.py")), "X = 1\n").unwrap();
                record.push_str(&format!("{name}/m{m}.py,,\n"));
            }
            record.push_str(&format!("../../../bin/{name},,\n"));
            let mut metadata = format!("Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n");
            for r in requires {
                metadata.push_str(&format!("Requires-Dist: {r}\n"));
            }
            fs_err::write(info.join("METADATA"), metadata).unwrap();
            fs_err::write(info.join("RECORD"), record).unwrap();
        };
        dist("backend", 3, &["helper>=1", "unrelated; extra == \"docs\""]);
        dist("helper", 2, &[]);
        dist("tool", 4, &[]);
        dist("unrelated", 60, &[]);

        let requirements = ["backend>=1".to_string(), "tool".to_string()];
        compile_in_background(env.path(), &python, &site, &requirements);
        wait_for(env.path());
        assert!(env.path().join(MARKER).is_file());

        let compiled = |name: &str| -> Vec<std::time::SystemTime> {
            fs_err::read_dir(site.join(name).join("__pycache__"))
                .unwrap()
                .map(|e| e.unwrap().metadata().unwrap().modified().unwrap())
                .collect()
        };
        let (backend, helper, tool, rest) = (
            compiled("backend"),
            compiled("helper"),
            compiled("tool"),
            compiled("unrelated"),
        );
        assert_eq!(
            (backend.len(), helper.len(), tool.len(), rest.len()),
            (3, 2, 4, 60)
        );
        let last = |times: &[std::time::SystemTime]| *times.iter().max().unwrap();
        let first = |times: &[std::time::SystemTime]| *times.iter().min().unwrap();
        // the backend's closure (helper has fewer modules: first), then the tool, then the rest
        assert!(last(&helper) <= first(&backend), "helper before backend");
        assert!(last(&backend) <= first(&tool), "backend before tool");
        assert!(
            last(&tool) <= first(&rest),
            "the requirements before the rest"
        );
    }

    /// A compile stopped (as when its env is copied, or pyx exits) leaves no marker and no
    /// half-written file; the next one finishes the env.
    #[test]
    fn a_stopped_compile_leaves_only_whole_bytecode_and_is_finished_later() {
        let python = python3();
        let env = tempfile::tempdir().unwrap();
        let site = env.path().join("site-packages");
        for p in 0..20 {
            let pkg = site.join(format!("pkg{p}"));
            fs_err::create_dir_all(&pkg).unwrap();
            for m in 0..40 {
                let body: String = (0..50)
                    .map(|i| format!("def f{i}(x):\n    return x + {i}\n"))
                    .collect();
                fs_err::write(pkg.join(format!("m{m}.py")), body).unwrap();
            }
        }
        compile_in_background(env.path(), &python, &site, &[]);
        std::thread::sleep(std::time::Duration::from_millis(150));
        stop(env.path());
        assert!(!is_compiling(env.path()));
        assert!(
            !env.path().join(MARKER).exists(),
            "a stopped compile is not complete"
        );
        let leftovers: Vec<_> = walkdir::WalkDir::new(&site)
            .into_iter()
            .map(|e| e.unwrap().into_path())
            .filter(|p| p.parent().is_some_and(|d| d.ends_with("__pycache__")))
            .filter(|p| p.extension() != Some("pyc".as_ref()))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");

        compile_in_background(env.path(), &python, &site, &[]);
        wait_for(env.path());
        assert!(env.path().join(MARKER).is_file());
        assert!(site.join("pkg19/__pycache__").is_dir());
    }
}
