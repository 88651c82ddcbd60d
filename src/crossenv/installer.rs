//! What fills a build env: uv when it is installed (`uv pip install --python ENV/bin/python`,
//! measured 4-10x faster than pip on the same requirement sets, `bench/installers`), else the build
//! Python's own pip (`python -m pip --python ENV/bin/python install`). `PYX_INSTALLER` picks one.
//! uv is given what pip's configuration says about indexes ([`PipConfig`]); a configuration that
//! sets more than that goes to pip.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::pip_config::PipConfig;
use crate::env_vars;

/// The program that installs build requirements into a build env.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installer {
    /// uv, with the pip configuration it is to follow.
    Uv {
        program: PathBuf,
        pip: Box<PipConfig>,
    },
    Pip,
}

impl Installer {
    /// `PYX_INSTALLER`: `uv`, `pip`, a path to uv, or `auto`/unset (uv when it is on PATH and
    /// pip's configuration sets nothing uv cannot be told). `build_python` runs beside it.
    pub fn choose(build_python: &Path) -> Installer {
        let wanted = std::env::var_os(env_vars::PYX_INSTALLER).unwrap_or_default();
        let uv = |program: PathBuf| Installer::Uv {
            program,
            pip: Box::new(PipConfig::read()),
        };
        let on_path = || which::which("uv").map(|found| past_version_shim(found, build_python));
        match wanted.to_str().unwrap_or_default() {
            "pip" => Installer::Pip,
            path if path.starts_with('/') => uv(path.into()),
            "uv" => on_path().map_or(Installer::Pip, uv),
            _ => match on_path().map(uv) {
                Ok(Installer::Uv { pip, .. }) if !pip.untranslated.is_empty() => {
                    tracing::info!(
                        "pip's configuration sets `{}`, which pyx does not pass on to uv: \
                         build envs are filled by pip (PYX_INSTALLER=uv uses uv anyway)",
                        pip.untranslated.join("`, `")
                    );
                    Installer::Pip
                }
                found => found.unwrap_or(Installer::Pip),
            },
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Installer::Uv { .. } => "uv",
            Installer::Pip => "pip",
        }
    }

    /// The command that installs `requirements` into the venv of `python`, with `index_args`
    /// (`--index-url`, `--extra-index-url`, `--find-links`, `--no-index`: the same for both).
    /// `build_python` runs pip; uv also gets pip's configured indexes, certificates and proxy.
    pub fn command(
        &self,
        build_python: &Path,
        python: &Path,
        requirements: &[String],
        index_args: &[String],
    ) -> Command {
        let mut cmd = match self {
            Installer::Uv { program, pip } => {
                let mut cmd = Command::new(program);
                // No bytecode: it is compiled in the background once the env is in place
                // (`bytecode`), so the build need not wait for it.
                cmd.args(["pip", "install", "--quiet", "--python"])
                    .arg(python)
                    .args(pip.uv_args(index_args))
                    .envs(pip.uv_env(|name| std::env::var_os(name).is_some()));
                cmd
            }
            Installer::Pip => {
                let mut pip = Command::new(build_python);
                pip.args(["-m", "pip", "--python"]).arg(python);
                return pip_install(pip, requirements, index_args);
            }
        };
        cmd.args(index_args).args(requirements);
        for_the_build_machine(&mut cmd);
        cmd
    }
}

/// `pip` (a command that runs pip) made to install `requirements` with `index_args` for the build
/// machine, without bytecode (see [`super::bytecode`]).
pub fn pip_install(mut pip: Command, requirements: &[String], index_args: &[String]) -> Command {
    pip.args([
        "install",
        "-q",
        "--disable-pip-version-check",
        "--no-compile",
    ])
    .args(index_args)
    .args(requirements);
    for_the_build_machine(&mut pip);
    pip
}

/// An installer runs for the build machine, whatever a cross env around pyx says of the target.
fn for_the_build_machine(cmd: &mut Command) {
    cmd.env_remove("_PYTHON_SYSCONFIGDATA_NAME")
        .env_remove("_PYTHON_HOST_PLATFORM")
        .env_remove("PYTHONPATH");
}

/// The uv that `found` runs. A version manager's shim (pyenv's `<root>/shims/uv`: a script that
/// works out the selected version on every call, about 0.1 s each, twice per build) stands for
/// the uv installed beside the interpreter it selects; when that is the build Python's own
/// `bin/uv`, pyx runs that one directly.
fn past_version_shim(found: PathBuf, build_python: &Path) -> PathBuf {
    let in_shims_dir = found
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|d| d == "shims");
    let is_script = || {
        use std::io::Read;
        let mut head = [0u8; 2];
        std::fs::File::open(&found)
            .and_then(|mut f| f.read_exact(&mut head))
            .is_ok_and(|()| &head == b"#!")
    };
    let beside = build_python.with_file_name("uv");
    if in_shims_dir && is_script() && beside.is_file() {
        tracing::debug!(
            "`{}` is a version manager's shim: running `{}`",
            found.display(),
            beside.display()
        );
        return beside;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(cmd: &Command) -> Vec<String> {
        std::iter::once(cmd.get_program())
            .chain(cmd.get_args())
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn a_version_managers_shim_gives_way_to_the_build_pythons_own_uv() {
        let dir = tempfile::tempdir().unwrap();
        let shims = dir.path().join("shims");
        let bin = dir.path().join("versions/3.11.7/bin");
        std::fs::create_dir_all(&shims).unwrap();
        std::fs::create_dir_all(&bin).unwrap();
        let shim = shims.join("uv");
        std::fs::write(&shim, "#!/usr/bin/env bash\nexec pyenv exec uv \"$@\"\n").unwrap();
        let python = bin.join("python3");
        // No uv beside the build Python: the shim stays.
        assert_eq!(past_version_shim(shim.clone(), &python), shim);
        std::fs::write(bin.join("uv"), b"\x7fELF").unwrap();
        assert_eq!(past_version_shim(shim.clone(), &python), bin.join("uv"));
        // A real uv binary is run as found, wherever it is.
        let other = dir.path().join("other/shims");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("uv"), b"\x7fELF").unwrap();
        assert_eq!(
            past_version_shim(other.join("uv"), &python),
            other.join("uv")
        );
        let plain = dir.path().join("uv");
        std::fs::write(&plain, "#!/bin/sh\n").unwrap();
        assert_eq!(past_version_shim(plain.clone(), &python), plain);
    }

    #[test]
    fn both_installers_get_the_same_requirements_and_index_flags() {
        let reqs = vec!["setuptools>=77".to_string()];
        let index = vec!["--find-links".to_string(), "/wheels".to_string()];
        let py = Path::new("/envs/x/bin/python");
        let uv = Installer::Uv {
            program: "/usr/bin/uv".into(),
            pip: Box::default(),
        };
        let uv = uv.command(Path::new("/py"), py, &reqs, &index);
        let uv = argv(&uv);
        assert_eq!(
            uv[..5],
            ["/usr/bin/uv", "pip", "install", "--quiet", "--python"]
        );
        assert!(uv.ends_with(&["--find-links", "/wheels", "setuptools>=77"].map(String::from)));
        let pip = argv(&Installer::Pip.command(Path::new("/py"), py, &reqs, &index));
        assert_eq!(
            pip,
            [
                "/py",
                "-m",
                "pip",
                "--python",
                "/envs/x/bin/python",
                "install",
                "-q",
                "--disable-pip-version-check",
                "--no-compile",
                "--find-links",
                "/wheels",
                "setuptools>=77"
            ]
        );
    }
}
