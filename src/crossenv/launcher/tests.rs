use std::collections::BTreeMap;

use super::*;

/// A machine with these variables, programs on PATH and files.
#[derive(Default)]
struct Fake {
    vars: BTreeMap<&'static str, &'static str>,
    programs: Vec<&'static str>,
    files: BTreeMap<&'static str, &'static str>,
}

impl LaunchHost for Fake {
    fn var(&self, name: &str) -> Option<OsString> {
        self.vars.get(name).map(OsString::from)
    }
    fn which(&self, program: &str) -> Option<PathBuf> {
        self.programs
            .contains(&program)
            .then(|| PathBuf::from(format!("/usr/bin/{program}")))
    }
    fn read(&self, path: &Path) -> Option<String> {
        self.files.get(path.to_str()?).map(|s| s.to_string())
    }
    fn exists(&self, path: &Path) -> bool {
        path.to_str().is_some_and(|p| self.files.contains_key(p))
    }
}

fn fake(programs: &[&'static str]) -> Fake {
    Fake {
        vars: [("HOME", "/home/u")].into(),
        programs: programs.to_vec(),
        ..Fake::default()
    }
}

fn choose(cache: &str, launcher: &str, host: &Fake) -> Result<Launch, LaunchError> {
    Launch::choose(
        &cache.parse().unwrap(),
        &launcher.parse().unwrap(),
        host,
        Path::new("/cache/pyx"),
    )
}

#[test]
fn ccache_is_the_default_when_installed_with_its_dir_under_pyx_cache() {
    let launch = choose("auto", "auto", &fake(&["ccache", "distcc"])).unwrap();
    assert_eq!(
        launch.cache,
        Some(CompilerCache {
            tool: CacheTool::Ccache,
            program: "/usr/bin/ccache".into(),
            dir: Some("/cache/pyx/ccache".into()),
            depend_mode: true,
        })
    );
    assert_eq!(launch.distcc, None, "no DISTCC_HOSTS, no distcc");
    assert!(launch.notes.is_empty());
    assert_eq!(
        launch.environ(),
        [
            ("PYX_COMPILER_CACHE", "/usr/bin/ccache"),
            ("PYX_COMPILER_LAUNCHER", "none"),
            ("CCACHE_DIR", "/cache/pyx/ccache"),
            ("CCACHE_DEPEND", "1"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
}

#[test]
fn a_cache_dir_the_user_configured_is_kept() {
    let mut host = fake(&["ccache"]);
    host.vars.insert("CCACHE_DIR", "/big/ccache");
    assert_eq!(
        choose("auto", "auto", &host).unwrap().cache.unwrap().dir,
        None
    );

    let mut host = fake(&["ccache"]);
    host.files.insert(
        "/home/u/.config/ccache/ccache.conf",
        "max_size = 20G\ncache_dir = /big/ccache\n",
    );
    assert_eq!(
        choose("auto", "auto", &host).unwrap().cache.unwrap().dir,
        None
    );

    let mut host = fake(&["ccache"]);
    host.files
        .insert("/home/u/.config/ccache/ccache.conf", "max_size = 20G\n");
    assert!(
        choose("auto", "auto", &host)
            .unwrap()
            .cache
            .unwrap()
            .dir
            .is_some(),
        "a config without cache_dir leaves the default"
    );

    let mut host = fake(&["ccache"]);
    host.files.insert("/home/u/.ccache", "");
    assert_eq!(
        choose("auto", "auto", &host).unwrap().cache.unwrap().dir,
        None,
        "the legacy ~/.ccache is in use"
    );

    let mut host = fake(&["sccache"]);
    let chosen = choose("sccache", "auto", &host).unwrap().cache.unwrap();
    assert_eq!(chosen.dir, Some("/cache/pyx/sccache".into()));
    host.vars.insert("SCCACHE_DIR", "/s");
    assert_eq!(
        choose("sccache", "auto", &host).unwrap().cache.unwrap().dir,
        None
    );
}

#[test]
fn without_ccache_there_is_no_cache_and_one_note() {
    let launch = choose("auto", "auto", &fake(&[])).unwrap();
    assert_eq!(launch.cache, None);
    assert_eq!(launch.notes.len(), 1);
    assert!(launch.notes[0].starts_with("no compiler cache: ccache is not installed"));
    assert!(
        choose("none", "auto", &fake(&[])).unwrap().notes.is_empty(),
        "--compiler-cache none: no note"
    );
    let err = choose("ccache", "auto", &fake(&[])).unwrap_err();
    assert_eq!(err, LaunchError::CacheMissing("ccache"));
    assert!(err.hint().contains("--compiler-cache none"));
}

#[test]
fn distcc_hosts_turn_distcc_on() {
    let mut host = fake(&["ccache", "distcc"]);
    host.vars.insert("DISTCC_HOSTS", "127.0.0.1:3700/2");
    let launch = choose("auto", "auto", &host).unwrap();
    let distcc = launch.distcc.as_ref().unwrap();
    assert_eq!(distcc.program, PathBuf::from("/usr/bin/distcc"));
    assert_eq!(distcc.hosts.remote_slots, 2);
    assert_eq!(launch.remote_slots(), 2);
    assert!(
        launch
            .environ()
            .contains(&("PYX_COMPILER_LAUNCHER".into(), "/usr/bin/distcc".into()))
    );
    assert_eq!(choose("auto", "none", &host).unwrap().distcc, None);

    let mut host = fake(&["ccache"]);
    host.vars.insert("DISTCC_HOSTS", "a b");
    let launch = choose("auto", "auto", &host).unwrap();
    assert_eq!(launch.distcc, None);
    assert!(launch.notes[0].contains("distcc is not installed"));
    assert_eq!(
        choose("auto", "distcc", &host).unwrap_err(),
        LaunchError::DistccMissing
    );
}

#[test]
fn distcc_without_hosts_reads_the_hosts_files() {
    let mut host = fake(&["distcc"]);
    assert_eq!(
        choose("none", "distcc", &host).unwrap_err(),
        LaunchError::NoDistccHosts
    );
    host.files
        .insert("/etc/distcc/hosts", "# the fleet\nbuild1/8 build2\n\n");
    let distcc = choose("none", "distcc", &host).unwrap().distcc.unwrap();
    assert_eq!(distcc.hosts.spec, "build1/8 build2");
    assert_eq!(distcc.hosts.from, "/etc/distcc/hosts");
    assert_eq!(distcc.hosts.remote_slots, 12);
    host.files
        .insert("/home/u/.distcc/hosts", "localhost/2 b/3\n");
    let distcc = choose("none", "distcc", &host).unwrap().distcc.unwrap();
    assert_eq!(distcc.hosts.from, "/home/u/.distcc/hosts");
    assert_eq!(distcc.hosts.remote_slots, 3);
}

#[test]
fn sccache_does_not_take_distcc() {
    let mut host = fake(&["sccache", "distcc"]);
    host.vars.insert("DISTCC_HOSTS", "b/4");
    assert_eq!(
        choose("sccache", "distcc", &host).unwrap_err(),
        LaunchError::SccacheWithDistcc
    );
    let launch = choose("sccache", "auto", &host).unwrap();
    assert_eq!(launch.distcc, None);
    assert!(launch.notes[0].contains("sccache cannot hand compile jobs to distcc"));
}

#[test]
fn host_lists_give_their_remote_slots() {
    let slots = |spec: &str| DistccHosts::parse(spec, "test").remote_slots;
    assert_eq!(slots("127.0.0.1:3632/2"), 2);
    assert_eq!(slots("localhost/2 a/8 b:4000 c/3,lzo @d/6"), 21);
    assert_eq!(slots("--randomize a/2 --localslots=4 +zeroconf"), 2);
    assert_eq!(slots("b/10:3633"), 10, "old-style TCP host");
    assert_eq!(slots(""), 0);
}

#[test]
fn requests_parse_from_the_flag_and_the_variable() {
    assert_eq!("".parse(), Ok(CacheRequest::Auto));
    assert_eq!("none".parse(), Ok(CacheRequest::None));
    assert_eq!(
        "sccache".parse(),
        Ok(CacheRequest::Tool(CacheTool::Sccache))
    );
    assert_eq!(
        "/opt/ccache/bin/ccache".parse(),
        Ok(CacheRequest::Program("/opt/ccache/bin/ccache".into()))
    );
    assert!("buildcache".parse::<CacheRequest>().is_err());
    assert_eq!("distcc".parse(), Ok(LauncherRequest::Distcc));
    assert_eq!(
        "/usr/bin/distcc".parse(),
        Ok(LauncherRequest::Program("/usr/bin/distcc".into()))
    );
    assert!("icecc".parse::<LauncherRequest>().is_err());
}

fn argv(launched: &Launched) -> Vec<String> {
    std::iter::once(launched.cmd.get_program())
        .chain(launched.cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

fn envs(launched: &Launched) -> BTreeMap<String, String> {
    launched
        .cmd
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_str()?.to_string(), v?.to_str()?.to_string())))
        .collect()
}

#[test]
fn compiles_go_through_ccache_and_distcc_links_do_not() {
    let mut host = fake(&["ccache", "distcc"]);
    host.vars.insert("DISTCC_HOSTS", "b/4");
    let launch = choose("auto", "auto", &host).unwrap();
    let real = ["/usr/bin/arm-linux-gnueabihf-gcc".to_string()];
    let root = Path::new("/cache/pyx/scratch/.tmpAbc");

    let compile = launch.command(&real, true, Some(root));
    assert_eq!(
        argv(&compile),
        ["/usr/bin/ccache", "/usr/bin/arm-linux-gnueabihf-gcc"]
    );
    let vars = envs(&compile);
    assert_eq!(vars["CCACHE_PREFIX"], "/usr/bin/distcc");
    assert_eq!(vars["CCACHE_BASEDIR"], root.to_str().unwrap());
    assert_eq!(vars["CCACHE_NOHASHDIR"], "1");
    assert_eq!(vars["CCACHE_DIR"], "/cache/pyx/ccache");
    assert!(vars.contains_key("CCACHE_STATSLOG"));

    let link = launch.command(&real, false, Some(root));
    assert_eq!(argv(&link), ["/usr/bin/arm-linux-gnueabihf-gcc"]);
    assert!(envs(&link).is_empty());

    let distcc_only = choose("none", "auto", &host).unwrap();
    let compile = distcc_only.command(&real, true, None);
    assert_eq!(
        argv(&compile),
        ["/usr/bin/distcc", "/usr/bin/arm-linux-gnueabihf-gcc"],
        "distcc gets the real compiler's absolute name"
    );
}

#[test]
fn the_stats_log_says_hit_or_miss() {
    let hit = "# t.c\ndirect_cache_hit\nlocal_storage_hit\nlocal_storage_read_hit\n";
    assert_eq!(parse_stats_log(hit), Some(CacheOutcome::Hit));
    let pre = "# t.c\npreprocessed_cache_hit\n";
    assert_eq!(parse_stats_log(pre), Some(CacheOutcome::Hit));
    let miss = "# t.c\ncache_miss\ndirect_cache_miss\nlocal_storage_write\n";
    assert_eq!(parse_stats_log(miss), Some(CacheOutcome::Miss));
    let failed = "# t.c\ncompile_failed\n";
    assert_eq!(parse_stats_log(failed), Some(CacheOutcome::Uncacheable));
    assert_eq!(parse_stats_log(""), None);
}

#[test]
fn counts_cover_compile_calls_only() {
    let call = |args: &[&str], cache| ShimCall {
        package: None,
        tool: "cc".into(),
        args: args.iter().map(|a| a.to_string()).collect(),
        cwd: PathBuf::new(),
        exit: Some(0),
        refused: None,
        refused_package: None,
        mapped: vec![],
        start: 0.0,
        seconds: 0.0,
        cache,
    };
    let calls = [
        call(&["-c", "a.c"], Some(CacheOutcome::Hit)),
        call(&["-c", "b.c"], Some(CacheOutcome::Miss)),
        call(&["-c", "c.c"], Some(CacheOutcome::Hit)),
        call(
            &["-c", "d.c", "-o", "/dev/stdout"],
            Some(CacheOutcome::Uncacheable),
        ),
        call(&["-c", "e.c"], None),
        call(&["a.o", "-shared", "-o", "x.so"], None),
        call(&["-E", "-c", "x.c"], None),
    ];
    let counts = CacheCounts::of(&calls);
    assert_eq!(
        counts,
        CacheCounts {
            compiles: 5,
            hits: 2,
            misses: 1,
            uncacheable: 1,
        }
    );
    assert_eq!(counts.hit_rate(), Some(2.0 / 3.0));
    assert_eq!(CacheCounts::default().hit_rate(), None);
}

#[test]
fn ccache_depend_mode_is_on_unless_the_user_chose() {
    let environ = |host: &Fake| -> BTreeMap<String, String> {
        choose("auto", "none", host)
            .unwrap()
            .environ()
            .into_iter()
            .collect()
    };
    assert_eq!(environ(&fake(&["ccache"]))["CCACHE_DEPEND"], "1");
    let mut host = fake(&["ccache"]);
    host.vars.insert("CCACHE_NODEPEND", "1");
    assert!(!environ(&host).contains_key("CCACHE_DEPEND"));
    let mut host = fake(&["ccache"]);
    host.files.insert(
        "/home/u/.config/ccache/ccache.conf",
        "max_size = 5G\ndepend_mode = false\n",
    );
    assert!(!environ(&host).contains_key("CCACHE_DEPEND"));
    assert_eq!(
        environ(&host)["CCACHE_DIR"],
        "/cache/pyx/ccache",
        "`cache_dir` is not set there"
    );
    let sccache = choose("sccache", "none", &fake(&["sccache"])).unwrap();
    assert!(!sccache.environ().iter().any(|(k, _)| k == "CCACHE_DEPEND"));
}
