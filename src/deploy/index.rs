//! A static package index for a wheelhouse: PEP 503 HTML pages and PEP 691 JSON (API 1.1, with
//! PEP 700's `versions` and `size`), each file link carrying its sha256 and `Requires-Python`,
//! plus a requirements file pinning every project to its wheels' hashes (for `--require-hashes`).
//! Written atomically and only where the content changed, for any static web server to serve.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde_json::json;

use crate::files::write_if_changed;
use crate::wheel::filename::WheelFilename;
use crate::wheel::metadata::read_wheel_metadata;

/// The directory under the wheelhouse that holds the index (`/simple/`, as on PyPI).
pub const SIMPLE: &str = "simple";
/// The pinned requirements file in the wheelhouse.
pub const PINNED: &str = "pinned-requirements.txt";

/// One wheel as the index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedWheel {
    pub filename: WheelFilename,
    pub sha256: String,
    pub size: u64,
    /// `Requires-Python` from its METADATA.
    pub requires_python: Option<String>,
}

/// Every wheel of a wheelhouse by PEP 503 normalised project name.
#[derive(Debug, Clone, Default)]
pub struct SimpleIndex {
    pub projects: BTreeMap<String, Vec<IndexedWheel>>,
    /// Things to tell the user: files that are not wheels, unreadable METADATA, several versions
    /// of one project.
    pub warnings: Vec<String>,
}

/// What writing the index did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    pub changed: usize,
    pub unchanged: usize,
    /// Project directories of wheels no longer in the wheelhouse.
    pub removed: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("cannot read the wheelhouse `{}`", dir.display())]
    ReadDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot hash `{}`", path.display())]
    Hash {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the index in `{}`", dir.display())]
    Write {
        dir: PathBuf,
        #[source]
        source: anyhow::Error,
    },
}

impl SimpleIndex {
    /// Read the `.whl` files directly in `dir`: name, hash, size and `Requires-Python`.
    pub fn scan(dir: &Path) -> Result<SimpleIndex, IndexError> {
        let read_dir = |source| IndexError::ReadDir {
            dir: dir.to_path_buf(),
            source,
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(read_dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "whl") && p.is_file())
            .collect();
        files.sort();
        let mut index = SimpleIndex::default();
        for path in files {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let filename = match WheelFilename::from_str(&name) {
                Ok(f) => f,
                Err(e) => {
                    index.warnings.push(format!("left out: {e}"));
                    continue;
                }
            };
            let sha256 = crate::digest::sha256_file(&path).map_err(|source| IndexError::Hash {
                path: path.clone(),
                source,
            })?;
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let requires_python = match read_wheel_metadata(&path) {
                Ok(m) => m.requires_python,
                Err(e) => {
                    index.warnings.push(format!(
                        "`{name}`: METADATA is unreadable ({e}); listed without `Requires-Python`"
                    ));
                    None
                }
            };
            index
                .projects
                .entry(filename.normalized_name())
                .or_default()
                .push(IndexedWheel {
                    filename,
                    sha256,
                    size,
                    requires_python,
                });
        }
        Ok(index)
    }

    pub fn wheel_count(&self) -> usize {
        self.projects.values().map(Vec::len).sum()
    }

    /// Every file of the index, relative to the wheelhouse, with its content; the root pages
    /// last, so a server never lists a project whose page is not written yet.
    pub fn files(&self) -> Vec<(PathBuf, String)> {
        let mut out = Vec::new();
        for (project, wheels) in &self.projects {
            let dir = Path::new(SIMPLE).join(project);
            out.push((dir.join("index.html"), project_html(project, wheels)));
            out.push((dir.join("index.json"), project_json(project, wheels)));
        }
        out.push((Path::new(SIMPLE).join("index.html"), self.root_html()));
        out.push((Path::new(SIMPLE).join("index.json"), self.root_json()));
        out
    }

    fn root_html(&self) -> String {
        let links: String = self
            .projects
            .keys()
            .map(|p| format!("    <a href=\"{p}/\">{p}</a><br>\n"))
            .collect();
        html_page("Simple index", &links)
    }

    fn root_json(&self) -> String {
        let projects: Vec<_> = self.projects.keys().map(|p| json!({ "name": p })).collect();
        pretty(&json!({ "meta": { "api-version": "1.1" }, "projects": projects }))
    }

    /// `name==version --hash=sha256:...` for every project (its newest version, with the hash of
    /// each of its wheels): a device installs exactly these files with `--require-hashes`.
    pub fn pinned_requirements(&self) -> (String, Vec<String>) {
        let mut warnings = Vec::new();
        let mut out = String::from(
            "# Every project of this wheelhouse pinned to its wheels' sha256, written by `pyx index`.\n\
             # On a device: pip install --require-hashes -r <this file's URL> --index-url <the index URL>\n",
        );
        for (project, wheels) in &self.projects {
            let version = |w: &IndexedWheel| pep440_rs::Version::from_str(&w.filename.version).ok();
            let newest = wheels.iter().filter_map(version).max();
            let chosen: Vec<&IndexedWheel> = match &newest {
                Some(v) => wheels
                    .iter()
                    .filter(|w| version(w).as_ref() == Some(v))
                    .collect(),
                None => wheels.iter().collect(),
            };
            let Some(first) = chosen.first() else {
                continue;
            };
            if chosen.len() < wheels.len() {
                warnings.push(format!(
                    "`{project}` has wheels of several versions; `{PINNED}` pins the newest, {}",
                    first.filename.version
                ));
            }
            out.push_str(&format!("{project}=={}", first.filename.version));
            for w in &chosen {
                out.push_str(&format!(" \\\n    --hash=sha256:{}", w.sha256));
            }
            out.push('\n');
        }
        (out, warnings)
    }

    /// Write the index into `wheelhouse/simple/` and the pinned requirements beside the wheels,
    /// each file only when its content changed; remove the pages of projects that left.
    pub fn write(&self, wheelhouse: &Path) -> Result<(Written, Vec<String>), IndexError> {
        let write_err = |source| IndexError::Write {
            dir: wheelhouse.to_path_buf(),
            source,
        };
        let mut written = Written::default();
        let (pinned, warnings) = self.pinned_requirements();
        let mut files = self.files();
        files.push((PathBuf::from(PINNED), pinned));
        for (rel, content) in files {
            if write_if_changed(&wheelhouse.join(rel), &content).map_err(write_err)? {
                written.changed += 1;
            } else {
                written.unchanged += 1;
            }
        }
        let simple = wheelhouse.join(SIMPLE);
        for entry in std::fs::read_dir(&simple).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !entry.path().is_dir() || self.projects.contains_key(&name) {
                continue;
            }
            if remove_page(&entry.path()) {
                written.removed.push(name);
            }
        }
        Ok((written, warnings))
    }
}

/// Remove a project directory that holds only the pages pyx writes; true when it is gone.
fn remove_page(dir: &Path) -> bool {
    let only_pages = std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .flatten()
            .all(|e| matches!(e.file_name().to_str(), Some("index.html" | "index.json")))
    });
    only_pages
        && ["index.html", "index.json"]
            .iter()
            .all(|f| std::fs::remove_file(dir.join(f)).is_ok() || !dir.join(f).exists())
        && std::fs::remove_dir(dir).is_ok()
}

/// The file's URL relative to `simple/<project>/`, with everything but unreserved characters
/// percent-encoded (`+` of a local version, `!` of an epoch).
fn href(filename: &WheelFilename) -> String {
    let name = filename.to_string();
    let mut out = String::from("../../");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html_page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.1\">\n    \
         <title>{title}</title>\n  </head>\n  <body>\n    <h1>{title}</h1>\n{body}  </body>\n</html>\n"
    )
}

/// PEP 503: one anchor per file, `#sha256=` fragment, `data-requires-python` HTML-escaped.
fn project_html(project: &str, wheels: &[IndexedWheel]) -> String {
    let links: String = wheels
        .iter()
        .map(|w| {
            let python = w
                .requires_python
                .as_ref()
                .map(|r| format!(" data-requires-python=\"{}\"", escape_html(r)))
                .unwrap_or_default();
            format!(
                "    <a href=\"{}#sha256={}\"{python}>{}</a><br>\n",
                href(&w.filename),
                w.sha256,
                escape_html(&w.filename.to_string())
            )
        })
        .collect();
    html_page(&format!("Links for {project}"), &links)
}

/// PEP 691 (API 1.1): the project's versions and files with hashes, sizes and `Requires-Python`.
fn project_json(project: &str, wheels: &[IndexedWheel]) -> String {
    let mut versions: Vec<&str> = wheels.iter().map(|w| w.filename.version.as_str()).collect();
    versions.dedup();
    let files: Vec<_> = wheels
        .iter()
        .map(|w| {
            let mut file = json!({
                "filename": w.filename.to_string(),
                "url": href(&w.filename),
                "hashes": { "sha256": w.sha256 },
                "size": w.size,
            });
            if let Some(r) = &w.requires_python {
                file["requires-python"] = json!(r);
            }
            file
        })
        .collect();
    pretty(&json!({
        "meta": { "api-version": "1.1" },
        "name": project,
        "versions": versions,
        "files": files,
    }))
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wheel(name: &str, sha: &str, python: Option<&str>) -> IndexedWheel {
        IndexedWheel {
            filename: name.parse().unwrap(),
            sha256: sha.into(),
            size: 3,
            requires_python: python.map(String::from),
        }
    }

    fn index() -> SimpleIndex {
        let mut index = SimpleIndex::default();
        index.projects.insert(
            "my-pkg".into(),
            vec![
                wheel(
                    "My_Pkg-1.0+local-cp311-cp311-linux_armv7l.whl",
                    "aa",
                    Some(">=3.8,<4"),
                ),
                wheel("My_Pkg-1.0+local-py3-none-any.whl", "bb", None),
            ],
        );
        index
    }

    #[test]
    fn project_pages_carry_hashes_and_requires_python() {
        let files = index().files();
        let names: Vec<String> = files.iter().map(|(p, _)| p.display().to_string()).collect();
        assert_eq!(
            names,
            [
                "simple/my-pkg/index.html",
                "simple/my-pkg/index.json",
                "simple/index.html",
                "simple/index.json"
            ]
        );
        assert!(files[0].1.contains(
            "    <a href=\"../../My_Pkg-1.0%2Blocal-cp311-cp311-linux_armv7l.whl#sha256=aa\" \
             data-requires-python=\"&gt;=3.8,&lt;4\">My_Pkg-1.0+local-cp311-cp311-linux_armv7l.whl</a><br>\n"
        ), "{}", files[0].1);
        let json: serde_json::Value = serde_json::from_str(&files[1].1).unwrap();
        assert_eq!(json["meta"]["api-version"], "1.1");
        assert_eq!(json["versions"], json!(["1.0+local"]));
        assert_eq!(json["files"][0]["hashes"]["sha256"], "aa");
        assert_eq!(json["files"][0]["requires-python"], ">=3.8,<4");
        assert_eq!(json["files"][1].get("requires-python"), None);
        assert!(files[2].1.contains("<a href=\"my-pkg/\">my-pkg</a>"));
    }

    #[test]
    fn pins_name_every_wheel_of_the_newest_version() {
        let mut index = index();
        index.projects.get_mut("my-pkg").unwrap().push(wheel(
            "My_Pkg-0.9-py3-none-any.whl",
            "cc",
            None,
        ));
        let (text, warnings) = index.pinned_requirements();
        assert!(
            text.ends_with("my-pkg==1.0+local \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n"),
            "{text}"
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }

    #[test]
    fn writes_only_what_changed_and_drops_pages_of_removed_projects() {
        let dir = tempfile::tempdir().unwrap();
        let mut index = index();
        let (first, _) = index.write(dir.path()).unwrap();
        assert_eq!(first.changed, 5);
        let (again, _) = index.write(dir.path()).unwrap();
        assert_eq!((again.changed, again.unchanged), (0, 5));
        index.projects.clear();
        index.projects.insert(
            "other".into(),
            vec![wheel("other-2-py3-none-any.whl", "dd", None)],
        );
        let (last, _) = index.write(dir.path()).unwrap();
        assert_eq!(last.removed, ["my-pkg"]);
        assert!(!dir.path().join("simple/my-pkg").exists());
        assert!(dir.path().join("simple/other/index.html").is_file());
    }
}
