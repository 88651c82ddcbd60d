//! What a Rust build's hooks see: cargo's target, the env's `cc` shim as the target's linker and
//! C compiler (so `--sysroot` and the shim log apply), PyO3's configuration from the target
//! profile, and the build machine's own compiler and pkg-config for build scripts and
//! proc-macros (the env's shims in front of PATH refuse host code).
//!
//! Only the hooks of a Rust build get these variables: pip, which fills the build env, never
//! does (a Rust sdist among the build requirements is built for the build machine).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{HOST_TRIPLE, RustError, RustTarget, RustToolchain};
use crate::crossenv::CrossEnv;
use crate::files::write_if_changed_mode;
use crate::platform::TargetProfile;
use crate::python::major_minor;

/// Variables for the hooks, and a directory to put first on PATH.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RustEnv {
    pub vars: Vec<(String, String)>,
    pub path_prefix: Option<PathBuf>,
}

/// The environment of a Rust build in `env`; writes the PyO3 configuration and the
/// build-machine compiler wrappers into `<env>/pyx/rust/`.
pub fn for_build(
    toolchain: &RustToolchain,
    rust: &RustTarget,
    env: &CrossEnv,
) -> Result<RustEnv, RustError> {
    let files = env.dir.join("pyx").join("rust");
    let write = |name: &str, content: &str, mode: u32| {
        let path = files.join(name);
        write_if_changed_mode(&path, content, mode)
            .map(|_| path)
            .map_err(|e| RustError::Files(format!("{e:#}")))
    };
    let pyo3 = write("pyo3-config.txt", &pyo3_config(env.profile()), 0o644)?;
    let bin = env.bin();
    let tool = |name: &str| bin.join(name).display().to_string();
    let mut vars = vec![
        ("RUSTC".to_string(), toolchain.rustc.display().to_string()),
        ("CARGO".to_string(), toolchain.cargo.display().to_string()),
        ("MATURIN_NO_INSTALL_RUST".to_string(), "1".to_string()),
        ("CARGO_BUILD_TARGET".to_string(), rust.triple.to_string()),
        (
            format!("CARGO_TARGET_{}_LINKER", rust.env_upper()),
            tool("cc"),
        ),
        (format!("CC_{}", rust.env_lower()), tool("cc")),
        (format!("CXX_{}", rust.env_lower()), tool("c++")),
        (format!("AR_{}", rust.env_lower()), tool("ar")),
        ("PYO3_CONFIG_FILE".to_string(), pyo3.display().to_string()),
    ];
    if rust.triple != HOST_TRIPLE {
        let host = HostTools::find();
        let host_triple = HOST_TRIPLE.replace('-', "_");
        if let Some(cc) = &host.cc {
            let cc = write("host-cc", &host_wrapper(cc), 0o755)?;
            let cc = cc.display().to_string();
            vars.push((
                format!("CARGO_TARGET_{}_LINKER", host_triple.to_ascii_uppercase()),
                cc.clone(),
            ));
            vars.push((format!("CC_{host_triple}"), cc));
        } else {
            tracing::warn!(
                "no C compiler for the build machine on PATH: cargo's build scripts will fail to link"
            );
        }
        if let Some(cxx) = &host.cxx {
            let cxx = write("host-c++", &host_wrapper(cxx), 0o755)?;
            vars.push((format!("CXX_{host_triple}"), cxx.display().to_string()));
        }
        if let Some(ar) = &host.ar {
            vars.push((format!("AR_{host_triple}"), ar.display().to_string()));
        }
        if let Some(pkg_config) = &host.pkg_config {
            // The pkg-config crate reads `HOST_*` for build scripts (TARGET = HOST); without
            // these they would get the target's `.pc` files through the env's variables.
            vars.push((
                "HOST_PKG_CONFIG".to_string(),
                pkg_config.display().to_string(),
            ));
            if let Some(libdir) = &host.pc_path {
                vars.push(("HOST_PKG_CONFIG_LIBDIR".to_string(), libdir.clone()));
            }
            vars.push(("HOST_PKG_CONFIG_SYSROOT_DIR".to_string(), "/".to_string()));
        }
    }
    Ok(RustEnv {
        vars,
        path_prefix: toolchain.bin.clone(),
    })
}

/// `PYO3_CONFIG_FILE` for the target's Python, with only the keys every PyO3 from 0.15 to 0.30
/// accepts (older ones refuse unknown keys). It spares PyO3 and maturin any interpreter
/// discovery: `PYO3_CROSS_LIB_DIR` would make them look for the sysconfig data named by the
/// env's `_PYTHON_SYSCONFIGDATA_NAME`, a symlink in Debian that they do not follow. Crates with
/// an `abi3-py3X` feature still build for the stable ABI.
pub fn pyo3_config(profile: &TargetProfile) -> String {
    let python = &profile.python;
    let mm = major_minor(&python.version);
    let shared = python
        .config_vars
        .get("Py_ENABLE_SHARED")
        .and_then(serde_json::Value::as_i64)
        .is_none_or(|v| v != 0);
    let build_flags = if python.abiflags.contains('t') {
        "Py_GIL_DISABLED"
    } else {
        ""
    };
    format!(
        "implementation=CPython\nversion={mm}\nshared={shared}\nabi3=false\n\
         lib_name=python{mm}{}\nlib_dir={}\npointer_width={}\nbuild_flags={build_flags}\n\
         suppress_build_script_link_lines=false\n",
        python.abiflags,
        python.libdir.display(),
        if profile.target().is_64bit() { 64 } else { 32 },
    )
}

/// Wrappers named `rustc` and `cargo` for a toolchain given by `RUSTC`/`CARGO`, so that backends
/// running plain `cargo` from PATH (maturin) use it: `<cache>/rust/user-<hash>/bin`.
pub fn user_wrappers(rustc: &Path, cargo: &Path) -> Result<PathBuf, RustError> {
    let key = format!("{}\n{}", rustc.display(), cargo.display());
    let dir = super::debian::roots_dir()
        .join(format!(
            "user-{}",
            crate::digest::short_hash(key.as_bytes(), 6)
        ))
        .join("bin");
    for (name, program) in [("rustc", rustc), ("cargo", cargo)] {
        let script = format!(
            "#!/bin/sh\nexec {} \"$@\"\n",
            quote(&program.display().to_string())
        );
        write_if_changed_mode(&dir.join(name), &script, 0o755)
            .map_err(|e| RustError::Files(format!("{e:#}")))?;
    }
    Ok(dir)
}

/// The build machine's compiler, archiver and pkg-config, from pyx's PATH without cross envs.
#[derive(Debug, Default)]
struct HostTools {
    cc: Option<PathBuf>,
    cxx: Option<PathBuf>,
    ar: Option<PathBuf>,
    pkg_config: Option<PathBuf>,
    /// The host pkg-config's default search path.
    pc_path: Option<String>,
}

impl HostTools {
    fn find() -> HostTools {
        let path = std::env::var_os(crate::env_vars::PATH).unwrap_or_default();
        // A `bin` whose env has `pyx/env.json` is a cross env's: its tools are the target's.
        let dirs: Vec<PathBuf> = std::env::split_paths(&path)
            .filter(|d| !d.join("../pyx/env.json").is_file())
            .collect();
        let search = std::env::join_paths(&dirs).unwrap_or_default();
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        let first = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| which::which_in(n, Some(&search), &cwd).ok())
        };
        let pkg_config = first(&["pkg-config", "pkgconf"]);
        let pc_path = pkg_config.as_ref().and_then(|p| {
            let out = Command::new(p)
                .args(["--variable", "pc_path", "pkg-config"])
                .env_remove("PKG_CONFIG_LIBDIR")
                .env_remove("PKG_CONFIG_SYSROOT_DIR")
                .output()
                .ok()?;
            let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
            (out.status.success() && !text.is_empty()).then_some(text)
        });
        HostTools {
            cc: first(&["x86_64-linux-gnu-gcc", "gcc", "cc"]),
            cxx: first(&["x86_64-linux-gnu-g++", "g++", "c++"]),
            ar: first(&["x86_64-linux-gnu-ar", "ar"]),
            pkg_config,
            pc_path,
        }
    }
}

/// A build-machine compiler run with a PATH that has no cross env in it: gcc's collect2 finds
/// `ld` on PATH, which in the env is the target's `ld` shim.
fn host_wrapper(program: &Path) -> String {
    let dir = program.parent().unwrap_or(Path::new("/usr/bin"));
    format!(
        "#!/bin/sh\n# pyx: the build machine's compiler, for cargo's build scripts and \
         proc-macros\nPATH={}:/usr/bin:/bin exec {} \"$@\"\n",
        quote(&dir.display().to_string()),
        quote(&program.display().to_string())
    )
}

fn quote(s: &str) -> String {
    shlex::try_quote(s).map_or_else(|_| s.to_string(), |q| q.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_compilers_run_without_the_env_on_path() {
        insta::assert_snapshot!(host_wrapper(Path::new("/usr/bin/x86_64-linux-gnu-gcc")), @r#"
        #!/bin/sh
        # pyx: the build machine's compiler, for cargo's build scripts and proc-macros
        PATH=/usr/bin:/usr/bin:/bin exec /usr/bin/x86_64-linux-gnu-gcc "$@"
        "#);
    }
}
