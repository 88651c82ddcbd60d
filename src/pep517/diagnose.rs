//! Turning compiler and linker output into hints for the classic cross-compile failures: a header
//! or library missing from the sysroot, a host library linked in, host-arch flags.

use std::path::Path;
use std::sync::OnceLock;

use regex::Regex;

use crate::platform::Target;
use crate::sysroot::debian::{MissingFile, SysrootInfo};

/// What went wrong, as read from a build log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diagnosis {
    /// `fatal error: foo.h: No such file or directory`.
    MissingHeader { header: String },
    /// `cannot find -lfoo`.
    MissingLibrary { library: String },
    /// pkg-config / meson / CMake could not find a dependency by name.
    MissingPkgConfig { module: String },
    /// A host header leaked in (`gnu/stubs-32.h`, `/usr/include/x86_64-linux-gnu`).
    HostHeaders,
    /// The linker saw an object for another machine (`wrong ELF class`, `file in wrong format`).
    WrongArch { line: String },
    /// A host-arch flag such as `-m64` reached the cross compiler.
    HostFlag { flag: String },
    /// A pyx compiler shim refused a host path or flag (its message and its own hint).
    ShimRefused { line: String, hint: Option<String> },
    /// numpy's long-double check without `longdouble_format`.
    LongDouble,
    /// A Rust build failed; `needs` when a crate wants a newer Rust than the toolchain
    /// (`orjson@3.13.0 requires rustc 1.95`).
    Rust { needs: Option<String> },
    /// rustc refused an x86 target feature for another CPU: a build script that tested
    /// `cfg!(target_arch)` (the build machine's) turned on x86_64-only code.
    RustHostCfg { feature: String },
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("valid pattern"))
}

/// The most telling diagnosis in a build log, looking at the last relevant line first.
pub fn diagnose(log: &str) -> Option<Diagnosis> {
    static HEADER: OnceLock<Regex> = OnceLock::new();
    static LIBRARY: OnceLock<Regex> = OnceLock::new();
    static PKG: OnceLock<Regex> = OnceLock::new();
    static FLAG: OnceLock<Regex> = OnceLock::new();
    let header = re(
        &HEADER,
        r"fatal error: ([^:\s]+\.h(?:pp|h)?): No such file or directory",
    );
    let library = re(&LIBRARY, r"cannot find -l([A-Za-z0-9_+.\-]+)");
    let pkg = re(
        &PKG,
        r#"(?:Package '?([A-Za-z0-9_+.\-]+)'?,? (?:was not found in the pkg-config search path|required by .*, not found)|Dependency "?([A-Za-z0-9_+.\-]+)"? not found|Could NOT find ([A-Za-z0-9_+.\-]+))"#,
    );
    let flag = re(
        &FLAG,
        r"unrecognized (?:command[- ]line )?option '(-m[a-z0-9=\-]+)'",
    );
    let lines: Vec<&str> = log.lines().collect();
    for (i, line) in lines.iter().enumerate().rev() {
        if line.contains("pyx refused") {
            let hint = lines[i + 1..]
                .iter()
                .take(3)
                .find_map(|l| l.trim().strip_prefix("hint: "));
            return Some(Diagnosis::ShimRefused {
                line: line.trim().trim_start_matches("error: ").to_string(),
                hint: hint.map(str::to_string),
            });
        }
        if line.contains("gnu/stubs-32.h") || line.contains("/usr/include/x86_64-linux-gnu") {
            return Some(Diagnosis::HostHeaders);
        }
        if let Some(c) = header.captures(line) {
            return Some(Diagnosis::MissingHeader {
                header: c[1].to_string(),
            });
        }
        if let Some(c) = library.captures(line) {
            return Some(Diagnosis::MissingLibrary {
                library: c[1].to_string(),
            });
        }
        if let Some(c) = pkg.captures(line) {
            let module = c.iter().skip(1).flatten().next().map(|m| m.as_str());
            return Some(Diagnosis::MissingPkgConfig {
                module: module.unwrap_or_default().to_string(),
            });
        }
        if line.contains("wrong ELF class")
            || line.contains("file in wrong format")
            || line.contains("file format not recognized")
            || (line.contains("is incompatible with") && line.contains("output"))
        {
            return Some(Diagnosis::WrongArch {
                line: line.trim().to_string(),
            });
        }
        if let Some(c) = flag.captures(line) {
            return Some(Diagnosis::HostFlag {
                flag: c[1].to_string(),
            });
        }
        if line.contains("No long double representation defined") {
            return Some(Diagnosis::LongDouble);
        }
        if let Some(feature) = line
            .split_once("error: the feature named `")
            .and_then(|(_, rest)| rest.split_once("` is not valid for this target"))
            .map(|(feature, _)| feature)
        {
            return Some(Diagnosis::RustHostCfg {
                feature: feature.to_string(),
            });
        }
        if let Some(needs) = line
            .trim()
            .split_once(" requires rustc ")
            .filter(|(krate, _)| krate.contains('@') && !krate.contains(' '))
        {
            return Some(Diagnosis::Rust {
                needs: Some(format!("{} requires rustc {}", needs.0, needs.1.trim())),
            });
        }
        if line.contains("can't find Rust compiler")
            || line.contains("setuptools_rust")
            || (line.contains("maturin") && line.contains("error"))
        {
            return Some(Diagnosis::Rust { needs: None });
        }
    }
    None
}

/// The Debian `-dev` package that ships a missing file, with whether pyx found it in the packages
/// of the release and architecture `sysroot` came from (else it is a guess: `lib<stem>-dev`).
pub fn dev_package(sysroot: &Path, missing: &MissingFile) -> (String, bool) {
    match crate::sysroot::debian::dev_package_for(sysroot, missing) {
        Some(found) => (found, true),
        None => (
            format!("lib{}-dev", missing.stems().last().expect("one stem")),
            false,
        ),
    }
}

/// `pyx sysroot add <target>`, with `--python X.Y` when `sysroot` is from another Debian release
/// than the one pyx uses by default.
pub fn sysroot_add_command(target: &Target, sysroot: &Path) -> String {
    let release = SysrootInfo::read(sysroot).and_then(|info| info.release());
    match release {
        Some(r) if r != crate::platform::profile::default_release() => {
            format!("pyx sysroot add {} --python {}", target.name, r.python)
        }
        _ => format!("pyx sysroot add {}", target.name),
    }
}

/// What a diagnosis tells the user: a hint, and the `-dev` package it names, if any (so one run's
/// missing packages can be added with one command).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advice {
    pub hint: String,
    pub dev_package: Option<String>,
}

impl Diagnosis {
    /// The hint and the `-dev` package it names (looked up once), for a build against `sysroot`.
    pub fn advice(&self, target: &Target, sysroot: &Path) -> Advice {
        let found = self.missing_file().map(|m| dev_package(sysroot, &m));
        let add = sysroot_add_command(target, sysroot);
        let hint = self.hint_for(target, &add, |_| {
            found
                .clone()
                .expect("only a missing file asks for its package")
        });
        Advice {
            hint,
            dev_package: found.map(|(package, _)| package),
        }
    }

    /// The file the sysroot lacks, for the diagnoses a `-dev` package cures.
    pub fn missing_file(&self) -> Option<MissingFile> {
        match self {
            Diagnosis::MissingHeader { header } => Some(MissingFile::Header(header.clone())),
            Diagnosis::MissingLibrary { library } => Some(MissingFile::Library(library.clone())),
            Diagnosis::MissingPkgConfig { module } => Some(MissingFile::PkgConfig(module.clone())),
            _ => None,
        }
    }

    /// [`Diagnosis::advice`]'s hint with the `-dev` package lookup given (tests need no
    /// package lists).
    pub fn hint_with(
        &self,
        target: &Target,
        dev_package: impl Fn(&MissingFile) -> (String, bool),
    ) -> String {
        self.hint_for(
            target,
            &format!("pyx sysroot add {}", target.name),
            dev_package,
        )
    }

    fn hint_for(
        &self,
        target: &Target,
        add_command: &str,
        dev_package: impl Fn(&MissingFile) -> (String, bool),
    ) -> String {
        let arch = target.debian_arch.unwrap_or(target.name);
        let add = |missing: MissingFile| {
            let (pkg, found) = dev_package(&missing);
            let check = if found {
                format!("the {arch} package that ships it")
            } else {
                format!("a guess at the {arch} package that ships it; check the name")
            };
            format!(
                "add it to the sysroot: `{add_command} --with {pkg}` ({check}), then run `pyx \
                 wheel` again"
            )
        };
        match self {
            Diagnosis::MissingHeader { header } => format!(
                "the sysroot lacks `{header}`; {}",
                add(MissingFile::Header(header.clone()))
            ),
            Diagnosis::MissingLibrary { library } => format!(
                "the sysroot lacks the library `lib{library}.so`; {}",
                add(MissingFile::Library(library.clone()))
            ),
            Diagnosis::MissingPkgConfig { module } => format!(
                "the sysroot lacks the pkg-config module `{module}`; {}",
                add(MissingFile::PkgConfig(module.clone()))
            ),
            Diagnosis::HostHeaders => "the build reached the build machine's headers \
                (`/usr/include`): something passes host include paths to the cross compiler; \
                run with -v to see the compiler calls"
                .to_string(),
            Diagnosis::WrongArch { line } => format!(
                "the linker got a file for another CPU ({line}): the build links a host library \
                 or object; make it use the sysroot's (`-L` flags, `LDFLAGS`, `library_dirs`)"
            ),
            Diagnosis::HostFlag { flag } => format!(
                "`{flag}` is a build-machine flag that {} rejects: remove it from the package's \
                 flags (setup.py, Makefile, CFLAGS)",
                target.triplet
            ),
            Diagnosis::ShimRefused { line, hint } => match hint {
                Some(h) => format!("{line}: {h}"),
                None => format!(
                    "{line}: fix the flag in the package's build files, or let it pass with {}",
                    crate::env_vars::PYX_SHIM_ALLOW
                ),
            },
            Diagnosis::LongDouble => "the build could not tell the target's long-double format: \
                meson needs the cross file's `longdouble_format` (pass it with \
                `-C setup-args=--cross-file=...` or let pyx generate it)"
                .to_string(),
            Diagnosis::Rust { needs: Some(needs) } => format!(
                "{needs}, newer than the Rust that built it (the report's `rust.rustc`): pin an \
                 older release of the package, or use a newer Rust toolchain with the target's \
                 std (RUSTC, or `rustc` on PATH after `rustup target add`)"
            ),
            Diagnosis::RustHostCfg { feature } => format!(
                "rustc refused the CPU feature `{feature}` for `{}`: the crate's build script \
                 turned on code for the build machine's CPU (it tests `cfg!(target_arch)`, which \
                 in a build script is x86_64, instead of `CARGO_CFG_TARGET_ARCH`); that is the \
                 package's bug: pin a release of it without the bug (orjson 3.11.0 to 3.13.0 \
                 have it for 64-bit targets: `orjson<3.11`), or report it upstream",
                target.name
            ),
            Diagnosis::Rust { needs: None } => "cargo's error is in the build log; pyx gave \
                cargo the target, the env's `cc` shim as linker and PyO3's configuration (see \
                the Rust section of docs/wheel.md)"
                .to_string(),
        }
    }
}

/// The last `n` telling lines of a log: blank lines and Python traceback frames left out.
pub fn tail(log: &str, n: usize) -> Vec<String> {
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| {
            let t = l.trim();
            !(t.is_empty()
                || l.starts_with("  File \"")
                || l.starts_with("    ")
                || t.starts_with("Traceback (most recent call last)")
                || t.starts_with("During handling of the above exception")
                || t.chars().all(|c| c == '^' || c == '~'))
        })
        .collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| l.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn armv7l() -> &'static Target {
        Target::lookup("armv7l").unwrap()
    }

    #[test]
    fn missing_header_names_the_dev_package() {
        let log = "gcc -c _cffi_backend.c\n\
                   c/_cffi_backend.c:15:10: fatal error: ffi.h: No such file or directory\n\
                   compilation terminated.\nerror: command 'cc' failed";
        let d = diagnose(log).unwrap();
        assert_eq!(
            d,
            Diagnosis::MissingHeader {
                header: "ffi.h".into()
            }
        );
        let guess = |m: &MissingFile| (format!("lib{}-dev", m.stem()), false);
        assert_eq!(
            d.hint_with(armv7l(), guess),
            "the sysroot lacks `ffi.h`; add it to the sysroot: `pyx sysroot add armv7l --with \
             libffi-dev` (a guess at the armhf package that ships it; check the name), then run \
             `pyx wheel` again"
        );
        let found = |_: &MissingFile| ("libffi-dev".to_string(), true);
        assert_eq!(
            d.hint_with(armv7l(), found),
            "the sysroot lacks `ffi.h`; add it to the sysroot: `pyx sysroot add armv7l --with \
             libffi-dev` (the armhf package that ships it), then run `pyx wheel` again"
        );
    }

    #[test]
    fn linker_and_pkg_config_failures() {
        let cases = [
            (
                "/usr/bin/arm-linux-gnueabihf-ld: cannot find -lyaml: No such file or directory",
                Diagnosis::MissingLibrary { library: "yaml".into() },
            ),
            (
                "Package libxml-2.0 was not found in the pkg-config search path.",
                Diagnosis::MissingPkgConfig { module: "libxml-2.0".into() },
            ),
            (
                "meson.build:3:0: ERROR: Dependency \"openblas\" not found, tried pkgconfig",
                Diagnosis::MissingPkgConfig { module: "openblas".into() },
            ),
            (
                "ld: /usr/lib/x86_64-linux-gnu/libz.so: error adding symbols: file in wrong format",
                Diagnosis::WrongArch {
                    line: "ld: /usr/lib/x86_64-linux-gnu/libz.so: error adding symbols: file in wrong format".into(),
                },
            ),
            (
                "arm-linux-gnueabihf-gcc: error: unrecognized command-line option '-m64'",
                Diagnosis::HostFlag { flag: "-m64".into() },
            ),
            (
                "/usr/include/features.h:x: fatal error: gnu/stubs-32.h: No such file or directory",
                Diagnosis::HostHeaders,
            ),
            ("#error No long double representation defined", Diagnosis::LongDouble),
            (
                "error: the feature named `bmi2` is not valid for this target",
                Diagnosis::RustHostCfg {
                    feature: "bmi2".into(),
                },
            ),
            (
                "error: rustc 1.85.0 is not supported by the following packages:\n  \
                 orjson@3.13.0 requires rustc 1.95",
                Diagnosis::Rust {
                    needs: Some("orjson@3.13.0 requires rustc 1.95".into()),
                },
            ),
        ];
        for (log, expected) in cases {
            assert_eq!(diagnose(log), Some(expected), "{log}");
        }
        assert_eq!(diagnose("all good\n"), None);
    }

    #[test]
    fn missing_files_are_what_a_dev_package_cures() {
        let header = Diagnosis::MissingHeader {
            header: "zlib.h".into(),
        };
        assert_eq!(
            header.missing_file(),
            Some(MissingFile::Header("zlib.h".into()))
        );
        let library = Diagnosis::MissingLibrary {
            library: "z".into(),
        };
        assert_eq!(
            library.missing_file(),
            Some(MissingFile::Library("z".into()))
        );
        assert_eq!(Diagnosis::HostHeaders.missing_file(), None);
    }

    #[test]
    fn dev_package_stems() {
        let stem = |m: MissingFile| m.stem();
        assert_eq!(stem(MissingFile::Header("ffi.h".into())), "ffi");
        assert_eq!(stem(MissingFile::Header("libxml/parser.h".into())), "xml");
        assert_eq!(stem(MissingFile::PkgConfig("yaml-0.1".into())), "yaml");
        assert_eq!(stem(MissingFile::Library("z".into())), "z");
    }

    #[test]
    fn tail_skips_blank_lines_and_traceback_frames() {
        assert_eq!(tail("a\n\nb\nc\n\n", 2), ["b", "c"]);
        assert_eq!(tail("a", 5), ["a"]);
        let log = "cc failed\nTraceback (most recent call last):\n  File \"x.py\", line 1, in f\n    f()\n    ^^^\n\nDuring handling of the above exception, another exception occurred:\nSystemExit: 1";
        assert_eq!(tail(log, 5), ["cc failed", "SystemExit: 1"]);
    }

    #[test]
    fn shim_refusals_keep_their_own_hint() {
        let log = "cc -I/usr/include -c x.c\n\
                   error: pyx refused `-I/usr/include` in a `cc` call for `armv7l` while building `bad`\n  \
                   Caused by: `/usr/include` holds the build machine's headers\n  \
                   hint: fix the flag in the package's build files\n\
                   SystemExit: error: command 'cc' failed with exit code 2";
        let d = diagnose(log).unwrap();
        assert_eq!(
            d.hint_with(armv7l(), |_| unreachable!()),
            "pyx refused `-I/usr/include` in a `cc` call for `armv7l` while building `bad`: fix the flag in the package's build files"
        );
    }
}
