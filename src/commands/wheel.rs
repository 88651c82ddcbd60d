//! `pyx wheel`: requirements → target profile → cross env → resolve/fetch → PEP 517 build → audit
//! → retag → wheelhouse → report (docs/architecture.md).

use std::path::Path;

use anyhow::{Context, Result};

use crate::ExitStatus;
use crate::cli::{GlobalArgs, WheelArgs};
use crate::commands::progress;
use crate::crossenv::CrossEnv;
use crate::crossenv::launcher::{
    CacheCounts, CacheRequest, CacheTool, Launch, LauncherRequest, System,
};
use crate::pep517::ConfigArgs;
use crate::pipeline::host::CrossHost;
use crate::pipeline::{self, PackageReport, Pipeline, Settings};
use crate::platform::TargetProfile;
use crate::printer::{Diagnostic, Level, with_hint};
use crate::requirements::Requirements;
use crate::resolve::index::{FallbackAction, Index};
use crate::wheelhouse::Wheelhouse;

pub fn run(args: WheelArgs, global: &GlobalArgs) -> Result<ExitStatus> {
    let started = std::time::SystemTime::now();
    let requirements = read_requirements(&args)?;
    let settings = settings(&args, &requirements)?;
    // The project pages of the named requirements are fetched while the target is probed.
    let index = Index::new(
        requirements.index.clone(),
        crate::cache::cache_dir().join("downloads"),
    );
    index.prefetch(
        requirements
            .requirements
            .iter()
            .filter_map(|e| match &e.source {
                crate::requirements::Source::Registry(r) => Some(r.name.clone()),
                _ => None,
            }),
    );
    if let Some(path) = &args.report {
        check_report_path(path)?;
    }
    let request = args.target.request();
    let build_python = timed("build Python probed", || request.build_python())?;
    let profile = timed("target read", || {
        TargetProfile::resolve(&request, &build_python)
    })?;
    let env = timed("cross env ready", || {
        CrossEnv::cached(&profile, &build_python, None)
    })?;
    let host = CrossHost {
        env,
        build_python,
        pip_index_args: requirements.index.pip_args(),
    };
    let wheelhouse = Wheelhouse::open(&args.wheel_dir)?;
    if !global.quiet {
        for note in &settings.launch.notes {
            eprint!("{}", Diagnostic::note(note).render());
        }
    }
    let launch = settings.launch.clone();
    let sccache_before = sccache(&launch);
    let reporter = progress::reporter(global);
    let pipeline = Pipeline::new(
        settings,
        &profile,
        &host,
        &wheelhouse,
        reporter.as_ref(),
        index,
    )?;
    let run = pipeline::run(&pipeline, &requirements)?;
    crate::crossenv::bytecode::stop_all();
    drop(reporter);
    let cache_use = CacheUse::of(&launch, &run.packages, sccache_before);

    if let Some(path) = &args.report {
        let timing = Timing::measure(started, &host.env);
        write_report(
            path,
            &profile,
            &wheelhouse,
            &run,
            &timing,
            &launch,
            &cache_use,
        )?;
    }
    let reports = &run.packages;
    for report in reports.iter().filter(|r| r.failed()) {
        eprint!("{}", render_failure(report));
    }
    if !global.quiet {
        eprint!("{}", summary_table(reports));
        if let Some(line) = cache_use.summary_line() {
            eprintln!("{line}");
        }
    }
    let own_root = args.target.sysroot.is_some() || args.target.target_python.is_some();
    let add = || crate::pep517::diagnose::sysroot_add_command(profile.target(), &profile.sysroot);
    if let Some(hint) = dev_packages_hint(reports, add, own_root) {
        eprint!("{hint}");
    }
    for wheel in reports.iter().filter_map(|r| r.wheel.as_ref()) {
        println!("{}", wheel.display());
    }
    Ok(if reports.iter().any(PackageReport::failed) {
        ExitStatus::Findings
    } else {
        ExitStatus::Success
    })
}

/// `f()`, its time said at `-vv`.
fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let started = std::time::Instant::now();
    let out = f();
    tracing::debug!("{what} in {:.2?}", started.elapsed());
    out
}

/// Requirements from the command line and `-r`/`-c` files, with the index flags merged in.
fn read_requirements(args: &WheelArgs) -> Result<Requirements> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let mut reqs = Requirements::default();
    for file in &args.requirement_files {
        reqs.add_file(file)?;
    }
    for file in &args.constraint_files {
        reqs.add_constraints_file(file)?;
    }
    for text in &args.requirements {
        reqs.add_arg(text, &cwd)?;
    }
    reqs.check_hashes().map_err(|e| {
        with_hint(
            e,
            "add `--hash=sha256:...` to each line (`pip-compile --generate-hashes` writes them \
             all), or remove every `--hash` to turn the check off",
        )
    })?;
    if reqs.requirements.is_empty() {
        return Err(with_hint(
            anyhow::anyhow!("nothing to build: no requirements given"),
            "name packages (`pyx wheel numpy msgpack --target armv7l`) or a file (`-r requirements.txt`)",
        ));
    }
    let index = &mut reqs.index;
    if args.index_url.is_some() {
        index.index_url.clone_from(&args.index_url);
    }
    index
        .extra_index_urls
        .extend(args.extra_index_url.iter().cloned());
    index.find_links.extend(args.find_links.iter().cloned());
    index.no_index |= args.no_index;
    index.pre |= args.pre;
    for value in &args.no_binary {
        index.no_binary.add(value).map_err(anyhow::Error::msg)?;
    }
    for value in &args.only_binary {
        index.only_binary.add(value).map_err(anyhow::Error::msg)?;
    }
    Ok(reqs)
}

fn settings(args: &WheelArgs, reqs: &Requirements) -> Result<Settings> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let config = ConfigArgs::parse(&args.config_settings).map_err(|e| {
        with_hint(
            anyhow::anyhow!(e),
            "write `-C key=value` or `-C package:key=value`",
        )
    })?;
    let launch = launch(args)?;
    Ok(Settings {
        jobs: args.jobs.unwrap_or(cores).max(1),
        // Compile jobs of one build also run on the distcc hosts' slots.
        cores: cores + launch.remote_slots(),
        keep_going: args.keep_going,
        no_cache: args.no_cache,
        manylinux: args.manylinux,
        allow_pure_fallback: args.allow_pure_fallback,
        config,
        index: reqs.index.clone(),
        launch,
    })
}

/// `--compiler-cache` and `--compiler-launcher`, checked against what is installed.
fn launch(args: &WheelArgs) -> Result<Launch> {
    let usage = |e: String| with_hint(anyhow::anyhow!(e), "see `pyx wheel --help`");
    let cache: CacheRequest = args.compiler_cache.parse().map_err(usage)?;
    let launcher: LauncherRequest = args.compiler_launcher.parse().map_err(usage)?;
    Launch::choose(&cache, &launcher, &System, &crate::cache::cache_dir()).map_err(|e| {
        let hint = e.hint();
        with_hint(e, hint)
    })
}

/// Where a run's time went: all of it, and the part inside the cross compiler (overlapping
/// compiler calls counted once), from the env's shim log.
struct Timing {
    seconds: f64,
    compiler_seconds: f64,
}

impl Timing {
    fn measure(started: std::time::SystemTime, env: &CrossEnv) -> Timing {
        let since = started
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let calls = env.shim_calls(None).unwrap_or_default();
        let compiles = calls.iter().filter(|c| c.start >= since && c.is_compiler());
        Timing {
            seconds: started.elapsed().map_or(0.0, |d| d.as_secs_f64()),
            compiler_seconds: crate::crossenv::busy_seconds(compiles),
        }
    }
}

/// Refuse a `--report` path that cannot be written before anything is built (the check leaves an
/// existing file as it is and removes the empty one it made). Its directory is made when missing,
/// as the wheelhouse is: `-w wh --report wh/report.json` on a first run.
fn check_report_path(path: &Path) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs_err::create_dir_all(parent)
            .with_context(|| format!("cannot write the report `{}`", path.display()))
            .map_err(|e| with_hint(e, "give `--report` a path in a writable directory"))?;
    }
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .with_context(|| format!("cannot write the report `{}`", path.display()))
        .map_err(|e| with_hint(e, "give `--report` a path in a writable directory"))?;
    if !existed {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// What the compiler cache did in a run: the compiles of the packages built, and its hits and
/// misses (ccache: from each compile; sccache: its server's counts before and after the run).
#[derive(Debug, Clone, PartialEq)]
struct CacheUse {
    tool: Option<&'static str>,
    counts: CacheCounts,
}

impl CacheUse {
    fn of(launch: &Launch, reports: &[PackageReport], sccache_before: Option<(u64, u64)>) -> Self {
        let mut counts = CacheCounts::default();
        for c in reports.iter().filter_map(|r| r.compiler_cache.as_ref()) {
            counts.add(c);
        }
        if let (Some(before), Some(after)) = (sccache_before, sccache(launch)) {
            counts.hits = usize::try_from(after.0.saturating_sub(before.0)).unwrap_or(0);
            counts.misses = usize::try_from(after.1.saturating_sub(before.1)).unwrap_or(0);
        }
        CacheUse {
            tool: launch.cache.as_ref().map(|c| c.tool.as_str()),
            counts,
        }
    }

    /// `ccache: 570 of 571 cacheable compiles were hits (99.8%)`, when the cache saw any.
    fn summary_line(&self) -> Option<String> {
        let tool = self.tool?;
        let rate = self.counts.hit_rate()?;
        let cacheable = self.counts.hits + self.counts.misses;
        Some(format!(
            "{tool}: {} of {cacheable} cacheable compiles were hits ({:.1}%)",
            self.counts.hits,
            100.0 * rate
        ))
    }
}

/// sccache's counts, when it is the compiler cache.
fn sccache(launch: &Launch) -> Option<(u64, u64)> {
    let cache = launch
        .cache
        .as_ref()
        .filter(|c| c.tool == CacheTool::Sccache)?;
    crate::crossenv::launcher::sccache_counts(cache)
}

/// `--report FILE`: the run as JSON.
fn write_report(
    path: &Path,
    profile: &TargetProfile,
    wheelhouse: &Wheelhouse,
    run: &pipeline::RunReport,
    timing: &Timing,
    launch: &Launch,
    cache_use: &CacheUse,
) -> Result<()> {
    let skipped: Vec<_> = run
        .skipped
        .iter()
        .map(
            |(requirement, origin)| serde_json::json!({"requirement": requirement, "from": origin}),
        )
        .collect();
    let json = serde_json::json!({
        "target": profile.target,
        "python": profile.python.version,
        "wheelhouse": wheelhouse.dir(),
        "succeeded": !run.packages.iter().any(PackageReport::failed),
        "seconds": timing.seconds,
        "compiler_seconds": timing.compiler_seconds,
        "compiler_cache": launch.cache.as_ref().map(|c| serde_json::json!({
            "tool": c.tool,
            "program": c.program,
            "dir": c.dir,
            "compiles": cache_use.counts.compiles,
            "hits": cache_use.counts.hits,
            "misses": cache_use.counts.misses,
            "uncacheable": cache_use.counts.uncacheable,
            "hit_rate": cache_use.counts.hit_rate(),
        })),
        "compiler_launcher": launch.distcc.as_ref().map(|d| serde_json::json!({
            "tool": "distcc",
            "program": d.program,
            "hosts": d.hosts.spec,
            "hosts_from": d.hosts.from,
            "remote_slots": d.hosts.remote_slots,
        })),
        "packages": run.packages,
        "skipped": skipped,
    });
    let text = serde_json::to_string_pretty(&json)? + "\n";
    fs_err::write(path, text)
        .with_context(|| format!("cannot write the report `{}`", path.display()))
}

/// A failed package: what, why, where the log is, its last lines, and a hint.
fn render_failure(report: &PackageReport) -> String {
    let version = report
        .version
        .as_deref()
        .map(|v| format!(" {v}"))
        .unwrap_or_default();
    let mut d = Diagnostic::error(format!("`{}`{version} failed", report.name));
    if let Some(f) = &report.failure {
        for cause in f.causes() {
            d = d.cause(cause);
        }
    }
    if let Some(log) = &report.log {
        d = d.field("log", log.display().to_string());
    }
    if let Some(fallback) = &report.pure_fallback {
        d = d.field(
            "built instead of",
            format!(
                "`{}`, a pure-Python fallback (`--allow-pure-fallback` takes it)",
                fallback.wheel
            ),
        );
    }
    d = d.quote(&report.log_tail);
    if let Some(f) = &report.failure {
        d = d.hint(f.hint());
    }
    d.render()
}

/// The closing hint when several packages failed for `-dev` packages the sysroot lacks: one
/// command that adds all of them.
/// `add_command` gives `pyx sysroot add <target>` with the release's `--python` when needed.
fn dev_packages_hint(
    reports: &[PackageReport],
    add_command: impl FnOnce() -> String,
    own_root: bool,
) -> Option<String> {
    let failed: Vec<(&str, &str)> = reports
        .iter()
        .filter_map(|r| Some((r.name.as_str(), r.failure.as_ref()?.dev_package()?)))
        .collect();
    if failed.len() < 2 {
        return None;
    }
    let mut packages: Vec<&str> = failed.iter().map(|(_, p)| *p).collect();
    packages.sort_unstable();
    packages.dedup();
    let list = packages.join(",");
    let hint = if own_root {
        format!(
            "install them into your target root (these are the Debian names: {}), then run \
             `pyx wheel` again",
            packages.join(", ")
        )
    } else {
        format!(
            "add them all at once: run the same `pyx wheel` with `--with {list}`, or \
             `{} --with {list}` first",
            add_command()
        )
    };
    let d = failed.iter().fold(
        Diagnostic::note(format!(
            "{} packages failed for `-dev` packages the sysroot lacks",
            failed.len()
        )),
        |d, (name, package)| d.field(name, format!("`{package}`")),
    );
    Some(d.hint(hint).render())
}

/// The table printed at the end: one row per package.
pub fn summary_table(reports: &[PackageReport]) -> String {
    let cached = reports.iter().any(|r| r.compiler_cache.is_some());
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|r| {
            let result = match (&r.failure, &r.wheel) {
                (Some(_), _) => "FAILED".to_string(),
                (None, Some(w)) => w
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                (None, None) => String::new(),
            };
            let mut row = vec![
                r.name.clone(),
                r.version.clone().unwrap_or_default(),
                r.source.map(|s| s.as_str()).unwrap_or("-").to_string(),
                format!("{:.1}s", r.seconds),
            ];
            if cached {
                row.push(
                    r.compiler_cache
                        .map_or("-".into(), |c| format!("{}/{}", c.hits, c.hits + c.misses)),
                );
            }
            row.push(result);
            row
        })
        .collect();
    let mut header: Vec<String> = ["package", "version", "source", "time"]
        .map(String::from)
        .into();
    if cached {
        header.push("cache hits".into());
    }
    header.push("wheel".into());
    let mut widths = vec![0usize; header.len()];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    let failed = reports.iter().filter(|r| r.failed()).count();
    out.push_str(&format!(
        "{} package(s): {} ok, {failed} failed\n",
        reports.len(),
        reports.len() - failed
    ));
    out.push_str(&fallback_notes(reports));
    out.push_str(&crate::rust::summary_note(reports.iter().filter_map(|r| {
        let version = r.version.as_deref().unwrap_or_default();
        Some((format!("{} {version}", r.name), r.rust.as_ref()?))
    })));
    out.push_str(&system_library_note(reports));
    out
}

/// Below the table: the wheels that load shared libraries from the device's system, which `pip
/// install` does not bring, with the target's packages that ship them.
fn system_library_note(reports: &[PackageReport]) -> String {
    let rows: Vec<&PackageReport> = reports
        .iter()
        .filter(|r| !r.system_libraries.is_empty())
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut packages: Vec<&str> = rows
        .iter()
        .flat_map(|r| &r.system_libraries)
        .filter_map(|l| l.package.as_deref())
        .collect();
    packages.sort();
    packages.dedup();
    let note = rows.iter().fold(
        Diagnostic::note("wheels that load libraries from the device's system (not in the wheel)"),
        |d, r| {
            let libs: Vec<String> = r
                .system_libraries
                .iter()
                .map(|l| match &l.package {
                    Some(p) => format!("{} ({p})", l.soname),
                    None => l.soname.clone(),
                })
                .collect();
            let version = r.version.as_deref().unwrap_or_default();
            d.field(&format!("{} {version}", r.name), libs.join(", "))
        },
    );
    let hint = if packages.is_empty() {
        "install these libraries on the device before the wheels".to_string()
    } else {
        format!(
            "install them on the device before the wheels (Debian: `apt install {}`)",
            packages.join(" ")
        )
    };
    note.hint(&hint).render()
}

/// Below the table: the packages whose only wheel for the target was a pure-Python fallback (a
/// release with binary wheels for other platforms), built from the sdist or taken as they are.
fn fallback_notes(reports: &[PackageReport]) -> String {
    let with = |action: FallbackAction| {
        reports
            .iter()
            .filter_map(move |r| {
                let f = r.pure_fallback.as_ref().filter(|f| f.action == action)?;
                let version = r.version.as_deref().unwrap_or_default();
                Some((format!("{} {version}", r.name), format!("`{}`", f.wheel)))
            })
            .collect::<Vec<_>>()
    };
    let note = |d: Diagnostic, rows: Vec<(String, String)>, hint: &str| {
        if rows.is_empty() {
            return String::new();
        }
        let d = rows
            .into_iter()
            .fold(d, |d, (package, wheel)| d.field(&package, wheel));
        d.hint(hint).render()
    };
    let built = note(
        Diagnostic::note(
            "built from the sdist because the only wheel for the target was a pure-Python fallback \
             (their releases have binary wheels for other platforms)",
        ),
        with(FallbackAction::Built),
        "`--allow-pure-fallback` takes the pure wheels instead",
    );
    let allowed = note(
        Diagnostic::note(
            "pure-Python fallback wheels taken (`--allow-pure-fallback`): their releases have \
             binary wheels for other platforms, none for the target",
        ),
        with(FallbackAction::Allowed),
        "without `--allow-pure-fallback` pyx builds their sdists for the target",
    );
    let no_sdist = note(
        Diagnostic::new(
            Level::Warning,
            "pure-Python fallback wheels taken: their releases have binary wheels for other \
             platforms, none for the target, and no sdist to build",
        ),
        with(FallbackAction::NoSdist),
        "their compiled parts (C speedups) are missing on the target; without \
         `--only-binary`, or with an sdist (`-f DIR`), pyx builds them",
    );
    built + &allowed + &no_sdist
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{Failure, Provenance};

    fn row(
        name: &str,
        source: Provenance,
        wheel: Option<&str>,
        error: Option<&str>,
    ) -> PackageReport {
        let mut r = PackageReport::new(name, "the command line");
        r.version = Some("1.0".into());
        r.source = Some(source);
        r.seconds = 1.25;
        r.wheel = wheel.map(|w| format!("wh/{w}").into());
        r.failure = error.map(|e| Failure::Build {
            error: Box::new(crate::pep517::BuildError::Hook {
                package: name.to_string(),
                hook: "build_wheel",
                message: e.to_string(),
                log: "/cache/logs/armv7l/bad-1.0.log".into(),
            }),
            hint: "the sysroot lacks `ffi.h`".into(),
            dev_package: Some("libffi-dev".into()),
        });
        r
    }

    #[test]
    fn summary_and_failure_rendering() {
        let mut failed = row("bad", Provenance::Built, None, Some("SystemExit: 1"));
        failed.log = Some("/cache/logs/armv7l/bad-1.0.log".into());
        failed.log_tail = vec!["x.c:1:10: fatal error: ffi.h: No such file or directory".into()];
        let six = row(
            "six",
            Provenance::Reused,
            Some("six-1.0-py3-none-any.whl"),
            None,
        );
        let reports = [six, failed];
        insta::assert_snapshot!(summary_table(&reports), @r"
        package  version  source  time  wheel
        six      1.0      reused  1.2s  six-1.0-py3-none-any.whl
        bad      1.0      built   1.2s  FAILED
        2 package(s): 1 ok, 1 failed
        ");
        insta::assert_snapshot!(render_failure(&reports[1]), @r"
        error: `bad` 1.0 failed
          Caused by: `build_wheel` of `bad` failed: SystemExit: 1
          log: /cache/logs/armv7l/bad-1.0.log
          | x.c:1:10: fatal error: ffi.h: No such file or directory
          hint: the sysroot lacks `ffi.h`
        ");
    }

    #[test]
    fn the_summary_shows_compiler_cache_hits_per_package() {
        let mut numpy = row(
            "numpy",
            Provenance::Built,
            Some("numpy-1.0-cp311-cp311-linux_armv7l.whl"),
            None,
        );
        numpy.compiler_cache = Some(CacheCounts {
            compiles: 574,
            hits: 570,
            misses: 1,
            uncacheable: 3,
        });
        let six = row(
            "six",
            Provenance::Reused,
            Some("six-1.0-py3-none-any.whl"),
            None,
        );
        let reports = [numpy, six];
        insta::assert_snapshot!(summary_table(&reports), @r"
        package  version  source  time  cache hits  wheel
        numpy    1.0      built   1.2s  570/571     numpy-1.0-cp311-cp311-linux_armv7l.whl
        six      1.0      reused  1.2s  -           six-1.0-py3-none-any.whl
        2 package(s): 2 ok, 0 failed
        ");
        let launch = Launch {
            cache: Some(crate::crossenv::launcher::CompilerCache {
                tool: CacheTool::Ccache,
                program: "/usr/bin/ccache".into(),
                dir: None,
                depend_mode: true,
            }),
            ..Launch::default()
        };
        let used = CacheUse::of(&launch, &reports, None);
        assert_eq!(used.counts.compiles, 574);
        assert_eq!(
            used.summary_line().unwrap(),
            "ccache: 570 of 571 cacheable compiles were hits (99.8%)"
        );
        assert_eq!(
            CacheUse::of(&Launch::default(), &reports, None).summary_line(),
            None
        );
    }

    #[test]
    fn one_command_adds_every_missing_dev_package() {
        let failed = |name: &str, package: Option<&str>| {
            let mut r = row(name, Provenance::Built, None, Some("SystemExit: 1"));
            if let Some(Failure::Build { dev_package, .. }) = &mut r.failure {
                *dev_package = package.map(str::to_string);
            }
            r
        };
        let ok = row(
            "six",
            Provenance::Reused,
            Some("six-1.0-py3-none-any.whl"),
            None,
        );
        let one = [failed("pillow", Some("zlib1g-dev")), ok];
        assert_eq!(
            dev_packages_hint(&one, || "pyx sysroot add armv7l".into(), false),
            None,
            "its own hint says it"
        );
        let reports = [
            failed("pillow", Some("zlib1g-dev")),
            failed("imagecodecs", Some("libjpeg62-turbo-dev")),
            failed("other", None),
            failed("pillow-heif", Some("zlib1g-dev")),
        ];
        insta::assert_snapshot!(dev_packages_hint(&reports, || "pyx sysroot add armv7l".into(), false).unwrap(), @r"
        note: 3 packages failed for `-dev` packages the sysroot lacks
          pillow:      `zlib1g-dev`
          imagecodecs: `libjpeg62-turbo-dev`
          pillow-heif: `zlib1g-dev`
          hint: add them all at once: run the same `pyx wheel` with `--with libjpeg62-turbo-dev,zlib1g-dev`, or `pyx sysroot add armv7l --with libjpeg62-turbo-dev,zlib1g-dev` first
        ");
        insta::assert_snapshot!(dev_packages_hint(&reports, || "pyx sysroot add armv7l".into(), true).unwrap(), @r"
        note: 3 packages failed for `-dev` packages the sysroot lacks
          pillow:      `zlib1g-dev`
          imagecodecs: `libjpeg62-turbo-dev`
          pillow-heif: `zlib1g-dev`
          hint: install them into your target root (these are the Debian names: libjpeg62-turbo-dev, zlib1g-dev), then run `pyx wheel` again
        ");
    }

    #[test]
    fn the_summary_names_fallback_wheels_built_over_or_taken() {
        use crate::resolve::index::Fallback;
        let fallback = |r: &mut PackageReport, action| {
            r.pure_fallback = Some(Fallback {
                wheel: format!("{}-1.0-py3-none-any.whl", r.name),
                action,
            });
        };
        let mut coverage = row(
            "coverage",
            Provenance::Built,
            Some("coverage-1.0-cp311-cp311-linux_armv7l.whl"),
            None,
        );
        fallback(&mut coverage, FallbackAction::Built);
        let mut bare = row(
            "bare",
            Provenance::Reused,
            Some("bare-1.0-py3-none-any.whl"),
            None,
        );
        fallback(&mut bare, FallbackAction::NoSdist);
        let mut failed = row("broken", Provenance::Built, None, Some("SystemExit: 1"));
        fallback(&mut failed, FallbackAction::Built);
        let reports = [coverage, bare, failed];
        insta::assert_snapshot!(summary_table(&reports), @r"
        package   version  source  time  wheel
        coverage  1.0      built   1.2s  coverage-1.0-cp311-cp311-linux_armv7l.whl
        bare      1.0      reused  1.2s  bare-1.0-py3-none-any.whl
        broken    1.0      built   1.2s  FAILED
        3 package(s): 2 ok, 1 failed
        note: built from the sdist because the only wheel for the target was a pure-Python fallback (their releases have binary wheels for other platforms)
          coverage 1.0: `coverage-1.0-py3-none-any.whl`
          broken 1.0:   `broken-1.0-py3-none-any.whl`
          hint: `--allow-pure-fallback` takes the pure wheels instead
        warning: pure-Python fallback wheels taken: their releases have binary wheels for other platforms, none for the target, and no sdist to build
          bare 1.0: `bare-1.0-py3-none-any.whl`
          hint: their compiled parts (C speedups) are missing on the target; without `--only-binary`, or with an sdist (`-f DIR`), pyx builds them
        ");
        insta::assert_snapshot!(render_failure(&reports[2]), @r"
        error: `broken` 1.0 failed
          Caused by: `build_wheel` of `broken` failed: SystemExit: 1
          built instead of: `broken-1.0-py3-none-any.whl`, a pure-Python fallback (`--allow-pure-fallback` takes it)
          hint: the sysroot lacks `ffi.h`
        ");
    }
}
