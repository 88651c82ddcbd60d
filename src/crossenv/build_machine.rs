//! The build machine's copies of platform-specific build requirements (numpy's x86_64 headers and
//! static libraries in a build env). pyx gives a build the target's copies (see
//! `pipeline::target_deps`); a compile or link that still reads a build-machine copy would compile
//! for the wrong CPU's type sizes and pass every later check, so the shims refuse it. A static
//! library on a link line whose objects are for another machine is refused too.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::shims::normalize;
use crate::env_vars;
use crate::platform::Target;
use crate::platform::toolchain::FoundIdentity;

/// A platform-specific distribution in the build env whose files a cross compile must not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostPackage {
    pub name: String,
    pub version: String,
    /// Its top-level directories in the build env's site-packages.
    pub dirs: Vec<PathBuf>,
}

/// The build-machine packages of the current build: `PYX_BUILD_MACHINE_PACKAGES` as `pyx wheel`
/// sets it, else (an env used by hand: `pyx run`, `pyx env create`) found in the site-packages of
/// the build env (`PYX_BUILD_SITE`, or the one the env `env_dir` was made with) and of the env.
pub fn from_env(env_dir: &Path) -> Vec<HostPackage> {
    if let Ok(v) = std::env::var(env_vars::PYX_BUILD_MACHINE_PACKAGES) {
        return serde_json::from_str(&v).unwrap_or_default();
    }
    let mut sites: Vec<PathBuf> = match std::env::var_os(env_vars::PYX_BUILD_SITE) {
        Some(v) => std::env::split_paths(&v).collect(),
        None => super::CrossEnv::open(env_dir)
            .ok()
            .and_then(|e| e.record.build_site)
            .into_iter()
            .collect(),
    };
    if !env_dir.as_os_str().is_empty() {
        let lib = env_dir.join("lib");
        sites.extend(
            std::fs::read_dir(lib)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path().join("site-packages")),
        );
    }
    sites
        .iter()
        .flat_map(|site| super::buildenv::installed_dists(site))
        .filter(super::buildenv::InstalledDist::is_platform_c_api)
        .map(|d| HostPackage {
            dirs: d.top_level_dirs(),
            name: d.name,
            version: d.version,
        })
        .collect()
}

/// A compiler argument that reads a build-machine copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRead {
    /// The argument as written.
    pub flag: String,
    pub package: String,
    pub version: String,
}

/// Paths a compiler or linker argument names: `-I DIR`, `-LDIR`, `-isystem DIR`, `-Wl,-L,DIR`,
/// and plain file arguments; relative ones resolved against `cwd`.
fn named_paths(args: &[OsString], cwd: &Path) -> Vec<(String, PathBuf)> {
    const DIR_FLAGS: &[&str] = &["-isystem", "-idirafter", "-iquote", "-I", "-L"];
    let abs = |p: &str| normalize(&cwd.join(p));
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let Some(arg) = args[i].to_str() else {
            i += 1;
            continue;
        };
        if let Some(flag) = DIR_FLAGS.iter().find(|f| arg.starts_with(**f)) {
            let dir = if arg.len() > flag.len() {
                Some(arg[flag.len()..].to_string())
            } else {
                i += 1;
                args.get(i).and_then(|a| a.to_str()).map(str::to_string)
            };
            if let Some(dir) = dir {
                out.push((format!("{flag}{dir}"), abs(&dir)));
            }
        } else if let Some(list) = arg.strip_prefix("-Wl,") {
            let parts: Vec<&str> = list.split(',').collect();
            for (j, part) in parts.iter().enumerate() {
                let dir = match *part {
                    "-L" => parts.get(j + 1).copied(),
                    p => p.strip_prefix("-L").filter(|d| !d.is_empty()),
                };
                if let Some(dir) = dir {
                    out.push((arg.to_string(), abs(dir)));
                }
            }
        } else if !arg.starts_with('-') && (arg.contains('/') || arg.ends_with(".a")) {
            out.push((arg.to_string(), abs(arg)));
        }
        i += 1;
    }
    out
}

/// The first argument that names a file or directory of a build-machine package.
pub fn find_host_read(args: &[OsString], cwd: &Path, packages: &[HostPackage]) -> Option<HostRead> {
    if packages.is_empty() {
        return None;
    }
    named_paths(args, cwd).into_iter().find_map(|(flag, path)| {
        let package = packages
            .iter()
            .find(|p| p.dirs.iter().any(|d| path.starts_with(d)))?;
        Some(HostRead {
            flag,
            package: package.name.clone(),
            version: package.version.clone(),
        })
    })
}

/// A static library on a link line that holds an object for another machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignArchive {
    pub archive: PathBuf,
    pub object: String,
    /// What the object is, e.g. `EM_X86_64 (e_machine 62), ELF64, little-endian`.
    pub found: String,
}

/// Check the static libraries a link would use (machine, class and endianness of their objects) (explicit `.a` arguments, and `-lNAME` found as
/// `libNAME.a` in a `-L` directory without a `libNAME.so`), outside the sysroot, against `target`.
pub fn find_foreign_archive(
    args: &[OsString],
    cwd: &Path,
    sysroot: &Path,
    target: &Target,
) -> Option<ForeignArchive> {
    let named = named_paths(args, cwd);
    let lib_dirs: Vec<&PathBuf> = named
        .iter()
        .filter(|(flag, _)| flag.starts_with("-L") || flag.starts_with("-Wl,"))
        .map(|(_, p)| p)
        .collect();
    let mut archives: Vec<PathBuf> = named
        .iter()
        .filter(|(_, p)| p.extension().is_some_and(|e| e == "a"))
        .map(|(_, p)| p.clone())
        .collect();
    for arg in args.iter().filter_map(|a| a.to_str()) {
        let Some(lib) = arg.strip_prefix("-l") else {
            continue;
        };
        let (file, static_only) = match lib.strip_prefix(':') {
            Some(exact) => (exact.to_string(), true),
            None => (format!("lib{lib}.a"), false),
        };
        let found = lib_dirs.iter().find_map(|d| {
            let a = d.join(&file);
            let shared = d.join(format!("lib{lib}.so"));
            (a.is_file() && (static_only || !shared.exists())).then_some(a)
        });
        archives.extend(found);
    }
    archives
        .into_iter()
        .filter(|a| !a.starts_with(sysroot))
        .find_map(|a| foreign_object(&a, target))
}

/// The first object in the archive at `path` that is ELF for another machine.
fn foreign_object(path: &Path, target: &Target) -> Option<ForeignArchive> {
    let bytes = std::fs::read(path).ok()?;
    let archive = goblin::archive::Archive::parse(&bytes).ok()?;
    archive.members().into_iter().find_map(|object| {
        let data = archive.extract(object, &bytes).ok()?;
        let found = FoundIdentity::read(data).ok()?;
        (!found.matches_machine(&target.elf)).then(|| ForeignArchive {
            archive: path.to_path_buf(),
            object: object.to_string(),
            found: crate::platform::toolchain::describe(
                found.machine,
                found.class,
                found.endian,
                found.float_abi,
            ),
        })
    })
}

/// A shell word: `'...'` with embedded quotes escaped.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn reads_of_build_machine_packages_are_found() {
        let numpy = HostPackage {
            name: "numpy".into(),
            version: "2.4.6".into(),
            dirs: vec!["/be/site/numpy".into()],
        };
        let packages = [numpy];
        let cwd = Path::new("/build");
        let read = |a: &[&str]| find_host_read(&args(a), cwd, &packages).map(|r| r.flag);
        assert_eq!(
            read(&["-c", "-I/be/site/numpy/_core/include", "x.c"]).as_deref(),
            Some("-I/be/site/numpy/_core/include")
        );
        assert_eq!(
            read(&["-I", "/be/site/numpy/_core/include"]).as_deref(),
            Some("-I/be/site/numpy/_core/include")
        );
        assert_eq!(
            read(&["-Wl,-L,/be/site/numpy/_core/lib"]).as_deref(),
            Some("-Wl,-L,/be/site/numpy/_core/lib")
        );
        assert_eq!(
            read(&["/be/site/numpy/_core/lib/libnpymath.a"]).as_deref(),
            Some("/be/site/numpy/_core/lib/libnpymath.a")
        );
        assert_eq!(read(&["-I/overlay/site/numpy/_core/include", "-O2"]), None);
        assert_eq!(read(&["-I/be/site/numpyx"]), None);
        assert_eq!(find_host_read(&args(&["-I/be/site/numpy"]), cwd, &[]), None);
    }

    #[test]
    fn foreign_objects_in_static_archives_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let object = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/elf/x86_64.so"
        ))
        .unwrap();
        let mut ar = b"!<arch>\n".to_vec();
        ar.extend(
            format!(
                "{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
                "x.o/",
                0,
                0,
                0,
                644,
                object.len()
            )
            .as_bytes(),
        );
        ar.extend(&object);
        if object.len() % 2 == 1 {
            ar.push(b'\n');
        }
        std::fs::create_dir_all(dir.path().join("lib")).unwrap();
        std::fs::write(dir.path().join("lib/libfoo.a"), &ar).unwrap();
        let armv7l = Target::lookup("armv7l").unwrap();
        let found = find_foreign_archive(
            &args(&["-shared", "-Llib", "-lfoo", "-o", "x.so"]),
            dir.path(),
            Path::new("/sysroot"),
            armv7l,
        )
        .unwrap();
        assert_eq!(found.object, "x.o");
        assert!(found.found.starts_with("EM_X86_64"), "{}", found.found);
        let x86_64 = Target::lookup("x86_64").unwrap();
        assert_eq!(
            find_foreign_archive(
                &args(&["lib/libfoo.a"]),
                dir.path(),
                Path::new("/s"),
                x86_64
            ),
            None
        );
        assert_eq!(
            find_foreign_archive(&args(&["lib/libfoo.a"]), dir.path(), dir.path(), armv7l),
            None,
            "the sysroot's own archives are the target's"
        );
    }
}
