//! The requirements that built a wheelhouse, as the device's pip reads them from it: a name for
//! every line (a local path or URL pyx built from becomes the project it provides), markers left
//! for the target's pip to evaluate, index options left out (the wheelhouse is the only source).

use std::path::Path;
use std::str::FromStr;

use pep508_rs::{ExtraName, MarkerTree, PackageName};

use crate::pipeline::source::{project_name, sdist_name_version};
use crate::requirements::{Entry, Requirements, Source};
use crate::wheel::filename::WheelFilename;

/// A requirement line whose project pyx cannot tell without building it.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: cannot tell which project `{given}` provides")]
pub struct UnnamedRequirement {
    pub origin: String,
    pub given: String,
}

/// Requirement and constraint lines for the target's pip (`-r`, `-c`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PipRequirements {
    pub requirements: Vec<String>,
    pub constraints: Vec<String>,
}

impl PipRequirements {
    /// Named requirements keep their specifiers, extras, markers and `--hash` values (a device
    /// with the same file checks the same hashes); a path or URL becomes the name of the project
    /// it provides, without the hashes, which are the source's and not the wheel's.
    pub fn from_requirements(reqs: &Requirements) -> Result<PipRequirements, UnnamedRequirement> {
        let requirements = reqs
            .requirements
            .iter()
            .map(pip_line)
            .collect::<Result<_, _>>()?;
        let constraints = reqs
            .constraints
            .iter()
            .filter(|c| matches!(c.source, Source::Registry(_)))
            .map(pip_line)
            .collect::<Result<_, _>>()?;
        Ok(PipRequirements {
            requirements,
            constraints,
        })
    }
}

fn pip_line(entry: &Entry) -> Result<String, UnnamedRequirement> {
    match &entry.source {
        Source::Registry(req) => {
            let mut line = req.to_string();
            for hash in &entry.hashes {
                line.push_str(&format!(" --hash={hash}"));
            }
            Ok(line)
        }
        Source::Url {
            name,
            url,
            extras,
            marker,
        } => {
            let file = url.split(['#', '?']).next().unwrap_or(url);
            let file = file.rsplit('/').next().unwrap_or(file);
            let name = name.clone().or_else(|| name_of_file(file));
            named(entry, name, extras, marker)
        }
        Source::Path {
            path,
            extras,
            marker,
        } => named(entry, name_of_path(path), extras, marker),
    }
}

fn named(
    entry: &Entry,
    name: Option<PackageName>,
    extras: &[ExtraName],
    marker: &MarkerTree,
) -> Result<String, UnnamedRequirement> {
    let name = name.ok_or_else(|| UnnamedRequirement {
        origin: entry.origin.to_string(),
        given: entry.to_string(),
    })?;
    let mut line = name.to_string();
    if !extras.is_empty() {
        let extras: Vec<String> = extras.iter().map(ToString::to_string).collect();
        line.push_str(&format!("[{}]", extras.join(",")));
    }
    if let Some(marker) = marker.try_to_string() {
        line.push_str(&format!(" ; {marker}"));
    }
    Ok(line)
}

/// The project of a local wheel, sdist or source directory (its static name).
fn name_of_path(path: &Path) -> Option<PackageName> {
    if path.is_dir() {
        return project_name(path);
    }
    name_of_file(&path.file_name()?.to_string_lossy())
}

/// The project of a wheel or sdist file name.
fn name_of_file(file: &str) -> Option<PackageName> {
    let name = match WheelFilename::from_str(file) {
        Ok(wheel) => wheel.name,
        Err(_) => sdist_name_version(file)?.0,
    };
    PackageName::from_str(&name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> PipRequirements {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir(&src).unwrap();
        std::fs::write(
            src.join("pyproject.toml"),
            "[project]\nname = \"My_Local\"\nversion = \"1\"\n",
        )
        .unwrap();
        let file = dir.path().join("requirements.txt");
        std::fs::write(&file, text).unwrap();
        let mut reqs = Requirements::default();
        reqs.add_file(&file).unwrap();
        PipRequirements::from_requirements(&reqs).unwrap()
    }

    #[test]
    fn paths_and_urls_become_names_and_index_options_go() {
        let got = lines(
            "-i https://example.org/simple\n\
             --extra-index-url https://example.org/extra\n\
             markupsafe==3.0.4 --hash=sha256:aa\n\
             pyyaml==6.0.3 ; platform_machine == \"armv7l\"\n\
             ./src[fast]\n\
             dist/pkg_a-1.0-cp311-cp311-linux_armv7l.whl\n\
             https://example.org/files/pkg-b-2.0.tar.gz#sha256=bb\n\
             named @ https://example.org/x.zip ; python_version >= \"3.8\"\n",
        );
        assert_eq!(
            got.requirements,
            [
                "markupsafe==3.0.4 --hash=sha256:aa",
                "pyyaml==6.0.3 ; platform_machine == 'armv7l'",
                "my-local[fast]",
                "pkg-a",
                "pkg-b",
                "named ; python_full_version >= '3.8'",
            ]
        );
    }

    #[test]
    fn a_directory_without_a_static_name_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("dyn")).unwrap();
        std::fs::write(dir.path().join("dyn/setup.py"), "").unwrap();
        let file = dir.path().join("r.txt");
        std::fs::write(&file, "./dyn\n").unwrap();
        let mut reqs = Requirements::default();
        reqs.add_file(&file).unwrap();
        let err = PipRequirements::from_requirements(&reqs).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}:1: cannot tell which project `{}` provides",
                file.display(),
                dir.path().join("./dyn").display()
            )
        );
    }
}
