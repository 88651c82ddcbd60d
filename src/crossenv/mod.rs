//! The cross env (stage 3): a venv of the build machine's Python in which that interpreter
//! answers like the target's, with compiler shims, a meson cross file and a CMake toolchain file.
//!
//! Layout of `<env>`: `pyvenv.cfg`; `bin/` (python links and shim wrappers);
//! `lib/pythonX.Y/site-packages/_pyx_cross.{pth,py}` (the startup patch) and `_pyx_cross_config.py`
//! (its settings); `pyx/` (env.json, shim.json, cross.ini, toolchain.cmake, the patched sysconfig
//! data, shim-log.jsonl).

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::env_vars;
use crate::files::{symlink_if_changed, write_if_changed, write_if_changed_mode};
use crate::platform::TargetProfile;
use crate::printer::with_hint;
use crate::python::{BuildPython, major_minor};

pub mod build_machine;
pub mod buildenv;
pub mod bytecode;
pub mod cmake;
pub mod config_tools;
pub mod host_paths;
pub mod installer;
pub mod launcher;
pub mod meson;
pub mod pip_config;
pub mod shim_log;
pub mod shims;
pub mod sysconfig;

use buildenv::BuildEnv;
pub use shim_log::{ShimCall, busy_seconds};
use shims::ShimConfig;

/// What a cross env was made from, stored in `<env>/pyx/env.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnvRecord {
    pub pyx_version: String,
    pub profile: TargetProfile,
    pub build_python: EnvBuildPython,
    /// Site-packages of the build env made importable when `PYX_BUILD_SITE` is not set.
    pub build_site: Option<PathBuf>,
}

/// The parts of the build Python a cross env depends on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnvBuildPython {
    pub executable: PathBuf,
    pub version: String,
    pub base_prefix: PathBuf,
    pub include: PathBuf,
    pub platinclude: PathBuf,
    pub multiarch: Option<String>,
}

impl From<&BuildPython> for EnvBuildPython {
    fn from(b: &BuildPython) -> Self {
        EnvBuildPython {
            executable: b.executable.clone(),
            version: b.version.clone(),
            base_prefix: b.base_prefix.clone(),
            include: b.include.clone(),
            platinclude: b.platinclude.clone(),
            multiarch: b.multiarch.clone(),
        }
    }
}

/// A cross env on disk.
#[derive(Debug, Clone)]
pub struct CrossEnv {
    pub dir: PathBuf,
    pub record: EnvRecord,
}

impl CrossEnv {
    /// Create (or refresh) a cross env; every file is written only if its content changed.
    pub fn create_with(
        dir: &Path,
        profile: &TargetProfile,
        build: &BuildPython,
        build_env: Option<&BuildEnv>,
    ) -> Result<CrossEnv> {
        let target_mm = major_minor(&profile.python.version);
        if build.major_minor() != target_mm {
            return Err(with_hint(
                anyhow::anyhow!(
                    "the build Python `{}` is {}, but the target's Python is {}",
                    build.executable.display(),
                    build.version,
                    profile.python.version
                ),
                format!(
                    "a cross env needs the same major.minor on both sides: point {} at a Python {target_mm}",
                    env_vars::PYX_BUILD_PYTHON
                ),
            ));
        }
        fs_err::create_dir_all(dir)?;
        let dir = fs_err::canonicalize(dir)?;
        let previous = CrossEnv::open(&dir).ok();
        let record = EnvRecord {
            pyx_version: env!("CARGO_PKG_VERSION").to_string(),
            profile: profile.clone(),
            build_python: build.into(),
            build_site: build_env
                .map(|b| b.site_packages.clone())
                .or_else(|| previous.and_then(|p| p.record.build_site)),
        };
        let env = CrossEnv { dir, record };
        env.write_files()
            .with_context(|| format!("cannot write the cross env `{}`", env.dir.display()))?;
        Ok(env)
    }

    /// The cross env pyx keeps in its cache for this profile (for `pyx run` and `pyx wheel`),
    /// refreshed on every call; keyed by target, sysroot and compilers.
    pub fn cached(
        profile: &TargetProfile,
        build: &BuildPython,
        build_env: Option<&BuildEnv>,
    ) -> Result<CrossEnv> {
        // The shims exec the pyx that wrote them: each pyx binary (and version) keeps its own env.
        let pyx = std::env::current_exe().unwrap_or_default();
        let key = serde_json::json!([
            env!("CARGO_PKG_VERSION"),
            pyx,
            profile.target,
            profile.sysroot,
            profile.python.executable,
            profile.toolchain.cc,
            profile.toolchain.cxx,
            build.executable,
        ]);
        let hash = crate::digest::short_hash(key.to_string().as_bytes(), 6);
        let dir = crate::cache::cache_dir()
            .join("envs")
            .join(format!("{}-{hash}", profile.target));
        CrossEnv::create_with(&dir, profile, build, build_env)
    }

    /// Open an existing cross env.
    pub fn open(dir: &Path) -> Result<CrossEnv> {
        let path = dir.join("pyx").join("env.json");
        let text = fs_err::read_to_string(&path).map_err(|e| {
            with_hint(
                anyhow::Error::new(e)
                    .context(format!("`{}` is not a pyx cross env", dir.display())),
                "create one with `pyx env create DIR --target TARGET`",
            )
        })?;
        let record: EnvRecord = serde_json::from_str(&text)
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        Ok(CrossEnv {
            dir: dir.to_path_buf(),
            record,
        })
    }

    pub fn profile(&self) -> &TargetProfile {
        &self.record.profile
    }

    pub fn bin(&self) -> PathBuf {
        self.dir.join("bin")
    }

    /// The env's `python`: the build interpreter answering like the target's.
    pub fn python(&self) -> PathBuf {
        self.bin().join("python")
    }

    fn pyx_dir(&self) -> PathBuf {
        self.dir.join("pyx")
    }

    pub fn meson_cross_file(&self) -> PathBuf {
        self.pyx_dir().join("cross.ini")
    }

    pub fn cmake_toolchain_file(&self) -> PathBuf {
        self.pyx_dir().join("toolchain.cmake")
    }

    /// JSON lines, one per shim call.
    pub fn shim_log(&self) -> PathBuf {
        self.pyx_dir().join("shim-log.jsonl")
    }

    /// Directory holding only the patched sysconfig data (put on `PYTHONPATH`).
    pub fn sysconfig_dir(&self) -> PathBuf {
        self.pyx_dir().join("sysconfig")
    }

    pub fn site_packages(&self) -> PathBuf {
        self.dir
            .join("lib")
            .join(format!(
                "python{}",
                major_minor(&self.record.build_python.version)
            ))
            .join("site-packages")
    }

    /// `PKG_CONFIG_LIBDIR` for the target: the sysroot's pkg-config directories.
    pub fn pkg_config_libdir(&self) -> String {
        let sysroot = &self.profile().sysroot;
        let multiarch = &self.profile().python.multiarch;
        [
            format!("usr/lib/{multiarch}/pkgconfig"),
            "usr/lib/pkgconfig".into(),
            "usr/share/pkgconfig".into(),
        ]
        .iter()
        .map(|p| sysroot.join(p).display().to_string())
        .collect::<Vec<_>>()
        .join(":")
    }

    /// The shim calls logged while building `package` (all calls when `None`).
    pub fn shim_calls(&self, package: Option<&str>) -> Result<Vec<ShimCall>> {
        Ok(shim_log::read(&self.shim_log(), package)?)
    }

    /// Environment variables a process inside the env gets (besides PATH).
    pub fn environ(&self, build_env: Option<&BuildEnv>) -> BTreeMap<String, String> {
        let profile = self.profile();
        let bin = self.bin();
        let tool = |name: &str| bin.join(name).display().to_string();
        let mut vars = self.tool_environ();
        vars.insert("VIRTUAL_ENV".into(), self.dir.display().to_string());
        vars.insert(
            env_vars::PYX_CROSS_ENV.into(),
            self.dir.display().to_string(),
        );
        vars.insert(
            "_PYTHON_HOST_PLATFORM".into(),
            profile.target().sysconfig_platform(),
        );
        vars.insert(
            "_PYTHON_SYSCONFIGDATA_NAME".into(),
            profile.python.sysconfigdata_name.clone(),
        );
        vars.insert(
            "CMAKE_TOOLCHAIN_FILE".into(),
            self.cmake_toolchain_file().display().to_string(),
        );
        vars.insert("PKG_CONFIG".into(), tool("pkg-config"));
        vars.insert(
            env_vars::PYX_MESON_CROSS_FILE.into(),
            self.meson_cross_file().display().to_string(),
        );
        if let Some(be) = build_env {
            vars.insert(
                env_vars::PYX_BUILD_SITE.into(),
                be.site_packages.display().to_string(),
            );
        }
        vars
    }

    /// The compiler and pkg-config variables, also applied by the startup patch.
    fn tool_environ(&self) -> BTreeMap<String, String> {
        let bin = self.bin();
        let tool = |name: &str| bin.join(name).display().to_string();
        let mut vars = BTreeMap::new();
        for (var, name) in [
            ("CC", "cc"),
            ("CXX", "c++"),
            ("AR", "ar"),
            ("RANLIB", "ranlib"),
            ("STRIP", "strip"),
            ("LD", "ld"),
            ("READELF", "readelf"),
        ] {
            vars.insert(var.to_string(), tool(name));
        }
        vars.insert("CPP".into(), format!("{} -E", tool("cc")));
        vars.insert("PKG_CONFIG_LIBDIR".into(), self.pkg_config_libdir());
        vars.insert(
            "PKG_CONFIG_SYSROOT_DIR".into(),
            self.profile().sysroot.display().to_string(),
        );
        vars
    }

    /// A command running `program` inside the env: the env's bin first on PATH, then the build
    /// env's; target values in the environment; the build env's packages importable.
    pub fn command(&self, program: impl AsRef<OsStr>, build_env: Option<&BuildEnv>) -> Command {
        let mut cmd = Command::new(program);
        let mut path = vec![self.bin()];
        match build_env {
            Some(be) => path.push(be.bin.clone()),
            None => path.extend(self.default_build_bin()),
        }
        if let Some(old) = std::env::var_os(env_vars::PATH) {
            path.extend(std::env::split_paths(&old));
        }
        cmd.env(
            env_vars::PATH,
            std::env::join_paths(path).unwrap_or_default(),
        );
        let mut pythonpath = vec![self.sysconfig_dir()];
        if let Some(old) = std::env::var_os("PYTHONPATH") {
            pythonpath.extend(std::env::split_paths(&old));
        }
        cmd.env(
            "PYTHONPATH",
            std::env::join_paths(pythonpath).unwrap_or_default(),
        );
        cmd.env_remove("PYTHONHOME");
        cmd.env_remove("PKG_CONFIG_PATH");
        cmd.envs(self.environ(build_env));
        cmd
    }

    /// The `bin` of the build env recorded at creation (`<build env>/lib/pythonX.Y/site-packages`).
    fn default_build_bin(&self) -> Option<PathBuf> {
        let site = self.record.build_site.as_deref()?;
        Some(site.parent()?.parent()?.parent()?.join("bin"))
    }

    fn write_files(&self) -> Result<()> {
        let profile = self.profile();
        let target = profile.target();
        let build = &self.record.build_python;
        let bin = self.bin();
        let pyx_dir = self.pyx_dir();
        fs_err::create_dir_all(&bin)?;
        fs_err::create_dir_all(self.sysconfig_dir())?;
        fs_err::create_dir_all(self.site_packages())?;

        let home = build
            .executable
            .parent()
            .context("the build Python has no directory")?;
        write_if_changed(
            &self.dir.join("pyvenv.cfg"),
            &format!(
                "home = {}\ninclude-system-site-packages = false\nversion = {}\nexecutable = {}\n\
                 pyx-target = {}\n",
                home.display(),
                build.version,
                build.executable.display(),
                target.name
            ),
        )?;
        let mm = major_minor(&build.version);
        for name in [
            "python".to_string(),
            "python3".into(),
            format!("python{mm}"),
        ] {
            symlink_if_changed(&build.executable, &bin.join(name))?;
        }

        let sysconfigdata = self
            .sysconfig_dir()
            .join(format!("{}.py", profile.python.sysconfigdata_name));
        write_if_changed(&sysconfigdata, &sysconfig::render(profile, &bin))?;

        let site = self.site_packages();
        write_if_changed(&site.join("_pyx_cross.pth"), "import _pyx_cross\n")?;
        write_if_changed(
            &site.join("_pyx_cross.py"),
            include_str!("../../shims/cross_patch.py"),
        )?;
        let relocated_prefix = format!(
            "{}{}",
            profile.sysroot.display(),
            profile.python.prefix.trim_end_matches('/')
        );
        let patch = serde_json::json!({
            "platform": target.sysconfig_platform(),
            "machine": target.name,
            "multiarch": profile.python.multiarch,
            "glibc": profile.glibc,
            "sysconfigdata_name": profile.python.sysconfigdata_name,
            "sysconfig_dir": self.sysconfig_dir(),
            "extension_suffixes": [profile.python.ext_suffix, ".abi3.so", ".so"],
            "config_vars": {
                "installed_base": relocated_prefix,
                "installed_platbase": relocated_prefix,
            },
            "environ": self.tool_environ(),
            "build_site": self.record.build_site,
        });
        write_if_changed(
            &site.join("_pyx_cross_config.py"),
            &python_literal_module(&patch),
        )?;

        let shim_config = self.shim_config();
        write_if_changed(
            &pyx_dir.join("shim.json"),
            &serde_json::to_string_pretty(&shim_config)?,
        )?;
        let pyx = std::env::current_exe().context("cannot find the pyx executable")?;
        for tool in shims::SHIM_TOOLS {
            let script = shims::wrapper_script(&pyx, &self.dir, tool);
            write_if_changed_mode(&bin.join(tool), &script, 0o755)?;
        }
        self.write_pip_wrappers(&bin)?;
        let config_programs = self.config_programs();
        config_tools::write_wrappers(&bin, &pyx, &self.dir, &config_programs)?;
        let sysroot_configs: Vec<&str> = config_programs
            .iter()
            .filter(|n| config_tools::find_in_sysroot(&shim_config, n).is_some())
            .map(String::as_str)
            .collect();
        write_if_changed(
            &self.meson_cross_file(),
            &meson::render(profile, &bin, &self.pkg_config_libdir(), &sysroot_configs),
        )?;
        write_if_changed(
            &self.cmake_toolchain_file(),
            &cmake::render(profile, &bin, &self.pkg_config_libdir()),
        )?;
        write_if_changed(
            &pyx_dir.join("env.json"),
            &serde_json::to_string_pretty(&self.record)?,
        )?;
        Ok(())
    }

    /// `bin/pip`, `pip3`, `pip3.X`: the env's Python running the build env's pip, so pip sees the
    /// target's tags and installs into the env (not the build machine's pip first on PATH, which
    /// installs into another Python). Without pip in the build env there are none.
    fn write_pip_wrappers(&self, bin: &Path) -> Result<()> {
        let mm = major_minor(&self.record.build_python.version);
        let names = ["pip".to_string(), "pip3".into(), format!("pip{mm}")];
        let has_pip = self
            .record
            .build_site
            .as_ref()
            .is_some_and(|site| site.join("pip").join("__init__.py").is_file());
        for name in names {
            let path = bin.join(&name);
            if has_pip {
                let script = format!(
                    "#!/bin/sh\n# pyx cross env: pip for the target, installing into this env.\n\
                     exec {} -m pip \"$@\"\n",
                    shims::sh_quote(&self.python().display().to_string())
                );
                write_if_changed_mode(&path, &script, 0o755)?;
            } else if path.is_file() {
                fs_err::remove_file(&path)?;
            }
        }
        Ok(())
    }

    /// The `*-config` programs the env's `bin` stands in for: the sysroot's and the build
    /// machine's PATH's, less those the build env provides.
    fn config_programs(&self) -> BTreeSet<String> {
        let bin = self.bin();
        let build_bin = self.default_build_bin();
        let path = std::env::var_os(env_vars::PATH).unwrap_or_default();
        let dirs: Vec<PathBuf> = std::env::split_paths(&path)
            .filter(|d| *d != bin && Some(d) != build_bin.as_ref())
            .collect();
        let skip: BTreeSet<String> = build_bin
            .and_then(|b| fs_err::read_dir(b).ok())
            .map(|entries| {
                entries
                    .flatten()
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        let profile = self.profile();
        config_tools::wrapper_names(
            &profile.sysroot,
            &target_multiarch(&profile.sysroot, &profile.python.multiarch),
            &dirs,
            &skip,
        )
    }

    fn shim_config(&self) -> ShimConfig {
        let profile = self.profile();
        let target = profile.target();
        let build = &self.record.build_python;
        let tc = &profile.toolchain;
        // A build Python in a system prefix (`/usr`) has its files where system paths map into the
        // sysroot; one elsewhere (pyenv, a provisioned copy) has nothing the target could mean.
        let system_prefix = ["/usr", "/usr/local", "/"]
            .iter()
            .any(|p| shims::normalize(&build.base_prefix) == Path::new(p));
        let refused_dirs = if system_prefix {
            Vec::new()
        } else {
            ["include", "lib", "lib64"]
                .iter()
                .map(|sub| shims::normalize(&build.base_prefix.join(sub)))
                .collect()
        };
        let target_include = profile.python.include_dir.clone();
        let mut include_rewrites = vec![(shims::normalize(&build.include), target_include.clone())];
        if build.platinclude != build.include {
            include_rewrites.push((shims::normalize(&build.platinclude), target_include));
        }
        let bin = self.bin();
        let resolve = |cmd: &[String]| shims::resolve_program(cmd, &bin);
        let tools = [
            ("cc", &tc.cc),
            ("c++", &tc.cxx),
            ("ar", &tc.ar),
            ("ranlib", &tc.ranlib),
            ("strip", &tc.strip),
            ("ld", &tc.ld),
            ("readelf", &tc.readelf),
            ("pkg-config", &vec!["pkg-config".to_string()]),
        ]
        .into_iter()
        .map(|(name, cmd)| (name.to_string(), resolve(cmd)))
        .collect();
        ShimConfig {
            target: target.name.to_string(),
            sysroot: profile.sysroot.clone(),
            tools,
            include_rewrites,
            refused_dirs,
            host_multiarch: build
                .multiarch
                .clone()
                .unwrap_or_else(|| "x86_64-linux-gnu".to_string()),
            target_multiarch: target_multiarch(&profile.sysroot, &profile.python.multiarch),
            python_version: major_minor(&profile.python.version).to_string(),
            pkg_config_libdir: self.pkg_config_libdir(),
            log: self.shim_log(),
            env_dir: self.dir.clone(),
            libatomic: tc.libatomic.clone(),
        }
    }
}

/// A Python module binding `CONFIG` to `value`. JSON is a Python expression once `true`, `false`
/// and `null` are names: serde_json writes only escapes Python reads alike (`\"`, `\\`, `\n`,
/// `\uXXXX` ...) and other characters as UTF-8, Python's source encoding.
fn python_literal_module(value: &serde_json::Value) -> String {
    format!(
        "\"\"\"Settings of the pyx cross env's startup patch, written by `pyx env create`.\"\"\"\n\
         false, true, null = False, True, None\n\
         CONFIG = {value}\n\
         del false, true, null\n"
    )
}

/// The target's multiarch directory name when the sysroot uses one (Debian); empty for a root
/// without (Buildroot, Yocto), where the build machine's multiarch dirs map to plain `lib`/`include`.
fn target_multiarch(sysroot: &Path, multiarch: &str) -> String {
    let used = !multiarch.is_empty()
        && ["usr/lib", "usr/include", "lib"]
            .iter()
            .any(|d| sysroot.join(d).join(multiarch).is_dir());
    if used {
        multiarch.to_string()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    /// The settings module reads back in Python as the JSON it was made from.
    #[test]
    fn the_settings_module_is_the_json_as_python_reads_it() {
        let python = which::which("python3").expect("python3 on PATH");
        let value = serde_json::json!({
            "path": "/tmp/a \"quoted\" dir\\with\\backslashes",
            "lines": "one\ntwo\tthree\r\u{1}",
            "unicode": "Zürich ☃ 𝄞",
            "flags": [true, false, null, 0, -1.5],
            "nested": {"empty": {}, "list": []},
        });
        let dir = tempfile::tempdir().unwrap();
        fs_err::write(
            dir.path().join("settings.py"),
            super::python_literal_module(&value),
        )
        .unwrap();
        let out = std::process::Command::new(python)
            .args([
                "-I",
                "-c",
                "import json, sys; sys.path.insert(0, sys.argv[1]); import settings; \
                 print(json.dumps(settings.CONFIG)); print(sorted(vars(settings)))",
            ])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let mut lines = text.lines();
        let back: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
        assert_eq!(back, value);
        assert!(
            !lines.next().unwrap().contains("'true'"),
            "the helper names are gone"
        );
    }
}
