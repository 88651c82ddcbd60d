use std::path::Path;

use super::*;
use crate::requirements::{Requirements, parse_requirement, target_marker_environment};

fn env(machine: &str) -> MarkerEnvironment {
    target_marker_environment(machine, "3.11.2").unwrap()
}

fn entry(text: &str, line: usize) -> Entry {
    parse_requirement(
        text,
        Vec::new(),
        Path::new("/w"),
        Origin::File {
            path: "req.txt".into(),
            line,
        },
    )
    .unwrap()
}

fn name(n: &str) -> PackageName {
    PackageName::from_str(n).unwrap()
}

fn v(s: &str) -> Version {
    Version::from_str(s).unwrap()
}

/// Drain the queue, pinning each fetched package to `versions[name]` and feeding `deps[name]`.
fn run(
    resolver: &mut Resolver,
    versions: &[(&str, &str)],
    deps: &[(&str, &[&str])],
) -> Result<Vec<String>, ResolveError> {
    let mut fetched = Vec::new();
    while let Some(job) = resolver.next_job() {
        let Job::Fetch(n) = job else {
            panic!("unexpected {job:?}")
        };
        let version = versions
            .iter()
            .find(|(k, _)| *k == n.as_ref())
            .map_or("1.0", |(_, ver)| ver);
        resolver.pin(&n, v(version), Origin::Package("index".into()))?;
        let requires: Vec<String> = deps
            .iter()
            .find(|(k, _)| *k == n.as_ref())
            .map(|(_, d)| d.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default();
        resolver.add_metadata(&n, &requires)?;
        fetched.push(format!("{n}=={version}"));
    }
    Ok(fetched)
}

#[test]
fn transitive_dependencies_with_target_markers() {
    let mut r = Resolver::new(env("armv7l"), &[]);
    r.add_entry(&entry("app", 1)).unwrap();
    r.add_entry(&entry("hostonly ; platform_machine == \"x86_64\"", 2))
        .unwrap();
    let fetched = run(
        &mut r,
        &[],
        &[(
            "app",
            &[
                "lib>=1",
                "armdep ; platform_machine == \"armv7l\"",
                "x86dep ; platform_machine == \"x86_64\"",
                "testdep ; extra == \"test\"",
            ],
        )],
    )
    .unwrap();
    assert_eq!(fetched, ["app==1.0", "lib==1.0", "armdep==1.0"]);
    let skipped: Vec<&str> = r.skipped.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        skipped,
        [
            "hostonly ; platform_machine == 'x86_64'",
            "x86dep ; platform_machine == 'x86_64'"
        ]
    );
}

#[test]
fn host_markers_pick_the_other_side() {
    let mut r = Resolver::new(env("x86_64"), &[]);
    r.add_entry(&entry("app", 1)).unwrap();
    let fetched = run(
        &mut r,
        &[],
        &[(
            "app",
            &[
                "armdep ; platform_machine == \"armv7l\"",
                "x86dep ; platform_machine == \"x86_64\"",
            ],
        )],
    )
    .unwrap();
    assert_eq!(fetched, ["app==1.0", "x86dep==1.0"]);
}

#[test]
fn extras_are_honoured_also_when_requested_late() {
    let mut r = Resolver::new(env("armv7l"), &[]);
    r.add_entry(&entry("app", 1)).unwrap();
    let deps: &[(&str, &[&str])] = &[
        ("app", &["lib", "other[fast]"]),
        (
            "lib",
            &["speedups ; extra == \"fast\"", "docs ; extra == \"docs\""],
        ),
        (
            "other",
            &[
                "lib[fast]",
                "armfast ; extra == \"fast\" and platform_machine == \"armv7l\"",
            ],
        ),
    ];
    let fetched = run(&mut r, &[], deps).unwrap();
    assert_eq!(
        fetched,
        [
            "app==1.0",
            "lib==1.0",
            "other==1.0",
            "speedups==1.0",
            "armfast==1.0"
        ]
    );
    assert!(r.package(&name("docs")).is_none());
}

#[test]
fn constraints_narrow_the_choice() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.txt"),
        "lib<2\nunused==3\nwin<1 ; os_name == \"nt\"\n",
    )
    .unwrap();
    let mut reqs = Requirements::default();
    reqs.add_constraints_file(&dir.path().join("c.txt"))
        .unwrap();
    let mut r = Resolver::new(env("armv7l"), &reqs.constraints);
    r.add_entry(&entry("lib>=1", 1)).unwrap();
    r.add_entry(&entry("win", 2)).unwrap();
    let lib = r.package(&name("lib")).unwrap();
    let shown: Vec<String> = lib
        .demands
        .iter()
        .map(|d| d.specifiers.to_string())
        .collect();
    assert_eq!(shown, ["<2", ">=1"]);
    assert!(r.package(&name("win")).unwrap().demands.is_empty());
    assert!(r.package(&name("unused")).is_none());
    let err = r
        .pin(&name("lib"), v("2.0"), Origin::Package("index".into()))
        .unwrap_err();
    assert!(
        err.to_string().contains("c.txt:1 requires `lib<2`"),
        "{err}"
    );
}

#[test]
fn conflict_names_both_sources() {
    let mut r = Resolver::new(env("armv7l"), &[]);
    r.add_entry(&entry("lib==2.0", 1)).unwrap();
    r.add_entry(&entry("app", 2)).unwrap();
    let err = run(&mut r, &[("lib", "2.0")], &[("app", &["lib<2"])]).unwrap_err();
    insta::assert_snapshot!(err.to_string(), @"`lib` 2.0 was chosen for req.txt:1, but `app==1.0` requires `lib<2`");
}

#[test]
fn repeated_requirements_are_fetched_once() {
    let mut r = Resolver::new(env("armv7l"), &[]);
    r.add_entry(&entry("Six", 1)).unwrap();
    r.add_entry(&entry("six>=1", 2)).unwrap();
    let fetched = run(&mut r, &[], &[("a", &["six"])]).unwrap();
    assert_eq!(fetched, ["six==1.0"]);
    assert_eq!(r.packages().count(), 1);
}

#[test]
fn direct_requirements_become_jobs() {
    let mut r = Resolver::new(env("armv7l"), &[]);
    r.add_entry(&entry("./pkg", 1)).unwrap();
    r.add_entry(&entry("./hostpkg ; platform_machine == \"x86_64\"", 2))
        .unwrap();
    assert!(matches!(r.next_job(), Some(Job::Direct(_))));
    assert_eq!(r.next_job(), None);
    r.pin(&name("pkg"), v("0.1"), Origin::CommandLine).unwrap();
    r.add_metadata(&name("pkg"), &["dep".to_string()]).unwrap();
    assert_eq!(r.next_job(), Some(Job::Fetch(name("dep"))));
}

#[test]
fn invalid_requires_dist_is_reported() {
    let mut r = Resolver::new(env("armv7l"), &[]);
    r.add_entry(&entry("app", 1)).unwrap();
    let err = run(&mut r, &[], &[("app", &["lib >>= 1"])]).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("`app==1.0` declares an invalid dependency `lib >>= 1`"),
        "{err}"
    );
}

#[test]
fn provided_names_are_not_fetched() {
    let mut r = Resolver::new(env("armv7l"), &[]);
    r.add_entry(&entry("./pure_dep", 1)).unwrap();
    r.add_entry(&entry("./c_ext", 2)).unwrap();
    assert!(matches!(r.next_job(), Some(Job::Direct(_))));
    assert!(matches!(r.next_job(), Some(Job::Direct(_))));
    r.provide(&name("c-ext"));
    r.pin_direct(&name("pure-dep"), v("1.0"), &[], Origin::CommandLine)
        .unwrap();
    r.add_metadata(&name("pure-dep"), &["c_ext>=1".to_string()])
        .unwrap();
    assert_eq!(r.next_job(), None);
    let err = r
        .pin_direct(&name("c-ext"), v("0.5"), &[], Origin::CommandLine)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("`pure-dep==1.0` requires `c-ext>=1`"),
        "{err}"
    );
}
