//! What a build's compiles get and what they show: the environment that hands the compiler
//! launchers (ccache, distcc) and the scratch directory to the shims, and progress while the
//! backend runs — compiles so far and cache hits from the shim log, ninja's `[52/151]` from the
//! build log.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::{Pipeline, Reporter};
use crate::crossenv::launcher::CacheOutcome;
use crate::crossenv::shim_log::ShimCall;
use crate::env_vars;

/// How often a running build's logs are read for progress.
const POLL: Duration = Duration::from_millis(1000);

/// How far a running build has come, for the spinner line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildProgress {
    /// Compiler calls with `-c` so far.
    pub compiles: usize,
    /// Of them, served by the compiler cache.
    pub cache_hits: usize,
    /// The backend's own count, `[52/151]` (ninja, meson), when it prints one.
    pub step: Option<(u64, u64)>,
}

impl BuildProgress {
    /// `[52/151], 152 compiles, 140 cache hits`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some((n, total)) = self.step {
            parts.push(format!("[{n}/{total}]"));
        }
        if self.compiles > 0 {
            let s = if self.compiles == 1 { "" } else { "s" };
            parts.push(format!("{} compile{s}", self.compiles));
        }
        if self.cache_hits > 0 {
            parts.push(format!("{} from the cache", self.cache_hits));
        }
        parts.join(", ")
    }

    fn count(&mut self, call: &ShimCall) {
        if call.is_compile() {
            self.compiles += 1;
            if call.cache == Some(CacheOutcome::Hit) {
                self.cache_hits += 1;
            }
        }
    }
}

impl Pipeline<'_> {
    /// The environment of every hook of one build: the compiler launchers chosen for the run and
    /// the build's scratch directory.
    pub(super) fn build_environ(&self, scratch: &Path) -> Vec<(String, String)> {
        let mut env = self.settings.launch.environ();
        env.push((
            env_vars::PYX_BUILD_ROOT.to_string(),
            scratch.display().to_string(),
        ));
        env
    }

    /// Run `build` while a thread reports its progress under `label`: compiles of `package` in
    /// the shim log, `[n/N]` in its build `log`.
    pub(super) fn watching<T>(
        &self,
        label: &str,
        package: &str,
        log: &Path,
        build: impl FnOnce() -> T,
    ) -> T {
        let Some(shim_log) = self.host.shim_log() else {
            return build();
        };
        let stop = AtomicBool::new(false);
        let reporter = self.reporter;
        std::thread::scope(|scope| {
            let watcher = scope.spawn(|| {
                watch(reporter, label, package, &shim_log, log, &stop);
            });
            let out = build();
            stop.store(true, Ordering::Release);
            watcher.thread().unpark();
            out
        })
    }
}

fn watch(
    reporter: &dyn Reporter,
    label: &str,
    package: &str,
    shim_log: &Path,
    build_log: &Path,
    stop: &AtomicBool,
) {
    let mut calls = LogTail::from_end(shim_log);
    let mut output = LogTail::from_start(build_log);
    let mut progress = BuildProgress::default();
    loop {
        std::thread::park_timeout(POLL);
        if stop.load(Ordering::Acquire) {
            return;
        }
        let before = progress.clone();
        for line in calls.new_lines() {
            if let Ok(call) = serde_json::from_str::<ShimCall>(&line)
                && call.package.as_deref() == Some(package)
            {
                progress.count(&call);
            }
        }
        if let Some(step) = output.new_lines().iter().rev().find_map(|l| ninja_step(l)) {
            progress.step = Some(step);
        }
        if progress != before {
            reporter.progress(label, &progress);
        }
    }
}

/// `[52/151]` at the start of a line of ninja's (meson's) output.
pub fn ninja_step(line: &str) -> Option<(u64, u64)> {
    let rest = line.trim_start().strip_prefix('[')?;
    let (inner, _) = rest.split_once(']')?;
    let (n, total) = inner.split_once('/')?;
    let (n, total) = (n.trim().parse().ok()?, total.trim().parse().ok()?);
    (n <= total && total > 0).then_some((n, total))
}

/// The lines appended to a file since the last look (a file that shrank is read again from
/// its start: the build log is rewritten when a build starts).
struct LogTail {
    path: PathBuf,
    offset: u64,
    partial: Vec<u8>,
}

impl LogTail {
    fn from_start(path: &Path) -> LogTail {
        LogTail {
            path: path.to_path_buf(),
            offset: 0,
            partial: Vec::new(),
        }
    }

    fn from_end(path: &Path) -> LogTail {
        let offset = std::fs::metadata(path).map_or(0, |m| m.len());
        LogTail {
            offset,
            ..LogTail::from_start(path)
        }
    }

    fn new_lines(&mut self) -> Vec<String> {
        let Ok(mut file) = std::fs::File::open(&self.path) else {
            return Vec::new();
        };
        let len = file.metadata().map_or(0, |m| m.len());
        if len < self.offset {
            self.offset = 0;
            self.partial.clear();
        }
        let mut bytes = std::mem::take(&mut self.partial);
        if file.seek(SeekFrom::Start(self.offset)).is_err() {
            return Vec::new();
        }
        let Ok(read) = file.read_to_end(&mut bytes) else {
            return Vec::new();
        };
        self.offset += read as u64;
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        self.partial = bytes.split_off(complete);
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_string)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ninja_steps_are_read_from_the_start_of_a_line() {
        assert_eq!(
            ninja_step("[52/151] Compiling C object numpy/_core/x.c.o"),
            Some((52, 151))
        );
        assert_eq!(ninja_step("  [1/3] Linking target"), Some((1, 3)));
        assert_eq!(ninja_step("[ 52%] Building C object"), None);
        assert_eq!(ninja_step("x [1/2]"), None);
        assert_eq!(ninja_step("[3/2] nonsense"), None);
    }

    #[test]
    fn progress_reads_like_a_spinner_line() {
        let p = BuildProgress {
            compiles: 152,
            cache_hits: 140,
            step: Some((52, 151)),
        };
        assert_eq!(p.describe(), "[52/151], 152 compiles, 140 from the cache");
        let one = BuildProgress {
            compiles: 1,
            ..BuildProgress::default()
        };
        assert_eq!(one.describe(), "1 compile");
        assert_eq!(BuildProgress::default().describe(), "");
    }

    #[test]
    fn a_log_tail_gives_complete_new_lines_once() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, "old\n").unwrap();
        let mut tail = LogTail::from_end(&path);
        assert!(tail.new_lines().is_empty());
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        write!(f, "one\ntw").unwrap();
        assert_eq!(tail.new_lines(), ["one"]);
        writeln!(f, "o").unwrap();
        assert_eq!(tail.new_lines(), ["two"]);
        std::fs::write(&path, "new\n").unwrap();
        assert_eq!(tail.new_lines(), ["new"], "a rewritten file is read again");
        assert!(
            LogTail::from_start(&dir.path().join("none"))
                .new_lines()
                .is_empty()
        );
    }
}
