//! The shim log (`<env>/pyx/shim-log.jsonl`): one JSON line per shim call, appended by `pyx shim`
//! and read after each build (did it run the compiler, how long did the compiler take).

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One line of the shim log: a shim call while building `package`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShimCall {
    pub package: Option<String>,
    pub tool: String,
    pub args: Vec<String>,
    pub cwd: PathBuf,
    /// Exit code of the real tool; `None` when refused or killed by a signal.
    pub exit: Option<i32>,
    /// The flag the shim refused, if it did.
    pub refused: Option<String>,
    /// The build requirement whose build-machine copy a refused flag read (`numpy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused_package: Option<String>,
    /// When the call started (seconds since the Unix epoch) and how long it took.
    #[serde(default)]
    pub start: f64,
    #[serde(default)]
    pub seconds: f64,
}

impl ShimCall {
    /// A call of the C or C++ compiler (what "the build ran the compiler" means).
    pub fn is_compiler(&self) -> bool {
        matches!(self.tool.as_str(), "cc" | "c++" | "gcc" | "g++")
    }
}

/// Wall-clock seconds covered by at least one of `calls` (overlapping calls counted once).
pub fn busy_seconds<'a>(calls: impl IntoIterator<Item = &'a ShimCall>) -> f64 {
    let mut spans: Vec<(f64, f64)> = calls
        .into_iter()
        .map(|c| (c.start, c.start + c.seconds))
        .collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut total, mut end) = (0.0, f64::MIN);
    for (s, e) in spans {
        if e > end {
            total += e - s.max(end);
            end = e;
        }
    }
    total
}

/// Append one call to the log (best effort: a build never fails because its log could not grow).
pub fn append(path: &Path, call: &ShimCall) {
    let Ok(mut line) = serde_json::to_vec(call) else {
        return;
    };
    line.push(b'\n');
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path);
    if let Ok(mut f) = file {
        let _ = f.write_all(&line);
    }
}

/// The calls logged while building `package` (all calls when `None`); unreadable lines are skipped.
pub fn read(path: &Path, package: Option<&str>) -> std::io::Result<Vec<ShimCall>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut calls = Vec::new();
    for line in std::io::BufReader::new(file).lines() {
        let line = line?;
        let Ok(call) = serde_json::from_str::<ShimCall>(&line) else {
            continue;
        };
        if package.is_none() || call.package.as_deref() == package {
            calls.push(call);
        }
    }
    Ok(calls)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(start: f64, seconds: f64) -> ShimCall {
        ShimCall {
            package: None,
            tool: "cc".into(),
            args: vec![],
            cwd: PathBuf::new(),
            exit: Some(0),
            refused: None,
            refused_package: None,
            start,
            seconds,
        }
    }

    #[test]
    fn overlapping_calls_count_once() {
        let calls = [
            call(10.0, 2.0),
            call(11.0, 2.0),
            call(20.0, 1.0),
            call(20.2, 0.3),
        ];
        assert!((busy_seconds(&calls) - 4.0).abs() < 1e-9);
        assert_eq!(busy_seconds(&[]), 0.0);
    }
}
