//! What fills a build env: uv when it is installed (`uv pip install --python ENV/bin/python`,
//! measured 4-10x faster than pip on the same requirement sets, `bench/installers`), else the build
//! Python's own pip (`python -m pip --python ENV/bin/python install`). `PYX_INSTALLER` picks one.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::env_vars;

/// The program that installs build requirements into a build env.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installer {
    Uv(PathBuf),
    Pip,
}

impl Installer {
    /// `PYX_INSTALLER`: `uv`, `pip`, a path to uv, or `auto`/unset (uv when on PATH and no pip
    /// configuration file is in force: uv does not read pip's `pip.conf`, so an index set there
    /// would be missed).
    pub fn choose() -> Installer {
        let wanted = std::env::var_os(env_vars::PYX_INSTALLER).unwrap_or_default();
        match wanted.to_str().unwrap_or_default() {
            "pip" => Installer::Pip,
            "uv" => which::which("uv").map_or(Installer::Pip, Installer::Uv),
            path if path.starts_with('/') => Installer::Uv(path.into()),
            _ if pip_config_in_force() => Installer::Pip,
            _ => which::which("uv").map_or(Installer::Pip, Installer::Uv),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Installer::Uv(_) => "uv",
            Installer::Pip => "pip",
        }
    }

    /// The command that installs `requirements` into the venv of `python`, with `index_args`
    /// (`--index-url`, `--extra-index-url`, `--find-links`, `--no-index`: the same for both).
    /// `build_python` runs pip.
    pub fn command(
        &self,
        build_python: &Path,
        python: &Path,
        requirements: &[String],
        index_args: &[String],
    ) -> Command {
        let mut cmd = match self {
            Installer::Uv(uv) => {
                let mut cmd = Command::new(uv);
                cmd.args(["pip", "install", "--quiet", "--python"])
                    .arg(python)
                    .args(pip_env_index_args(index_args));
                cmd
            }
            Installer::Pip => {
                let mut cmd = Command::new(build_python);
                cmd.args(["-m", "pip", "--python"]).arg(python).args([
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                ]);
                cmd
            }
        };
        cmd.args(index_args)
            .args(requirements)
            .env_remove("_PYTHON_SYSCONFIGDATA_NAME")
            .env_remove("_PYTHON_HOST_PLATFORM")
            .env_remove("PYTHONPATH");
        cmd
    }
}

/// pip's index variables (`PIP_INDEX_URL`, `PIP_EXTRA_INDEX_URL`, `PIP_FIND_LINKS`,
/// `PIP_NO_INDEX`) as uv flags, for those the run's own flags do not set: pip would read them, uv
/// does not.
fn pip_env_index_args(index_args: &[String]) -> Vec<OsString> {
    let given = |flag: &str| index_args.iter().any(|a| a == flag);
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let mut out: Vec<OsString> = Vec::new();
    if !given("--index-url")
        && let Some(url) = var("PIP_INDEX_URL")
    {
        out.extend(["--index-url".into(), url]);
    }
    for (name, flag) in [
        ("PIP_EXTRA_INDEX_URL", "--extra-index-url"),
        ("PIP_FIND_LINKS", "--find-links"),
    ] {
        if let Some(value) = var(name) {
            for item in value.to_string_lossy().split_whitespace() {
                out.extend([flag.into(), item.into()]);
            }
        }
    }
    if !given("--no-index")
        && var("PIP_NO_INDEX").is_some_and(|v| !matches!(v.to_str(), Some("0" | "false" | "no")))
    {
        out.push("--no-index".into());
    }
    out
}

/// A pip configuration file pip would read (pip's "Configuration": `PIP_CONFIG_FILE`, the user's
/// and the site-wide files); `PIP_CONFIG_FILE=/dev/null` turns them off.
fn pip_config_in_force() -> bool {
    if let Some(file) = std::env::var_os(env_vars::PIP_CONFIG_FILE) {
        return Path::new(&file) != Path::new("/dev/null") && Path::new(&file).is_file();
    }
    let home = std::env::var_os(env_vars::HOME).map(PathBuf::from);
    let config_home = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".config")));
    let mut files: Vec<PathBuf> = vec!["/etc/pip.conf".into(), "/etc/xdg/pip/pip.conf".into()];
    files.extend(config_home.map(|c| c.join("pip/pip.conf")));
    files.extend(home.map(|h| h.join(".pip/pip.conf")));
    files.iter().any(|f| f.is_file())
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
    fn both_installers_get_the_same_requirements_and_index_flags() {
        let reqs = vec!["setuptools>=77".to_string()];
        let index = vec!["--find-links".to_string(), "/wheels".to_string()];
        let py = Path::new("/envs/x/bin/python");
        let uv = Installer::Uv("/usr/bin/uv".into()).command(Path::new("/py"), py, &reqs, &index);
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
                "--find-links",
                "/wheels",
                "setuptools>=77"
            ]
        );
    }
}
