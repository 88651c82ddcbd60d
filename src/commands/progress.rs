//! Progress for long pipelines: one bar per package on a terminal (package, stage, elapsed, and
//! for a build its compiles, cache hits and `[n/N]`), plain lines otherwise, nothing with `-q`.
//! Everything goes to stderr.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::GlobalArgs;
use crate::pipeline::{BuildProgress, PackageReport, Reporter, Stage};

/// Pick the reporter for this terminal and verbosity.
pub fn reporter(global: &GlobalArgs) -> Box<dyn Reporter> {
    if global.quiet {
        Box::new(Silent)
    } else if std::io::stderr().is_terminal() && global.verbose == 0 {
        Box::new(Bars::new())
    } else {
        Box::new(Lines)
    }
}

struct Silent;

impl Reporter for Silent {
    fn stage(&self, _: &str, _: Stage) {}
    fn finished(&self, _: &PackageReport) {}
}

/// `pyx: <package>: <stage>` lines.
struct Lines;

impl Reporter for Lines {
    fn stage(&self, package: &str, stage: Stage) {
        eprintln!("pyx: {package}: {}", stage.as_str());
    }
    fn finished(&self, report: &PackageReport) {
        eprintln!("pyx: {}", outcome_line(report));
    }
}

/// One spinner per package in progress; a finished package leaves one line.
struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Bars {
    fn new() -> Bars {
        Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(HashMap::new()),
        }
    }
}

impl Reporter for Bars {
    fn stage(&self, package: &str, stage: Stage) {
        let mut bars = self.bars.lock().expect("progress lock");
        let bar = bars.entry(package.to_string()).or_insert_with(|| {
            let bar = self.multi.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix:.bold} {msg} [{elapsed}]")
                    .expect("valid template"),
            );
            bar.set_prefix(package.to_string());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        bar.set_message(stage.as_str());
    }

    fn progress(&self, package: &str, progress: &BuildProgress) {
        let bars = self.bars.lock().expect("progress lock");
        if let Some(bar) = bars.get(package) {
            bar.set_message(building_message(progress));
        }
    }

    fn finished(&self, report: &PackageReport) {
        let mut bars = self.bars.lock().expect("progress lock");
        if let Some(bar) = bars.remove(&report.label) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        let _ = self.multi.println(outcome_line(report));
    }
}

/// The spinner's message while a build runs: `building [52/151], 152 compiles, 140 from the
/// cache`.
pub fn building_message(progress: &BuildProgress) -> String {
    let what = progress.describe();
    if what.is_empty() {
        Stage::Building.as_str().to_string()
    } else {
        format!("{} {what}", Stage::Building.as_str())
    }
}

/// `built markupsafe 3.0.2 (12.3s)` / `failed foo 1.0: <error>`.
pub fn outcome_line(report: &PackageReport) -> String {
    let name = match &report.version {
        Some(v) => format!("{} {v}", report.name),
        None => report.name.clone(),
    };
    match (&report.failure, report.source) {
        (Some(e), _) => format!("failed {name}: {e}"),
        (None, Some(source)) => format!("{} {name} ({:.1}s)", source.as_str(), report.seconds),
        (None, None) => name,
    }
}
