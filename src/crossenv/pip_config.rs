//! What pip's configuration says about where to install from, so that uv, which reads neither
//! `pip.conf` nor `PIP_*` variables, can be given the same settings as flags and variables.
//! pip's "Configuration": site-wide files (`$XDG_CONFIG_DIRS/pip/pip.conf`, `/etc/pip.conf`), then
//! the user's (`~/.pip/pip.conf`, `$XDG_CONFIG_HOME/pip/pip.conf`; skipped when `PIP_CONFIG_FILE`
//! names a file), then `PIP_CONFIG_FILE`; in each, `[install]` wins over `[global]`, and `PIP_*`
//! variables win over every file. `PIP_CONFIG_FILE=/dev/null` turns the files off.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::env_vars;

/// Keys pip reads that change nothing about what is installed from where: uv may ignore them.
const WITHOUT_EFFECT: &[&str] = &[
    "break-system-packages",
    "cache-dir",
    "default-timeout",
    "disable-pip-version-check",
    "exists-action",
    "log",
    "log-file",
    "no-cache-dir",
    "no-color",
    "no-input",
    "no-python-version-warning",
    "no-warn-conflicts",
    "no-warn-script-location",
    "progress-bar",
    "quiet",
    "require-virtualenv",
    "retries",
    "root-user-action",
    "timeout",
    "verbose",
];

/// Keys [`PipConfig`] turns into uv flags or variables.
const TRANSLATED: &[&str] = &[
    "cert",
    "client-cert",
    "extra-index-url",
    "find-links",
    "index-url",
    "no-index",
    "proxy",
    "trusted-host",
];

/// The settings of pip's configuration that say where packages come from and how to reach it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PipConfig {
    pub index_url: Option<String>,
    pub extra_index_urls: Vec<String>,
    pub find_links: Vec<String>,
    pub no_index: bool,
    pub trusted_hosts: Vec<String>,
    pub cert: Option<String>,
    pub client_cert: Option<String>,
    pub proxy: Option<String>,
    /// Keys that change what pip installs and have no translation for uv (`only-binary`, `pre`,
    /// `constraint` ...): with one of them set, pip does the install.
    pub untranslated: Vec<String>,
}

impl PipConfig {
    /// pip's configuration as this process's environment and files give it.
    pub fn read() -> PipConfig {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let texts = config_files(&var, &|p: &Path| p.is_file())
            .into_iter()
            .filter_map(|file| std::fs::read_to_string(file).ok());
        let pip_vars = std::env::vars().filter_map(|(name, value)| {
            let key = name
                .strip_prefix("PIP_")?
                .to_ascii_lowercase()
                .replace('_', "-");
            (key != "config-file" && !value.is_empty()).then_some((key, value))
        });
        PipConfig::from_settings(&merge(texts, pip_vars))
    }

    /// The config from merged settings (key → value, pip's key names).
    fn from_settings(settings: &BTreeMap<String, String>) -> PipConfig {
        let one = |key: &str| settings.get(key).map(|v| v.trim().to_string());
        let list = |key: &str| {
            settings
                .get(key)
                .map(|v| v.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default()
        };
        PipConfig {
            index_url: one("index-url"),
            extra_index_urls: list("extra-index-url"),
            find_links: list("find-links"),
            no_index: settings.get("no-index").is_some_and(|v| {
                matches!(
                    v.trim().to_ascii_lowercase().as_str(),
                    "1" | "true" | "yes" | "on"
                )
            }),
            trusted_hosts: list("trusted-host"),
            cert: one("cert"),
            client_cert: one("client-cert"),
            proxy: one("proxy"),
            untranslated: settings
                .keys()
                .filter(|k| !TRANSLATED.contains(&k.as_str()))
                .filter(|k| !WITHOUT_EFFECT.contains(&k.as_str()))
                .cloned()
                .collect(),
        }
    }

    /// uv flags for these settings where the run's own pip flags (`index_args`) leave them open:
    /// the run's `--index-url` wins, extra indexes and find-links add up, as in pip.
    pub fn uv_args(&self, index_args: &[String]) -> Vec<OsString> {
        let given = |flag: &str| index_args.iter().any(|a| a == flag);
        let mut out: Vec<OsString> = Vec::new();
        if let Some(url) = self.index_url.as_ref().filter(|_| !given("--index-url")) {
            out.extend(["--index-url".into(), url.into()]);
        }
        for url in &self.extra_index_urls {
            out.extend(["--extra-index-url".into(), url.into()]);
        }
        // pip warns about a find-links directory that does not exist; uv stops.
        for link in self
            .find_links
            .iter()
            .filter(|l| l.contains("://") || Path::new(l).exists())
        {
            out.extend(["--find-links".into(), link.into()]);
        }
        if self.no_index && !given("--no-index") {
            out.push("--no-index".into());
        }
        for host in &self.trusted_hosts {
            out.extend(["--allow-insecure-host".into(), host.into()]);
        }
        out
    }

    /// Variables uv reads for the certificate and proxy settings, for those `set` says are not
    /// already set.
    pub fn uv_env(&self, set: impl Fn(&str) -> bool) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let mut add = |name: &'static str, value: &Option<String>| {
            if let Some(value) = value.as_ref().filter(|_| !set(name)) {
                out.push((name, value.clone()));
            }
        };
        add(env_vars::SSL_CERT_FILE, &self.cert);
        add(env_vars::SSL_CLIENT_CERT, &self.client_cert);
        add(env_vars::HTTPS_PROXY, &self.proxy);
        add(env_vars::HTTP_PROXY, &self.proxy);
        out
    }
}

/// The configuration files pip reads, in the order it reads them (later ones win); `var` gives
/// environment variables, `exists` says whether a file is there.
fn config_files(
    var: &dyn Fn(&str) -> Option<String>,
    exists: &dyn Fn(&Path) -> bool,
) -> Vec<PathBuf> {
    let config_file = var(env_vars::PIP_CONFIG_FILE);
    if config_file.as_deref() == Some("/dev/null") {
        return Vec::new();
    }
    let mut files: Vec<PathBuf> = var(env_vars::XDG_CONFIG_DIRS)
        .unwrap_or_else(|| "/etc/xdg".to_string())
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join("pip/pip.conf"))
        .collect();
    files.push("/etc/pip.conf".into());
    if !config_file.as_deref().is_some_and(|f| exists(Path::new(f))) {
        let home = var(env_vars::HOME).map(PathBuf::from);
        let config_home = var(env_vars::XDG_CONFIG_HOME)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".config")));
        files.extend(home.map(|h| h.join(".pip/pip.conf")));
        files.extend(config_home.map(|c| c.join("pip/pip.conf")));
    }
    files.extend(config_file.map(PathBuf::from));
    files
}

/// One set of settings from configuration files in reading order and `PIP_*` variables (as
/// key, value): `[install]` over `[global]`, later files over earlier ones, variables over files.
fn merge(
    texts: impl IntoIterator<Item = String>,
    vars: impl IntoIterator<Item = (String, String)>,
) -> BTreeMap<String, String> {
    let (mut global, mut install) = (BTreeMap::new(), BTreeMap::new());
    for text in texts {
        let mut sections = parse_pip_config(&text);
        global.extend(sections.remove("global").unwrap_or_default());
        install.extend(sections.remove("install").unwrap_or_default());
    }
    global.extend(install);
    global.extend(vars);
    global
}

/// The sections of a pip configuration file (INI: `key = value` or `key: value`, `_` and `-` alike
/// in keys, indented lines continue a value, `#` and `;` start comments).
fn parse_pip_config(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut sections: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let (mut section, mut key) = (String::new(), None::<String>);
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            section = name.trim().to_string();
            key = None;
        } else if line.starts_with([' ', '\t']) && key.is_some() {
            let values = sections.entry(section.clone()).or_default();
            if let Some(v) = key.as_ref().and_then(|k| values.get_mut(k)) {
                if !v.is_empty() {
                    v.push(' ');
                }
                v.push_str(trimmed);
            }
        } else if let Some((k, v)) = trimmed.split_once(['=', ':']) {
            let k = k.trim().to_ascii_lowercase().replace('_', "-");
            sections
                .entry(section.clone())
                .or_default()
                .insert(k.clone(), v.trim().to_string());
            key = Some(k);
        }
    }
    sections
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(files: &[&str], vars: &[(&str, &str)]) -> PipConfig {
        let texts = files.iter().map(|t| t.to_string());
        let vars = vars.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        PipConfig::from_settings(&merge(texts, vars))
    }

    fn strings(args: Vec<OsString>) -> Vec<String> {
        args.into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn a_pip_conf_becomes_uv_flags() {
        let text = "# site mirror\n[global]\ncert = /etc/ssl/certs/ca.crt\nindex-url = https://mirror/simple\n\
                    extra-index-url =\n    https://a/simple\n    https://b/simple\n\
                    trusted_host: mirror\ntimeout = 60\n\
                    [install]\nfind_links = /tmp\n[freeze]\nno-index = true\n";
        let sections = parse_pip_config(text);
        assert_eq!(
            sections["global"]["extra-index-url"],
            "https://a/simple https://b/simple"
        );
        let config = merged(&[text], &[]);
        assert_eq!(
            config,
            PipConfig {
                index_url: Some("https://mirror/simple".into()),
                extra_index_urls: vec!["https://a/simple".into(), "https://b/simple".into()],
                find_links: vec!["/tmp".into()],
                trusted_hosts: vec!["mirror".into()],
                cert: Some("/etc/ssl/certs/ca.crt".into()),
                ..PipConfig::default()
            },
            "[freeze] is not read, timeout has no effect"
        );
        assert_eq!(
            strings(config.uv_args(&[])),
            [
                "--index-url",
                "https://mirror/simple",
                "--extra-index-url",
                "https://a/simple",
                "--extra-index-url",
                "https://b/simple",
                "--find-links",
                "/tmp",
                "--allow-insecure-host",
                "mirror"
            ]
        );
        assert_eq!(
            config.uv_env(|_| false),
            [("SSL_CERT_FILE", "/etc/ssl/certs/ca.crt".to_string())]
        );
        assert!(config.uv_env(|name| name == "SSL_CERT_FILE").is_empty());
    }

    #[test]
    fn the_runs_flags_and_pip_variables_win() {
        let config = merged(
            &["[global]\nindex-url = https://a/simple\nno-index = false\n"],
            &[
                ("no-index", "YES"),
                ("find-links", "/nonexistent/links https://b/links"),
            ],
        );
        assert!(config.no_index);
        let args = strings(config.uv_args(&["--index-url".into(), "https://run/simple".into()]));
        assert_eq!(
            args,
            ["--find-links", "https://b/links", "--no-index"],
            "the run's --index-url wins, a missing find-links dir is left out"
        );
        assert!(
            strings(config.uv_args(&["--no-index".into()])).ends_with(&["https://b/links".into()])
        );
    }

    #[test]
    fn install_section_wins_over_global_in_a_later_file() {
        let config = merged(
            &[
                "[install]\nindex-url = https://install/simple\n",
                "[global]\nindex-url = https://global/simple\n",
            ],
            &[],
        );
        assert_eq!(config.index_url.as_deref(), Some("https://install/simple"));
    }

    #[test]
    fn settings_uv_would_miss_are_named() {
        let config = merged(
            &["[install]\nonly-binary = :all:\nretries = 2\n"],
            &[("pre", "1"), ("no-cache-dir", "1")],
        );
        assert_eq!(config.untranslated, ["only-binary", "pre"]);
    }

    #[test]
    fn config_files_in_pips_order() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let files = config_files(&env(&[("HOME", "/home/u")]), &|_| true);
        assert_eq!(
            files,
            [
                "/etc/xdg/pip/pip.conf",
                "/etc/pip.conf",
                "/home/u/.pip/pip.conf",
                "/home/u/.config/pip/pip.conf"
            ]
            .map(PathBuf::from)
        );
        let with_file = env(&[
            ("HOME", "/home/u"),
            ("PIP_CONFIG_FILE", "/ci/pip.conf"),
            ("XDG_CONFIG_DIRS", "/opt/xdg:/etc/xdg"),
        ]);
        assert_eq!(
            config_files(&with_file, &|_| true),
            [
                "/opt/xdg/pip/pip.conf",
                "/etc/xdg/pip/pip.conf",
                "/etc/pip.conf",
                "/ci/pip.conf"
            ]
            .map(PathBuf::from),
            "a PIP_CONFIG_FILE that exists replaces the user's files"
        );
        assert_eq!(
            config_files(&with_file, &|_| false).len(),
            6,
            "one that does not exist does not"
        );
        let off = env(&[("HOME", "/home/u"), ("PIP_CONFIG_FILE", "/dev/null")]);
        assert!(config_files(&off, &|_| true).is_empty());
    }
}
