//! pyx's own apt sources: the Debian mirror and keyring the host's sources use (deb822 `.sources`
//! or one-line `.list`), written out for each release pyx provisions from, never the host's lists.

use std::path::{Path, PathBuf};

use crate::env_vars;
use crate::sysroot::release::DebianRelease;

/// Debian's own hosts, when the host's sources name no Debian mirror (an Ubuntu host).
const DEFAULT_ARCHIVE: &str = "http://deb.debian.org/debian";
const DEFAULT_SECURITY: &str = "http://deb.debian.org/debian-security";
const DEBIAN_KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

/// Suite names that say a source is Debian's (with or without `-updates`, `-security` ...).
const DEBIAN_SUITES: &[&str] = &[
    "buster",
    "bullseye",
    "bookworm",
    "trixie",
    "forky",
    "sid",
    "oldoldstable",
    "oldstable",
    "stable",
    "testing",
    "unstable",
];

/// The Debian archives pyx downloads from, and the keyring apt checks them with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirrors {
    /// The main archive (`http://deb.debian.org/debian`).
    pub archive: String,
    /// The security archive (`http://deb.debian.org/debian-security`).
    pub security: String,
    pub signed_by: Option<PathBuf>,
    /// Where `archive` came from: a host sources file, `$PYX_DEBIAN_MIRROR`, or pyx's default.
    pub origin: String,
}

/// One `deb` entry of an apt sources file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Entry {
    uri: String,
    suites: Vec<String>,
    signed_by: Option<String>,
    file: PathBuf,
}

impl Mirrors {
    /// The host's Debian mirrors (`/etc/apt/sources.list`, `sources.list.d/*.list|*.sources`),
    /// with `$PYX_DEBIAN_MIRROR` in place of the main archive when set.
    pub fn from_host() -> Mirrors {
        let mut entries = Vec::new();
        let etc = Path::new("/etc/apt");
        let mut files = vec![etc.join("sources.list")];
        if let Ok(dir) = fs_err::read_dir(etc.join("sources.list.d")) {
            let mut more: Vec<PathBuf> = dir.filter_map(|e| e.ok()).map(|e| e.path()).collect();
            more.sort();
            files.extend(more);
        }
        for file in files {
            let Ok(text) = fs_err::read_to_string(&file) else {
                continue;
            };
            match file.extension().and_then(|e| e.to_str()) {
                Some("sources") => entries.extend(parse_deb822(&text, &file)),
                Some("list") => entries.extend(parse_one_line(&text, &file)),
                _ => {}
            }
        }
        let mut mirrors = Mirrors::from_entries(&entries, Path::new(DEBIAN_KEYRING).is_file());
        if let Some(uri) = std::env::var(env_vars::PYX_DEBIAN_MIRROR)
            .ok()
            .filter(|u| !u.is_empty())
        {
            mirrors.archive = uri.trim_end_matches('/').to_string();
            mirrors.origin = format!("${}", env_vars::PYX_DEBIAN_MIRROR);
        }
        mirrors
    }

    fn from_entries(entries: &[Entry], have_keyring: bool) -> Mirrors {
        let debian = |e: &&Entry, security: bool| {
            e.suites.iter().any(|s| {
                let base = s.split(['-', '/']).next().unwrap_or(s);
                DEBIAN_SUITES.contains(&base) && (s.contains("security") == security)
            })
        };
        let archive = entries.iter().find(|e| debian(e, false));
        let security = entries.iter().find(|e| debian(e, true));
        let keyring = |e: Option<&Entry>| {
            e.and_then(|e| e.signed_by.clone())
                .filter(|k| k.starts_with('/') && !k.contains('\n'))
                .map(PathBuf::from)
        };
        Mirrors {
            archive: archive.map_or(DEFAULT_ARCHIVE.to_string(), |e| e.uri.clone()),
            security: security.map_or(DEFAULT_SECURITY.to_string(), |e| e.uri.clone()),
            signed_by: keyring(archive)
                .or_else(|| have_keyring.then(|| PathBuf::from(DEBIAN_KEYRING))),
            origin: archive.map_or("pyx's default".to_string(), |e| {
                format!("`{}`", e.file.display())
            }),
        }
    }

    /// The deb822 sources of `release` (main component only): its suite and updates from the
    /// main archive, its security suite from the security archive.
    pub fn deb822(&self, release: &DebianRelease) -> String {
        let signed = self
            .signed_by
            .as_ref()
            .map(|k| format!("Signed-By: {}\n", k.display()))
            .unwrap_or_default();
        format!(
            "# Written by pyx for its private apt state; the host's apt sources are not used.\n\
             Types: deb\nURIs: {}\nSuites: {}\nComponents: main\n{signed}\n\
             Types: deb\nURIs: {}\nSuites: {}\nComponents: main\n{signed}",
            self.archive,
            release.suites().join(" "),
            self.security,
            release.security_suite(),
        )
    }
}

/// `Types:`/`URIs:`/`Suites:`/`Signed-By:` stanzas (sources.list(5), DEB822-STYLE FORMAT).
fn parse_deb822(text: &str, file: &Path) -> Vec<Entry> {
    let mut out = Vec::new();
    for stanza in text.split("\n\n") {
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in stanza.lines() {
            if line.starts_with('#') {
                continue;
            }
            if line.starts_with([' ', '\t']) {
                if let Some((_, value)) = fields.last_mut() {
                    value.push('\n');
                    value.push_str(line.trim());
                }
            } else if let Some((k, v)) = line.split_once(':') {
                fields.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let get = |k: &str| fields.iter().find(|(f, _)| f == k).map(|(_, v)| v.clone());
        let enabled = get("enabled").is_none_or(|v| v != "no");
        let is_deb = get("types").is_some_and(|t| t.split_whitespace().any(|t| t == "deb"));
        let Some(uris) = get("uris").filter(|_| enabled && is_deb) else {
            continue;
        };
        for uri in uris.split_whitespace() {
            out.push(Entry {
                uri: uri.trim_end_matches('/').to_string(),
                suites: get("suites")
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(str::to_string)
                    .collect(),
                signed_by: get("signed-by"),
                file: file.to_path_buf(),
            });
        }
    }
    out
}

/// `deb [signed-by=/k.gpg arch=amd64] http://deb.debian.org/debian bookworm main`.
fn parse_one_line(text: &str, file: &Path) -> Vec<Entry> {
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next()?.trim();
            let rest = line.strip_prefix("deb ")?.trim_start();
            let (options, rest) = match rest.strip_prefix('[') {
                Some(r) => r.split_once(']')?,
                None => ("", rest),
            };
            let mut words = rest.split_whitespace();
            let uri = words.next()?.trim_end_matches('/').to_string();
            let suite = words.next()?.to_string();
            let signed_by = options
                .split_whitespace()
                .find_map(|o| o.strip_prefix("signed-by="))
                .map(str::to_string);
            Some(Entry {
                uri,
                suites: vec![suite],
                signed_by,
                file: file.to_path_buf(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sysroot::release::TRIXIE;

    const HOST: &str = "Types: deb\n\
        # http://snapshot.debian.org/archive/debian/20250520T000000Z\n\
        URIs: http://mirror.example/debian/\n\
        Suites: bookworm bookworm-updates\n\
        Components: main\n\
        Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\
        \n\
        Types: deb\n\
        URIs: http://mirror.example/debian-security\n\
        Suites: bookworm-security\n\
        Components: main\n\
        Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n";

    #[test]
    fn the_hosts_deb822_mirror_serves_every_release() {
        let entries = parse_deb822(HOST, Path::new("/etc/apt/sources.list.d/debian.sources"));
        let mirrors = Mirrors::from_entries(&entries, false);
        assert_eq!(mirrors.archive, "http://mirror.example/debian");
        assert_eq!(mirrors.security, "http://mirror.example/debian-security");
        assert_eq!(mirrors.origin, "`/etc/apt/sources.list.d/debian.sources`");
        assert_eq!(
            mirrors.deb822(&TRIXIE),
            "# Written by pyx for its private apt state; the host's apt sources are not used.\n\
             Types: deb\nURIs: http://mirror.example/debian\nSuites: trixie trixie-updates\n\
             Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n\
             Types: deb\nURIs: http://mirror.example/debian-security\nSuites: trixie-security\n\
             Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
        );
    }

    #[test]
    fn one_line_sources_and_foreign_hosts() {
        let list = "deb [arch=amd64 signed-by=/k.gpg] http://ftp.de.debian.org/debian/ bookworm main\n\
                    # deb http://old.example/debian buster main\n\
                    deb http://security.debian.org/debian-security bookworm-security main\n\
                    deb https://deb.nodesource.com/node_20.x nodistro main\n";
        let entries = parse_one_line(list, Path::new("/etc/apt/sources.list"));
        let mirrors = Mirrors::from_entries(&entries, true);
        assert_eq!(mirrors.archive, "http://ftp.de.debian.org/debian");
        assert_eq!(
            mirrors.security,
            "http://security.debian.org/debian-security"
        );
        assert_eq!(mirrors.signed_by, Some(PathBuf::from("/k.gpg")));

        // An Ubuntu host: no Debian suite, so Debian's own hosts and keyring (when installed).
        let ubuntu = parse_one_line(
            "deb http://archive.ubuntu.com/ubuntu jammy main\n",
            Path::new("/etc/apt/sources.list"),
        );
        let mirrors = Mirrors::from_entries(&ubuntu, false);
        assert_eq!(mirrors.archive, DEFAULT_ARCHIVE);
        assert_eq!(mirrors.signed_by, None);
        assert_eq!(mirrors.origin, "pyx's default");
    }
}
