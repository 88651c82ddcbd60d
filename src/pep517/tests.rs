use std::fs;

use super::*;

/// Runs hooks with the build Python itself: enough for an in-tree backend (`backend-path`).
struct Native {
    seen: std::sync::Mutex<Vec<Vec<String>>>,
}

impl BuildHost for Native {
    fn python(&self, requires: &[String], _sites: &[PathBuf]) -> anyhow::Result<Command> {
        self.seen.lock().unwrap().push(requires.to_vec());
        Ok(Command::new(
            crate::python::BuildPython::find(None)?.executable,
        ))
    }
    fn refused_packages(&self, _package: &str) -> Vec<String> {
        Vec::new()
    }
    fn python_path(&self) -> PathBuf {
        PathBuf::from("python3")
    }
    fn build_env(&self, _requires: &[String]) -> anyhow::Result<Option<BuildEnv>> {
        Ok(None)
    }
    fn meson_cross_file(&self) -> Option<PathBuf> {
        None
    }
    fn cmake_toolchain_file(&self) -> Option<PathBuf> {
        None
    }
    fn compiler_calls(&self, _package: &str) -> Vec<crate::crossenv::ShimCall> {
        Vec::new()
    }
}

const BACKEND: &str = r#"
import json, os, zipfile

def get_requires_for_build_wheel(config_settings=None):
    return ["extra-build-dep>=1"]

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    if (config_settings or {}).get("fail") == "yes":
        print("fatal error: ffi.h: No such file or directory")
        raise SystemExit("compilation failed")
    print("building on stdout")
    name = "demo-0.1-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as z:
        z.writestr("demo/__init__.py", "")
        z.writestr("demo-0.1.dist-info/settings.json", json.dumps(config_settings))
        z.writestr("demo-0.1.dist-info/env.json", json.dumps(os.environ.get("PYX_PACKAGE")))
    return name
"#;

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("pyproject.toml"),
        "[build-system]\nrequires = [\"static-dep\"]\nbuild-backend = \"intree\"\nbackend-path = [\"_backend\"]\n",
    )
    .unwrap();
    fs::create_dir(dir.path().join("_backend")).unwrap();
    fs::write(dir.path().join("_backend/intree.py"), BACKEND).unwrap();
    dir
}

fn request<'a>(
    src: &'a Path,
    out: &'a Path,
    log: &'a Path,
    config: ConfigSettings,
) -> BuildRequest<'a> {
    BuildRequest {
        package: "demo",
        source_dir: src,
        wheel_dir: out,
        log,
        config,
        jobs: 2,
        env: Vec::new(),
    }
}

#[test]
fn builds_through_the_hook_runner() {
    let src = project();
    let out = tempfile::tempdir().unwrap();
    let log = out.path().join("demo.log");
    let host = Native {
        seen: Default::default(),
    };
    let config = ConfigArgs::parse(&["k=v".into(), "demo:list=a".into(), "demo:list=b".into()])
        .unwrap()
        .for_package("Demo");
    let built = build_wheel(&host, &request(src.path(), out.path(), &log, config)).unwrap();
    assert_eq!(built.wheel, out.path().join("demo-0.1-py3-none-any.whl"));
    assert_eq!(built.requires, ["static-dep", "extra-build-dep>=1"]);
    assert_eq!(
        *host.seen.lock().unwrap(),
        [vec!["static-dep".to_string()], built.requires.clone()]
    );
    let mut zip = zip::ZipArchive::new(fs::File::open(&built.wheel).unwrap()).unwrap();
    let mut settings = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("demo-0.1.dist-info/settings.json").unwrap(),
        &mut settings,
    )
    .unwrap();
    assert_eq!(settings, r#"{"k": "v", "list": ["a", "b"]}"#);
    let log_text = fs::read_to_string(&log).unwrap();
    assert!(log_text.contains("building on stdout"), "{log_text}");
}

#[test]
fn a_failing_backend_is_reported_with_its_log() {
    let src = project();
    let out = tempfile::tempdir().unwrap();
    let log = out.path().join("demo.log");
    let host = Native {
        seen: Default::default(),
    };
    let config = ConfigArgs::parse(&["fail=yes".into()]).unwrap().global;
    let err = build_wheel(&host, &request(src.path(), out.path(), &log, config)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`build_wheel` of `demo` failed: SystemExit: compilation failed"
    );
    assert_eq!(err.log(), Some(log.as_path()));
    assert!(
        fs::read_to_string(&log)
            .unwrap()
            .contains("ffi.h: No such file")
    );
}

#[test]
fn build_system_defaults() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        BuildSystem::read(dir.path()).unwrap().backend,
        LEGACY_BACKEND
    );
    fs::write(
        dir.path().join("pyproject.toml"),
        "[project]\nname = \"x\"\n",
    )
    .unwrap();
    assert_eq!(
        BuildSystem::read(dir.path()).unwrap().requires,
        [LEGACY_REQUIRES]
    );
    fs::write(
        dir.path().join("pyproject.toml"),
        "[build-system]\nrequires = [\"meson-python\"]\nbuild-backend = \"mesonpy\"\n",
    )
    .unwrap();
    let bs = BuildSystem::read(dir.path()).unwrap();
    assert!(bs.is_compiling_backend());
    fs::write(dir.path().join("pyproject.toml"), "[build-system\n").unwrap();
    assert!(
        BuildSystem::read(dir.path())
            .unwrap_err()
            .to_string()
            .starts_with("invalid `")
    );
}

#[test]
fn config_args() {
    let args = ConfigArgs::parse(&[
        "setup-args=-Dblas=none".into(),
        "NumPy:setup-args=-Dallow-noblas=true".into(),
    ])
    .unwrap();
    assert_eq!(
        args.for_package("numpy")["setup-args"],
        ["-Dblas=none", "-Dallow-noblas=true"]
    );
    assert_eq!(args.for_package("six")["setup-args"], ["-Dblas=none"]);
    assert!(ConfigArgs::parse(&["novalue".into()]).is_err());
    assert!(ConfigArgs::parse(&["pkg:=x".into()]).is_err());
}
