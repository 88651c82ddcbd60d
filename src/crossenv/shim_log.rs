//! The shim log (`<env>/pyx/shim-log.jsonl`): one JSON line per shim call, appended by `pyx shim`
//! and read after each build (did it run the compiler, how long did the compiler take).

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::launcher::CacheOutcome;

/// A host path the shim mapped: the argument (or printed word) as written and what it became,
/// empty when it was dropped.
pub type Mapping = (String, String);

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
    /// Host paths the shim mapped into the sysroot: each argument (or printed word, for a
    /// `*-config` program) as written and what it became, empty when it was dropped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mapped: Vec<Mapping>,
    /// When the call started (seconds since the Unix epoch) and how long it took.
    #[serde(default)]
    pub start: f64,
    #[serde(default)]
    pub seconds: f64,
    /// What the compiler cache made of a compile call (ccache only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheOutcome>,
}

impl ShimCall {
    /// A call of the C or C++ compiler (what "the build ran the compiler" means).
    pub fn is_compiler(&self) -> bool {
        matches!(self.tool.as_str(), "cc" | "c++" | "gcc" | "g++")
    }

    /// A compiler call that compiles (`-c`): what a compiler cache or distcc takes.
    pub fn is_compile(&self) -> bool {
        self.is_compiler() && is_compile_args(&self.args)
    }
}

/// True for the arguments of a compile (`-c`) call, not a link, `-E` or `-M` only.
pub fn is_compile_args<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> bool {
    let has = |flag: &str| args.iter().any(|a| a.as_ref() == flag);
    has("-c") && !has("-E")
}

/// The host paths mapped in `calls`, each pair once, in the order first seen (for `pyx wheel -v`:
/// what a package hard-codes and what pyx made of it). An empty second half means dropped.
pub fn mappings<'a>(calls: impl IntoIterator<Item = &'a ShimCall>) -> Vec<Mapping> {
    let mut seen = std::collections::HashSet::new();
    calls
        .into_iter()
        .flat_map(|c| c.mapped.iter())
        .filter(|pair| seen.insert(*pair))
        .cloned()
        .collect()
}

/// How a shim reports one mapping on stderr (the package's build log) and in `pyx wheel -v`.
pub fn describe_mapping((from, to): &Mapping) -> String {
    if to.is_empty() {
        format!(
            "pyx: dropped `{from}`: the compiler searches that system directory in the sysroot already"
        )
    } else {
        format!("pyx: mapped `{from}` to `{to}` in the sysroot")
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
            mapped: vec![],
            start,
            seconds,
            cache: None,
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

    #[test]
    fn mappings_are_listed_once_in_order() {
        let mut a = call(0.0, 1.0);
        a.mapped = vec![
            ("-I/usr/include/ffi".into(), "-I/sr/usr/include/ffi".into()),
            ("-I/usr/include".into(), String::new()),
        ];
        let mut b = call(1.0, 1.0);
        b.mapped = vec![
            ("-I/usr/include".into(), String::new()),
            ("-L/usr/lib/x86_64-linux-gnu".into(), String::new()),
        ];
        assert_eq!(
            mappings(&[a.clone(), b]),
            vec![
                (
                    "-I/usr/include/ffi".to_string(),
                    "-I/sr/usr/include/ffi".to_string()
                ),
                ("-I/usr/include".to_string(), String::new()),
                ("-L/usr/lib/x86_64-linux-gnu".to_string(), String::new()),
            ]
        );
        let line = serde_json::to_string(&a).unwrap();
        assert!(
            line.contains(
                r#""mapped":[["-I/usr/include/ffi","-I/sr/usr/include/ffi"],["-I/usr/include",""]]"#
            ),
            "{line}"
        );
        let old = r#"{"package":null,"tool":"cc","args":[],"cwd":"/","exit":0,"refused":null}"#;
        assert!(
            serde_json::from_str::<ShimCall>(old)
                .unwrap()
                .mapped
                .is_empty()
        );
        assert_eq!(
            describe_mapping(&a.mapped[0]),
            "pyx: mapped `-I/usr/include/ffi` to `-I/sr/usr/include/ffi` in the sysroot"
        );
    }
}
