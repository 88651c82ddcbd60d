//! The target's own pip under QEMU (`shims/target_pip.py`): installs into a scratch directory the
//! way a device would, from the wheelhouse only (`--no-index --find-links`) or from an index URL.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde::Deserialize;

use crate::deploy::emulator::TargetRunner;

const SCRIPT: &str = include_str!("../../shims/target_pip.py");

/// Where pip looks for distributions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageSource {
    /// `--no-index --find-links DIR...`: the wheelhouse and nothing else.
    FindLinks(Vec<PathBuf>),
    /// `--index-url URL`, e.g. a `pyx index` served over HTTP.
    Index(String),
}

/// One `pip install` on the target.
#[derive(Debug, Clone)]
pub struct PipInstall {
    pub source: PackageSource,
    /// Wheel files installed by path (pip judges their tags directly).
    pub wheels: Vec<PathBuf>,
    /// Requirement lines in pip's syntax (`name`, `name==1.0 --hash=sha256:...`), read by pip
    /// from a file (`-r`).
    pub requirements: Vec<String>,
    /// Constraint lines (`-c`).
    pub constraints: Vec<String>,
}

/// What the target's pip said and how it ended.
#[derive(Debug, Clone)]
pub struct PipRun {
    pub exit: i32,
    /// pip's stdout and stderr, interleaved as written.
    pub log: String,
    pub pip_version: String,
    /// The target's Python version (`3.11.2`).
    pub python: String,
    /// After a failure: the tags the target accepts, most preferred first.
    pub accepted: Vec<String>,
}

impl PipRun {
    pub fn succeeded(&self) -> bool {
        self.exit == 0
    }

    /// pip's `Successfully installed a-1.0 b-2.0` line.
    pub fn installed_line(&self) -> Option<&str> {
        self.log
            .lines()
            .find(|l| l.starts_with("Successfully installed "))
    }
}

/// Why the target's pip could not be asked at all.
#[derive(Debug, thiserror::Error)]
pub enum PipError {
    #[error("the target's Python {python} has no pip")]
    NoPip { python: String },
    #[error("cannot run the target's Python `{program}`")]
    Start {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the target's pip ended without a reply (exit status {status}); its last words:\n{tail}"
    )]
    NoReply { status: String, tail: String },
    #[error("cannot write pip's input in `{}`", dir.display())]
    Scratch {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
enum Reply {
    Ran {
        exit: i32,
        pip: String,
        python: String,
        #[serde(default)]
        tags: Vec<String>,
    },
    NoPip {
        python: String,
    },
}

impl PipInstall {
    /// Run `pip install` with the target's Python into `site` (`--target`), keeping pip's input,
    /// reply and log in `work`.
    pub fn run(&self, runner: &TargetRunner, site: &Path, work: &Path) -> Result<PipRun, PipError> {
        let scratch = |source| PipError::Scratch {
            dir: work.to_path_buf(),
            source,
        };
        let script = work.join("target_pip.py");
        std::fs::write(&script, SCRIPT).map_err(scratch)?;
        let reply_path = work.join("pip-reply.json");
        let log_path = work.join("pip.log");
        let log = std::fs::File::create(&log_path).map_err(scratch)?;
        let log_err = log.try_clone().map_err(scratch)?;
        let args = self.arguments(site, work).map_err(scratch)?;

        let mut cmd = runner.python();
        cmd.args(["-I", "-B"])
            .arg(&script)
            .arg(&reply_path)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err));
        // The device's pip sees the wheelhouse and nothing of this machine's pip configuration.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("PIP_") {
                cmd.env_remove(name);
            }
        }
        cmd.env(crate::env_vars::PIP_CONFIG_FILE, "/dev/null");
        let status = cmd.status().map_err(|source| PipError::Start {
            program: runner.argv.join(" "),
            source,
        })?;
        let log =
            String::from_utf8_lossy(&std::fs::read(&log_path).unwrap_or_default()).into_owned();
        let reply = std::fs::read(&reply_path)
            .ok()
            .and_then(|r| serde_json::from_slice::<Reply>(&r).ok());
        match reply {
            Some(Reply::Ran {
                exit,
                pip,
                python,
                tags,
            }) => Ok(PipRun {
                exit,
                log,
                pip_version: pip,
                python,
                accepted: tags,
            }),
            Some(Reply::NoPip { python }) => Err(PipError::NoPip { python }),
            None => Err(PipError::NoReply {
                status: status.to_string(),
                tail: tail(&log, 15),
            }),
        }
    }

    /// `install` and its options: only binary wheels, nothing compiled or cached, no user or
    /// site configuration, into `site`.
    fn arguments(&self, site: &Path, work: &Path) -> std::io::Result<Vec<OsString>> {
        let mut args: Vec<OsString> = [
            "install",
            "--isolated",
            "--no-input",
            "--disable-pip-version-check",
            "--no-cache-dir",
            "--no-compile",
            "--only-binary",
            ":all:",
            "--target",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        args.push(site.into());
        match &self.source {
            PackageSource::FindLinks(dirs) => {
                args.push("--no-index".into());
                for dir in dirs {
                    args.push("--find-links".into());
                    args.push(std::path::absolute(dir)?.into());
                }
            }
            PackageSource::Index(url) => {
                args.push("--index-url".into());
                args.push(url.into());
            }
        }
        for (flag, lines, file) in [
            ("-r", &self.requirements, "requirements.txt"),
            ("-c", &self.constraints, "constraints.txt"),
        ] {
            if !lines.is_empty() {
                let path = work.join(file);
                std::fs::write(&path, lines.join("\n") + "\n")?;
                args.push(flag.into());
                args.push(path.into());
            }
        }
        for wheel in &self.wheels {
            args.push(std::path::absolute(wheel)?.into());
        }
        Ok(args)
    }
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Where a target root keeps pip, if it has one (Debian's `python3-pip`, a Buildroot or Yocto
/// image's `site-packages`).
pub fn find_in_sysroot(sysroot: &Path, major_minor: &str) -> Option<PathBuf> {
    [
        "usr/lib/python3/dist-packages".to_string(),
        format!("usr/lib/python{major_minor}/site-packages"),
        format!("usr/lib/python{major_minor}/dist-packages"),
        format!("usr/local/lib/python{major_minor}/dist-packages"),
        format!("usr/local/lib/python{major_minor}/site-packages"),
    ]
    .iter()
    .map(|dir| sysroot.join(dir).join("pip"))
    .find(|pip| pip.join("__init__.py").is_file())
}
