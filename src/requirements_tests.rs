use std::fs;

use super::*;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(&path, text).unwrap();
    path
}

fn read(text: &str) -> (tempfile::TempDir, Result<Requirements, RequirementsError>) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "requirements.txt", text);
    let mut reqs = Requirements::default();
    let result = reqs.add_file(&path).map(|()| reqs);
    (dir, result)
}

fn error_text(dir: &tempfile::TempDir, err: RequirementsError) -> String {
    err.to_string()
        .replace(&dir.path().display().to_string(), "[TEMP]")
}

fn armv7l() -> MarkerEnvironment {
    target_marker_environment("armv7l", "3.11.2").unwrap()
}

#[test]
fn names_versions_extras_markers_hashes() {
    let (_dir, reqs) = read(
        "# a comment\n\
         numpy==2.4.6\n\
         \n\
         msgpack >=1.0, <2  # trailing comment\n\
         requests[socks,security]~=2.31 ; python_version >= \"3.8\"\n\
         markupsafe==3.0.2 \\\n    --hash=sha256:aa \\\n    --hash sha256:bb\n",
    );
    let reqs = reqs.unwrap();
    let shown: Vec<String> = reqs.requirements.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        shown,
        [
            "numpy==2.4.6",
            "msgpack>=1.0,<2",
            "requests[socks,security]~=2.31 ; python_full_version >= '3.8'",
            "markupsafe==3.0.2"
        ]
    );
    assert_eq!(reqs.requirements[3].hashes, ["sha256:aa", "sha256:bb"]);
    assert_eq!(
        reqs.requirements[3].origin.to_string(),
        format!("{}:6", _dir.path().join("requirements.txt").display())
    );
    assert_eq!(reqs.requirements[2].extras().len(), 2);
}

#[test]
fn markers_are_evaluated_for_the_target() {
    let (_dir, reqs) = read(
        "armonly; platform_machine == \"armv7l\"\n\
         hostonly; platform_machine == \"x86_64\"\n\
         linux; sys_platform == \"linux\" and python_version == \"3.11\"\n\
         windows; os_name == \"nt\"\n",
    );
    let env = armv7l();
    let built: Vec<String> = reqs
        .unwrap()
        .requirements
        .iter()
        .filter(|e| e.applies(&env))
        .map(|e| e.name().unwrap().to_string())
        .collect();
    assert_eq!(built, ["armonly", "linux"]);
}

#[test]
fn nested_files_are_relative_to_the_including_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sub/base.txt", "six\n-c ../constraints.txt\n");
    write(dir.path(), "constraints.txt", "six==1.17.0\n");
    write(dir.path(), "sub/pkg/setup.py", "");
    let top = write(
        dir.path(),
        "requirements.txt",
        "-r sub/base.txt\n--requirement=sub/more.txt\n",
    );
    write(dir.path(), "sub/more.txt", "./pkg\n");
    let mut reqs = Requirements::default();
    reqs.add_file(&top).unwrap();
    assert_eq!(reqs.requirements.len(), 2);
    assert_eq!(reqs.constraints.len(), 1);
    assert_eq!(reqs.constraints[0].to_string(), "six==1.17.0");
    match &reqs.requirements[1].source {
        Source::Path { path, .. } => assert_eq!(path, &dir.path().join("sub").join("./pkg")),
        other => panic!("expected a path, got {other:?}"),
    }
}

#[test]
fn index_options() {
    let (dir, reqs) = read(
        "-i https://example.org/simple\n\
         --extra-index-url https://extra.example.org/simple\n\
         -f ./wheels\n\
         --find-links=https://example.org/links\n\
         --pre\n\
         --no-binary :all:\n\
         --no-binary=numpy\n\
         --only-binary msgpack,six\n",
    );
    let index = reqs.unwrap().index;
    assert_eq!(
        index.index_url.as_deref(),
        Some("https://example.org/simple")
    );
    assert_eq!(index.extra_index_urls, ["https://extra.example.org/simple"]);
    assert_eq!(
        index.find_links,
        [
            dir.path().join("./wheels").display().to_string(),
            "https://example.org/links".to_string()
        ]
    );
    assert!(index.pre);
    assert!(index.no_binary.all);
    assert!(
        index
            .only_binary
            .contains(&PackageName::from_str("msgpack").unwrap())
    );
    assert!(
        !index
            .only_binary
            .contains(&PackageName::from_str("numpy").unwrap())
    );
}

#[test]
fn urls_and_paths() {
    let (dir, reqs) = read(
        "foo @ https://example.org/foo-1.0.tar.gz\n\
         https://example.org/bar-2.0.tar.gz ; platform_machine == \"armv7l\"\n\
         ./local/pkg[fast]\n\
         dist/baz-1.0.tar.gz\n\
         qux @ file:///opt/qux\n",
    );
    let reqs = reqs.unwrap().requirements;
    assert!(matches!(&reqs[0].source,
        Source::Url { name: Some(n), url, .. } if n.as_ref() == "foo" && url == "https://example.org/foo-1.0.tar.gz"));
    assert!(matches!(&reqs[1].source, Source::Url { name: None, .. }));
    assert!(reqs[1].applies(&armv7l()));
    match &reqs[2].source {
        Source::Path { path, extras, .. } => {
            assert_eq!(path, &dir.path().join("./local/pkg"));
            assert_eq!(extras[0].as_ref(), "fast");
        }
        other => panic!("expected a path, got {other:?}"),
    }
    assert!(
        matches!(&reqs[3].source, Source::Path { path, .. } if path.ends_with("dist/baz-1.0.tar.gz"))
    );
    assert!(matches!(&reqs[4].source, Source::Path { path, .. } if path == Path::new("/opt/qux")));
}

#[test]
fn malformed_lines_name_file_line_and_text() {
    let cases = [
        (
            "six\nnumpy===\n",
            "requirements.txt:2: invalid requirement `numpy===`",
        ),
        (
            "six\n\nfoo ; platform_machine = \"x\"\n",
            "requirements.txt:3: invalid requirement",
        ),
        ("--frobnicate\n", "unknown option `--frobnicate`"),
        ("foo==1 --hash=abc\n", "must be `algorithm:hex`"),
        (
            "foo==1 --install-option=x\n",
            "unsupported per-requirement option",
        ),
        ("-e ./pkg\n", "editable installs cannot be cross-built"),
        ("-r\n", "`-r` needs a value"),
        (
            "-r missing.txt\n",
            "requirements.txt:1: cannot read `[TEMP]/missing.txt`, which it includes",
        ),
    ];
    for (text, expected) in cases {
        let (dir, reqs) = read(text);
        let err = error_text(&dir, reqs.unwrap_err());
        assert!(err.contains(expected), "{text:?}: {err}");
    }
}

#[test]
fn malformed_line_message() {
    let (dir, reqs) = read("six\nnumpy >= 1.0 @@\n");
    insta::assert_snapshot!(error_text(&dir, reqs.unwrap_err()), @"[TEMP]/requirements.txt:2: invalid requirement `numpy >= 1.0 @@`: Trailing `@@` is not allowed (at column 7: `>= 1.0 @@`)");
}

#[test]
fn include_cycle_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.txt", "-r b.txt\n");
    write(dir.path(), "b.txt", "-r a.txt\n");
    let err = Requirements::default().add_file(&a).unwrap_err();
    assert!(err.to_string().contains("includes itself"), "{err}");
}

#[test]
fn command_line_requirements() {
    let dir = tempfile::tempdir().unwrap();
    let mut reqs = Requirements::default();
    reqs.add_arg("numpy==2.4.6", dir.path()).unwrap();
    reqs.add_arg("./fixtures/pure_dep", dir.path()).unwrap();
    reqs.add_arg("msgpack[dev]", dir.path()).unwrap();
    assert!(matches!(reqs.requirements[0].source, Source::Registry(_)));
    assert!(matches!(reqs.requirements[1].source, Source::Path { .. }));
    assert_eq!(reqs.requirements[1].origin, Origin::CommandLine);
    let err = reqs.add_arg("numpy=2", dir.path()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("the command line: invalid requirement `numpy=2`"),
        "{err}"
    );
}

#[test]
fn comments_need_whitespace_before_hash() {
    assert_eq!(
        strip_comment("foo @ https://x/y.tar.gz#egg=foo"),
        "foo @ https://x/y.tar.gz#egg=foo"
    );
    assert_eq!(strip_comment("foo  # why"), "foo");
    assert_eq!(strip_comment("   # only"), "");
}

#[test]
fn package_sets() {
    let mut set = PackageSet::default();
    set.add(":all:").unwrap();
    set.add(":none:").unwrap();
    set.add("Foo_Bar").unwrap();
    assert!(!set.all);
    assert!(set.contains(&PackageName::from_str("foo-bar").unwrap()));
    assert!(set.add("not a name!").is_err());
}

#[test]
fn target_environment_values() {
    let env = target_marker_environment("aarch64", "3.11.2").unwrap();
    assert_eq!(env.platform_machine(), "aarch64");
    assert_eq!(env.python_version().string, "3.11");
    assert_eq!(env.sys_platform(), "linux");
}

#[test]
fn no_binary_never_reaches_the_build_envs_pip() {
    // `pyx wheel --no-binary :all:` builds the target's packages from source; the build envs
    // still take build-machine wheels (maturin, cffi, setuptools-rust are binaries or need them).
    let mut index = IndexOptions {
        index_url: Some("https://example.org/simple".into()),
        ..IndexOptions::default()
    };
    index.no_binary.add(":all:").unwrap();
    index.only_binary.add("numpy").unwrap();
    assert_eq!(
        index.pip_args(),
        ["--index-url", "https://example.org/simple"]
    );
}
