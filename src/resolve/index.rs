//! Finding and downloading distributions: PEP 691/503 simple indexes, `--find-links` directories
//! and pages, chosen for the target (a target wheel, else a pure wheel unless it is only a
//! fallback, else the sdist).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use pep508_rs::PackageName;
use pep508_rs::pep440_rs::{Version, VersionSpecifiers};
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::digest::{sha256_file, sha256_hex};
use crate::platform::tag_policy::TagPolicy;
use crate::requirements::IndexOptions;
use crate::wheel::WheelFilename;

/// The default index when neither `--index-url` nor `$PIP_INDEX_URL` names one.
pub const PYPI: &str = "https://pypi.org/simple";

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("cannot fetch `{url}`")]
    Http {
        url: String,
        #[source]
        source: Box<ureq::Error>,
    },
    #[error("cannot read `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{file}` has sha256 {actual}, expected {expected}")]
    HashMismatch {
        file: String,
        actual: String,
        expected: String,
    },
    #[error(
        "`{}` has sha256:{actual}, which is none of the `--hash` values ({})",
        path.display(),
        allowed.join(", ")
    )]
    HashNotAllowed {
        path: PathBuf,
        actual: String,
        allowed: Vec<String>,
    },
}

/// One file an index or find-links location offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub filename: String,
    /// `https://...` or a local path.
    pub url: String,
    pub sha256: Option<String>,
    pub requires_python: Option<String>,
    pub yanked: bool,
    pub version: Version,
    pub kind: CandidateKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CandidateKind {
    /// A wheel that installs on the target (pure, or built for its platform).
    Wheel {
        pure: bool,
    },
    /// A platform-specific wheel the target cannot install (another CPU, OS or Python): never
    /// chosen, but it shows that its release has compiled parts.
    OtherPlatform,
    Sdist,
}

impl Candidate {
    /// The file an `https://.../foo-1.0.tar.gz#sha256=...` requirement names (its version and
    /// name are known once it is built).
    pub fn from_url(url: &str) -> Candidate {
        let (location, fragment) = url.split_once('#').unwrap_or((url, ""));
        Candidate {
            filename: location.rsplit('/').next().unwrap_or_default().to_string(),
            url: location.to_string(),
            sha256: fragment.strip_prefix("sha256=").map(str::to_string),
            requires_python: None,
            yanked: false,
            version: Version::new([0]),
            kind: CandidateKind::Sdist,
        }
    }
}

/// Check a file against a requirement's `--hash` values (`sha256:<hex>`, as pip writes them);
/// with none given there is nothing to check.
pub fn check_hashes(path: &Path, hashes: &[String]) -> Result<(), IndexError> {
    if hashes.is_empty() {
        return Ok(());
    }
    let actual = sha256_file(path).map_err(|source| IndexError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if hashes
        .iter()
        .any(|h| h.strip_prefix("sha256:") == Some(actual.as_str()))
    {
        return Ok(());
    }
    Err(IndexError::HashNotAllowed {
        path: path.to_path_buf(),
        actual,
        allowed: hashes.to_vec(),
    })
}

/// Turn a file name into a candidate of package `name`, or `None` when it is another package, an
/// unknown archive, or a pure wheel the target cannot install (a platform-specific one is kept
/// as [`CandidateKind::OtherPlatform`]).
pub fn candidate(
    name: &PackageName,
    filename: &str,
    url: String,
    policy: &TagPolicy,
) -> Option<Candidate> {
    let (dist, version, kind) = if filename.ends_with(".whl") {
        let wheel = WheelFilename::from_str(filename).ok()?;
        let pure = wheel.is_pure();
        let kind = match (policy.accepts(&wheel), pure) {
            (true, pure) => CandidateKind::Wheel { pure },
            (false, false) => CandidateKind::OtherPlatform,
            (false, true) => return None,
        };
        (wheel.name, wheel.version, kind)
    } else {
        let stem = [".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz"]
            .iter()
            .find_map(|ext| filename.strip_suffix(ext))?;
        let (dist, version) = stem.rsplit_once('-')?;
        (dist.to_string(), version.to_string(), CandidateKind::Sdist)
    };
    if PackageName::from_str(&dist).ok()? != *name {
        return None;
    }
    Some(Candidate {
        filename: filename.to_string(),
        url,
        sha256: None,
        requires_python: None,
        yanked: false,
        version: Version::from_str(&version).ok()?,
        kind,
    })
}

/// What the chooser may pick for one package.
#[derive(Debug, Clone, Default)]
pub struct Choice<'a> {
    pub specifiers: Vec<&'a VersionSpecifiers>,
    pub pre: bool,
    pub no_binary: bool,
    pub only_binary: bool,
    /// Take a release's pure wheel even when it is only a fallback (`--allow-pure-fallback`).
    pub allow_pure_fallback: bool,
}

/// The file chosen for one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pick<'c> {
    pub file: &'c Candidate,
    /// Set when the release's pure wheel is only a fallback: passed over for the sdist, or taken.
    pub fallback: Option<Fallback>,
}

/// A pure wheel of a release that ships platform-specific wheels (so it has compiled parts) but
/// none for the target: the pure wheel lacks what the other platforms get compiled (C speedups).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fallback {
    /// The pure wheel's file name (`coverage-7.6.1-py3-none-any.whl`).
    pub wheel: String,
    pub action: FallbackAction,
}

/// What was done about a fallback wheel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FallbackAction {
    /// The sdist is built for the target instead.
    Built,
    /// The pure wheel is taken, as `--allow-pure-fallback` asks.
    Allowed,
    /// The pure wheel is taken: the release has no sdist pyx may build (none on the index, or
    /// `--only-binary`).
    NoSdist,
}

/// The best file: the highest allowed version with a usable file; within it a target wheel, else
/// the pure wheel, else the sdist (a wheel is reused, never rebuilt). A pure wheel beside
/// platform-specific wheels of the same release is a [`Fallback`]: the sdist is built instead,
/// unless `allow_pure_fallback` or there is no sdist.
pub fn choose<'c>(
    candidates: &'c [Candidate],
    choice: &Choice<'_>,
    target_python: &Version,
) -> Option<Pick<'c>> {
    let usable = |c: &&Candidate| {
        let kind_ok = match c.kind {
            CandidateKind::Sdist => !choice.only_binary,
            CandidateKind::Wheel { .. } => !choice.no_binary,
            CandidateKind::OtherPlatform => false,
        };
        let python_ok = c.requires_python.as_deref().is_none_or(|rp| {
            VersionSpecifiers::from_str(rp).map_or(true, |s| s.contains(target_python))
        });
        kind_ok && python_ok && choice.specifiers.iter().all(|s| s.contains(&c.version))
    };
    let pinned = choice
        .specifiers
        .iter()
        .any(|s| s.iter().any(|s| s.operator().to_string() == "=="));
    let allowed: Vec<&Candidate> = candidates
        .iter()
        .filter(usable)
        .filter(|c| !c.yanked || pinned)
        .collect();
    let any_final = allowed.iter().any(|c| !c.version.any_prerelease());
    let allowed: Vec<&Candidate> = allowed
        .into_iter()
        .filter(|c| choice.pre || !any_final || !c.version.any_prerelease())
        .collect();
    let version = allowed.iter().map(|c| c.version.clone()).max()?;
    let release: Vec<&Candidate> = allowed
        .into_iter()
        .filter(|c| c.version == version)
        .collect();
    let find = |kind: CandidateKind| release.iter().copied().find(|c| c.kind == kind);
    let pick = |file| {
        Some(Pick {
            file,
            fallback: None,
        })
    };
    if let Some(wheel) = find(CandidateKind::Wheel { pure: false }) {
        return pick(wheel);
    }
    let sdist = find(CandidateKind::Sdist);
    let Some(pure) = find(CandidateKind::Wheel { pure: true }) else {
        return sdist.and_then(pick);
    };
    let compiled = candidates.iter().any(|c| {
        c.version == version
            && matches!(
                c.kind,
                CandidateKind::OtherPlatform | CandidateKind::Wheel { pure: false }
            )
    });
    if !compiled {
        return pick(pure);
    }
    let (file, action) = match sdist {
        _ if choice.allow_pure_fallback => (pure, FallbackAction::Allowed),
        Some(sdist) => (sdist, FallbackAction::Built),
        None => (pure, FallbackAction::NoSdist),
    };
    Some(Pick {
        file,
        fallback: Some(Fallback {
            wheel: pure.filename.clone(),
            action,
        }),
    })
}

/// A client for the indexes and find-links locations of one run.
pub struct Index {
    agent: ureq::Agent,
    options: IndexOptions,
    downloads: PathBuf,
    /// Project pages fetched ahead ([`Index::prefetch`]), by URL.
    pages: Arc<Mutex<HashMap<String, Arc<PageSlot>>>>,
}

/// A project page as the index served it.
#[derive(Clone)]
enum Page {
    Found { json: bool, body: String },
    NotFound,
}

/// A page fetched ahead: `None` once the fetch failed (the page is then fetched again, where its
/// error is reported).
type PageSlot = OnceLock<Option<Page>>;

/// Project pages fetched ahead at once, at most.
const PREFETCH_THREADS: usize = 8;

#[derive(Deserialize)]
struct SimpleJson {
    files: Vec<SimpleFile>,
}

#[derive(Deserialize)]
struct SimpleFile {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: std::collections::HashMap<String, String>,
    #[serde(rename = "requires-python")]
    requires_python: Option<String>,
    #[serde(default)]
    yanked: serde_json::Value,
}

impl Index {
    /// `downloads` is the cache directory files are kept in, by sha256.
    pub fn new(options: IndexOptions, downloads: PathBuf) -> Index {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(300)))
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                    .build(),
            )
            .proxy(ureq::Proxy::try_from_env())
            .build();
        Index {
            agent: config.into(),
            options,
            downloads,
            pages: Arc::default(),
        }
    }

    /// Start fetching the project pages of `names` in the background (a few at a time), so the
    /// resolver finds them ready: the first page arrives while the target is being probed, and the
    /// next package's page while the first one downloads.
    pub fn prefetch(&self, names: impl IntoIterator<Item = PackageName>) {
        let urls: Vec<String> = self
            .index_urls()
            .iter()
            .map(|base| base.trim_end_matches('/').to_string())
            .collect();
        let mut queue = Vec::new();
        {
            let mut pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
            for name in names {
                for base in &urls {
                    let url = format!("{base}/{name}/");
                    if let std::collections::hash_map::Entry::Vacant(v) = pages.entry(url.clone()) {
                        let slot = Arc::new(PageSlot::new());
                        v.insert(slot.clone());
                        queue.push((url, slot));
                    }
                }
            }
        }
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..PREFETCH_THREADS.min(queue.lock().map_or(0, |q| q.len())) {
            let (agent, queue) = (self.agent.clone(), queue.clone());
            std::thread::spawn(move || {
                loop {
                    let next = queue.lock().ok().and_then(|mut q| q.pop());
                    let Some((url, slot)) = next else { break };
                    let _ = slot.set(fetch_page(&agent, &url).ok());
                }
            });
        }
    }

    /// The project page at `url`: the one fetched ahead when there is one (waiting for it while it
    /// is under way), else fetched now.
    fn page(&self, url: &str) -> Result<Page, IndexError> {
        let slot = self
            .pages
            .lock()
            .ok()
            .and_then(|pages| pages.get(url).cloned());
        if let Some(slot) = slot
            && let Some(page) = slot.wait()
        {
            return Ok(page.clone());
        }
        fetch_page(&self.agent, url)
    }

    fn index_urls(&self) -> Vec<String> {
        if self.options.no_index {
            return Vec::new();
        }
        let main = self
            .options
            .index_url
            .clone()
            .or_else(|| {
                std::env::var("PIP_INDEX_URL")
                    .ok()
                    .filter(|u| !u.is_empty())
            })
            .unwrap_or_else(|| PYPI.to_string());
        let mut urls = vec![main];
        urls.extend(self.options.extra_index_urls.iter().cloned());
        urls
    }

    /// Every file any index or find-links location offers for `name` that the target could use.
    pub fn candidates(
        &self,
        name: &PackageName,
        policy: &TagPolicy,
    ) -> Result<Vec<Candidate>, IndexError> {
        let mut out = Vec::new();
        for base in self.index_urls() {
            let url = format!("{}/{}/", base.trim_end_matches('/'), name);
            let Page::Found { json, body } = self.page(&url)? else {
                continue;
            };
            if json {
                let page: SimpleJson = serde_json::from_str(&body).map_err(|e| {
                    http(&url, ureq::Error::Io(std::io::Error::other(e.to_string())))
                })?;
                for f in page.files {
                    let Some(mut c) = candidate(name, &f.filename, f.url, policy) else {
                        continue;
                    };
                    c.sha256 = f.hashes.get("sha256").cloned();
                    c.requires_python = f.requires_python;
                    c.yanked = !matches!(
                        f.yanked,
                        serde_json::Value::Bool(false) | serde_json::Value::Null
                    );
                    out.push(c);
                }
            } else {
                out.extend(parse_html(name, &body, &url, policy));
            }
        }
        for link in &self.options.find_links {
            out.extend(self.find_links(name, link, policy)?);
        }
        Ok(out)
    }

    fn find_links(
        &self,
        name: &PackageName,
        link: &str,
        policy: &TagPolicy,
    ) -> Result<Vec<Candidate>, IndexError> {
        if link.starts_with("http://") || link.starts_with("https://") {
            let body = self
                .agent
                .get(link)
                .call()
                .and_then(|mut r| r.body_mut().read_to_string())
                .map_err(|e| http(link, e))?;
            return Ok(parse_html(name, &body, link, policy));
        }
        let dir = Path::new(link.strip_prefix("file://").unwrap_or(link));
        let Ok(entries) = std::fs::read_dir(dir) else {
            tracing::warn!("find-links directory `{}` does not exist", dir.display());
            return Ok(Vec::new());
        };
        Ok(entries
            .flatten()
            .filter_map(|e| {
                let file = e.file_name().to_string_lossy().into_owned();
                candidate(name, &file, e.path().display().to_string(), policy)
            })
            .collect())
    }

    /// The candidate's file in the download cache, fetched (and its hash checked) when missing. A
    /// cached file is checked against the index's sha256 (or the one recorded when it was
    /// downloaded) each time it is reused; a damaged one is dropped with a warning and fetched
    /// again.
    pub fn download(&self, c: &Candidate) -> Result<PathBuf, IndexError> {
        if !c.url.contains("://") {
            return Ok(PathBuf::from(&c.url));
        }
        let key = match &c.sha256 {
            Some(h) => h.clone(),
            None => sha256_hex(c.url.as_bytes()),
        };
        let dir = self.downloads.join(&key[..2]).join(&key);
        let path = dir.join(&c.filename);
        let recorded = dir.join(format!("{}.sha256", c.filename));
        if path.is_file() {
            let expected = c.sha256.clone().or_else(|| {
                let text = std::fs::read_to_string(&recorded).ok()?;
                Some(text.trim().to_string())
            });
            let Some(expected) = expected else {
                return Ok(path);
            };
            match sha256_file(&path) {
                Ok(actual) if actual == expected => return Ok(path),
                Ok(actual) => tracing::warn!(
                    "the cached download `{}` is damaged (sha256 {actual}, expected {expected}); \
                     downloading it again",
                    path.display()
                ),
                Err(e) => tracing::warn!(
                    "the cached download `{}` cannot be read ({e}); downloading it again",
                    path.display()
                ),
            }
            let _ = fs_err::remove_file(&path);
        }
        let io = |source| IndexError::Io {
            path: path.clone(),
            source,
        };
        fs_err::create_dir_all(&dir).map_err(io)?;
        let mut response = self.agent.get(&c.url).call().map_err(|e| http(&c.url, e))?;
        let mut tmp = crate::tempfiles::file_in(&dir, "download").map_err(io)?;
        std::io::copy(&mut response.body_mut().as_reader(), &mut tmp).map_err(io)?;
        let actual = sha256_file(tmp.path()).map_err(io)?;
        if let Some(expected) = &c.sha256
            && &actual != expected
        {
            return Err(IndexError::HashMismatch {
                file: c.filename.clone(),
                actual,
                expected: expected.clone(),
            });
        }
        crate::files::write_if_changed(&recorded, &format!("{actual}\n"))
            .map_err(|e| io(std::io::Error::other(format!("{e:#}"))))?;
        tmp.persist(&path).map_err(|e| io(e.error))?;
        Ok(path)
    }
}

/// GET a project page, JSON (PEP 691) preferred; a 404 is a page without files.
fn fetch_page(agent: &ureq::Agent, url: &str) -> Result<Page, IndexError> {
    let mut response = match agent
        .get(url)
        .header(
            "Accept",
            "application/vnd.pypi.simple.v1+json, text/html;q=0.1",
        )
        .call()
    {
        Ok(r) => r,
        Err(ureq::Error::StatusCode(404)) => return Ok(Page::NotFound),
        Err(e) => return Err(http(url, e)),
    };
    let json = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let body = response
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .map_err(|e| http(url, e))?;
    Ok(Page::Found { json, body })
}

fn http(url: &str, e: ureq::Error) -> IndexError {
    IndexError::Http {
        url: url.to_string(),
        source: Box::new(e),
    }
}

/// Links of a PEP 503 page or a find-links HTML page.
fn parse_html(name: &PackageName, body: &str, base: &str, policy: &TagPolicy) -> Vec<Candidate> {
    static ANCHOR: OnceLock<Regex> = OnceLock::new();
    let anchor = ANCHOR.get_or_init(|| Regex::new(r#"(?is)<a\s([^>]*)>"#).unwrap());
    let attr = |tag: &str, key: &str| {
        Regex::new(&format!(r#"(?i){key}\s*=\s*"([^"]*)""#))
            .unwrap()
            .captures(tag)
            .map(|c| html_unescape(&c[1]))
    };
    let mut out = Vec::new();
    for cap in anchor.captures_iter(body) {
        let tag = &cap[1];
        let Some(href) = attr(tag, "href") else {
            continue;
        };
        let (location, fragment) = href.split_once('#').unwrap_or((&href, ""));
        let filename = location.rsplit('/').next().unwrap_or_default().to_string();
        let url = join_url(base, location);
        let Some(mut c) = candidate(name, &filename, url, policy) else {
            continue;
        };
        c.sha256 = fragment.strip_prefix("sha256=").map(str::to_string);
        c.requires_python = attr(tag, "data-requires-python");
        c.yanked = tag.to_ascii_lowercase().contains("data-yanked");
        out.push(c);
    }
    out
}

fn html_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn join_url(base: &str, href: &str) -> String {
    match url::Url::parse(base).and_then(|b| b.join(href)) {
        Ok(u) => u.to_string(),
        Err(_) => href.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A simple index on 127.0.0.1 that serves one project page (`demo`) and counts requests.
    fn local_index() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use std::io::{BufRead, Write};
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/simple", listener.local_addr().unwrap());
        let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let served = count.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                let mut first = String::new();
                let _ = reader.read_line(&mut first);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                served.fetch_add(1, Ordering::SeqCst);
                let (status, body) = if first.contains("/simple/demo/") {
                    let file = r#"{"filename": "demo-1.0.tar.gz", "url": "demo-1.0.tar.gz", "hashes": {}}"#;
                    (
                        "200 OK",
                        format!(r#"{{"meta": {{"api-version": "1.0"}}, "files": [{file}]}}"#),
                    )
                } else {
                    ("404 Not Found", String::new())
                };
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/vnd.pypi.simple.v1+json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        (url, count)
    }

    #[test]
    fn pages_fetched_ahead_are_used_and_not_fetched_again() {
        use std::sync::atomic::Ordering;
        let (url, served) = local_index();
        let options = IndexOptions {
            index_url: Some(url),
            ..IndexOptions::default()
        };
        let downloads = tempfile::tempdir().unwrap();
        let index = Index::new(options, downloads.path().to_path_buf());
        index.prefetch([name("demo"), name("missing")]);
        let asked = std::time::Instant::now();
        while served.load(Ordering::SeqCst) < 2 {
            assert!(
                asked.elapsed().as_secs() < 10,
                "the pages were not fetched ahead"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let demo = index.candidates(&name("demo"), &policy()).unwrap();
        assert_eq!(demo.len(), 1);
        assert_eq!(demo[0].filename, "demo-1.0.tar.gz");
        assert!(
            index
                .candidates(&name("missing"), &policy())
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            served.load(Ordering::SeqCst),
            2,
            "each page fetched once, ahead"
        );
        index.candidates(&name("demo"), &policy()).unwrap();
        assert_eq!(served.load(Ordering::SeqCst), 2, "and kept for the run");
        assert!(
            index
                .candidates(&name("other"), &policy())
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            served.load(Ordering::SeqCst),
            3,
            "a page not fetched ahead is fetched now"
        );
    }

    fn policy() -> TagPolicy {
        TagPolicy {
            python: (3, 11),
            target: crate::platform::Target::lookup("armv7l").unwrap(),
            glibc: Some(crate::platform::GlibcVersion::new(2, 36)),
        }
    }

    fn name(n: &str) -> PackageName {
        PackageName::from_str(n).unwrap()
    }

    fn files(list: &[&str]) -> Vec<Candidate> {
        list.iter()
            .filter_map(|f| candidate(&name("foo"), f, format!("https://x/{f}"), &policy()))
            .collect()
    }

    #[test]
    fn target_tags() {
        let ok = [
            "foo-1.0-py3-none-any.whl",
            "foo-1.0-cp311-cp311-linux_armv7l.whl",
            "foo-1.0-cp311-cp311-manylinux_2_31_armv7l.whl",
            "foo-1.0-cp38-abi3-manylinux2014_armv7l.whl",
            "foo-1.0-py2.py3-none-any.whl",
            "foo-1.0.tar.gz",
        ];
        let other_platform = [
            "foo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
            "foo-1.0-cp311-cp311-linux_arm.whl",
            "foo-1.0-cp311-cp311-manylinux_2_39_armv7l.whl",
            "foo-1.0-cp312-cp312-linux_armv7l.whl",
            "foo-1.0-cp310-cp310-linux_armv7l.whl",
            "foo-1.0-cp312-abi3-linux_armv7l.whl",
            "foo-1.0-cp311-cp311-win_amd64.whl",
        ];
        let refused = [
            "foo-1.0-py2-none-any.whl",
            "foobar-1.0.tar.gz",
            "foo-1.0.exe",
        ];
        assert_eq!(files(&ok).len(), ok.len());
        assert!(
            files(&ok)
                .iter()
                .all(|c| c.kind != CandidateKind::OtherPlatform)
        );
        let others = files(&other_platform);
        assert_eq!(others.len(), other_platform.len());
        assert!(
            others
                .iter()
                .all(|c| c.kind == CandidateKind::OtherPlatform)
        );
        assert!(files(&refused).is_empty(), "{:?}", files(&refused));
    }

    /// coverage's page: a pure wheel and an sdist beside binary wheels for other platforms.
    const COVERAGE_LIKE: [&str; 5] = [
        "foo-2.0-py3-none-any.whl",
        "foo-2.0.tar.gz",
        "foo-2.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        "foo-2.0-cp311-cp311-win_amd64.whl",
        "foo-1.0-cp311-cp311-linux_armv7l.whl",
    ];

    #[test]
    fn a_pure_wheel_beside_other_platforms_wheels_is_a_fallback_and_the_sdist_is_built() {
        let py = Version::from_str("3.11.2").unwrap();
        let all = files(&COVERAGE_LIKE);
        let pick = choose(&all, &Choice::default(), &py).unwrap();
        assert_eq!(pick.file.filename, "foo-2.0.tar.gz");
        assert_eq!(
            pick.fallback,
            Some(Fallback {
                wheel: "foo-2.0-py3-none-any.whl".into(),
                action: FallbackAction::Built,
            })
        );

        let allow = Choice {
            allow_pure_fallback: true,
            ..Choice::default()
        };
        let pick = choose(&all, &allow, &py).unwrap();
        assert_eq!(pick.file.filename, "foo-2.0-py3-none-any.whl");
        assert_eq!(pick.fallback.unwrap().action, FallbackAction::Allowed);

        let only_binary = Choice {
            only_binary: true,
            ..Choice::default()
        };
        let pick = choose(&all, &only_binary, &py).unwrap();
        assert_eq!(pick.file.filename, "foo-2.0-py3-none-any.whl");
        assert_eq!(pick.fallback.unwrap().action, FallbackAction::NoSdist);

        let no_binary = Choice {
            no_binary: true,
            ..Choice::default()
        };
        let pick = choose(&all, &no_binary, &py).unwrap();
        assert_eq!(pick.file.filename, "foo-2.0.tar.gz");
        assert_eq!(pick.fallback, None, "--no-binary builds it anyway");
    }

    #[test]
    fn a_fallback_without_an_sdist_is_taken() {
        let py = Version::from_str("3.11.2").unwrap();
        let all = files(&[
            "foo-2.0-py3-none-any.whl",
            "foo-2.0-cp312-cp312-manylinux_2_17_aarch64.whl",
        ]);
        let pick = choose(&all, &Choice::default(), &py).unwrap();
        assert_eq!(pick.file.filename, "foo-2.0-py3-none-any.whl");
        assert_eq!(pick.fallback.unwrap().action, FallbackAction::NoSdist);
    }

    #[test]
    fn a_pure_release_or_a_target_wheel_is_no_fallback() {
        let py = Version::from_str("3.11.2").unwrap();
        let pure = files(&["foo-2.0-py3-none-any.whl", "foo-2.0.tar.gz"]);
        let pick = choose(&pure, &Choice::default(), &py).unwrap();
        assert_eq!(pick.file.filename, "foo-2.0-py3-none-any.whl");
        assert_eq!(pick.fallback, None);

        let mut with_target = files(&COVERAGE_LIKE);
        with_target.extend(files(&["foo-2.0-cp311-cp311-manylinux_2_31_armv7l.whl"]));
        let pick = choose(&with_target, &Choice::default(), &py).unwrap();
        assert_eq!(
            pick.file.filename,
            "foo-2.0-cp311-cp311-manylinux_2_31_armv7l.whl"
        );
        assert_eq!(pick.fallback, None);

        // Platform wheels of another release say nothing about this one.
        let older = files(&[
            "foo-2.0-py3-none-any.whl",
            "foo-2.0.tar.gz",
            "foo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        ]);
        let pick = choose(&older, &Choice::default(), &py).unwrap();
        assert_eq!(pick.file.filename, "foo-2.0-py3-none-any.whl");
        assert_eq!(pick.fallback, None);
    }

    #[test]
    fn other_platform_wheels_are_never_chosen() {
        let py = Version::from_str("3.11.2").unwrap();
        let all = files(&[
            "foo-3.0-cp311-cp311-manylinux_2_17_x86_64.whl",
            "foo-2.0.tar.gz",
        ]);
        let pick = choose(&all, &Choice::default(), &py).unwrap();
        assert_eq!(pick.file.filename, "foo-2.0.tar.gz");
        let only = files(&["foo-3.0-cp311-cp311-manylinux_2_17_x86_64.whl"]);
        assert!(choose(&only, &Choice::default(), &py).is_none());
    }

    #[test]
    fn chooses_newest_version_then_wheel_over_sdist() {
        let all = files(&[
            "foo-1.0-py3-none-any.whl",
            "foo-2.0.tar.gz",
            "foo-2.0-cp311-cp311-linux_armv7l.whl",
            "foo-2.1b1.tar.gz",
        ]);
        let py = Version::from_str("3.11.2").unwrap();
        let pick = choose(&all, &Choice::default(), &py).unwrap();
        assert_eq!(pick.file.filename, "foo-2.0-cp311-cp311-linux_armv7l.whl");

        let no_binary = Choice {
            no_binary: true,
            ..Choice::default()
        };
        assert_eq!(
            choose(&all, &no_binary, &py).unwrap().file.filename,
            "foo-2.0.tar.gz"
        );

        let pre = Choice {
            pre: true,
            ..Choice::default()
        };
        assert_eq!(
            choose(&all, &pre, &py).unwrap().file.filename,
            "foo-2.1b1.tar.gz"
        );

        let spec = VersionSpecifiers::from_str("<2").unwrap();
        let pinned = Choice {
            specifiers: vec![&spec],
            ..Choice::default()
        };
        assert_eq!(
            choose(&all, &pinned, &py).unwrap().file.filename,
            "foo-1.0-py3-none-any.whl"
        );
        let only = Choice {
            only_binary: true,
            specifiers: vec![&spec],
            ..Choice::default()
        };
        assert!(choose(&files(&["foo-1.0.tar.gz"]), &only, &py).is_none());
    }

    #[test]
    fn requires_python_and_yanked() {
        let mut all = files(&["foo-1.0.tar.gz", "foo-2.0.tar.gz", "foo-3.0.tar.gz"]);
        all[1].yanked = true;
        all[2].requires_python = Some(">=3.12".into());
        let py = Version::from_str("3.11.2").unwrap();
        assert_eq!(
            choose(&all, &Choice::default(), &py).unwrap().file.filename,
            "foo-1.0.tar.gz"
        );
        let spec = VersionSpecifiers::from_str("==2.0").unwrap();
        let pinned = Choice {
            specifiers: vec![&spec],
            ..Choice::default()
        };
        assert_eq!(
            choose(&all, &pinned, &py).unwrap().file.filename,
            "foo-2.0.tar.gz"
        );
    }

    #[test]
    fn direct_urls_and_hash_checks() {
        let c = Candidate::from_url("https://h/x/demo-1.0.tar.gz#sha256=ab12");
        assert_eq!(c.filename, "demo-1.0.tar.gz");
        assert_eq!(c.url, "https://h/x/demo-1.0.tar.gz");
        assert_eq!(c.sha256.as_deref(), Some("ab12"));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"abc").unwrap();
        let good = format!("sha256:{}", sha256_hex(b"abc"));
        assert!(check_hashes(&file, &[]).is_ok());
        assert!(check_hashes(&file, &["sha256:00".into(), good]).is_ok());
        let err = check_hashes(&file, &["sha256:00".into()]).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("which is none of the `--hash` values (sha256:00)"),
            "{err}"
        );
    }

    #[test]
    fn html_pages() {
        let body = r#"<html><body>
            <a href="../../files/foo-1.0.tar.gz#sha256=abcd" data-requires-python="&gt;=3.8">foo-1.0.tar.gz</a>
            <a href="https://cdn/foo-1.1-py3-none-any.whl" data-yanked="">x</a>
            <a href="other-1.0.tar.gz">other</a>
        </body></html>"#;
        let found = parse_html(&name("foo"), body, "https://idx/simple/foo/", &policy());
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].url, "https://idx/files/foo-1.0.tar.gz");
        assert_eq!(found[0].sha256.as_deref(), Some("abcd"));
        assert_eq!(found[0].requires_python.as_deref(), Some(">=3.8"));
        assert!(found[1].yanked);
    }
}
