//! The compiler and tool shims of a cross env: what each shim knows about the target
//! ([`ShimConfig`], written to `<env>/pyx/shim.json`), the wrapper scripts in `<env>/bin`, and the
//! argument check that rewrites the build Python's headers to the target's, maps the build
//! machine's system paths into the sysroot (see [`super::host_paths`]) and refuses what has no
//! meaning on the target.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::host_paths::{DirKind, HostPaths, Meaning};
use super::shim_log::Mapping;
use crate::env_vars;
use crate::platform::Target;

/// The tools a cross env shims, by the name of the wrapper in `<env>/bin`.
pub const SHIM_TOOLS: &[&str] = &[
    "cc",
    "c++",
    "gcc",
    "g++",
    "ar",
    "ranlib",
    "strip",
    "ld",
    "readelf",
    "pkg-config",
];

/// What the shims of one env need to know, read on every shim call.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShimConfig {
    /// The row of the target table (its flags, word size and compiler package come from there).
    pub target: String,
    pub sysroot: PathBuf,
    /// The real command behind each shim name (`cc`, `c++`, `ar`, ..., `pkg-config`), with its
    /// program resolved to an absolute path outside the env at env creation.
    pub tools: BTreeMap<String, Vec<String>>,
    /// Include directories of the build Python and the target's directory that replaces them.
    pub include_rewrites: Vec<(PathBuf, PathBuf)>,
    /// Directories of the build Python's prefix (`include`, `lib`, `lib64`) when that is not a
    /// system prefix: a flag or file under one of them is refused.
    #[serde(default)]
    pub refused_dirs: Vec<PathBuf>,
    /// The build machine's multiarch directory name (`x86_64-linux-gnu`) and the target's
    /// (`arm-linux-gnueabihf`, empty when the sysroot has none).
    #[serde(default)]
    pub host_multiarch: String,
    #[serde(default)]
    pub target_multiarch: String,
    /// The target Python's `major.minor`: `python3-config` is the sysroot's `python3.X-config`.
    #[serde(default)]
    pub python_version: String,
    pub pkg_config_libdir: String,
    /// JSON-lines log of every shim call.
    pub log: PathBuf,
    /// The cross env directory (its own site-packages and the build env it was made with).
    #[serde(default)]
    pub env_dir: PathBuf,
    /// The libatomic put at the end of every link (see
    /// [`crate::platform::toolchain::Toolchain::libatomic`]).
    #[serde(default)]
    pub libatomic: Option<crate::platform::toolchain::AtomicLibrary>,
}

impl ShimConfig {
    /// The real command behind a shim name (`gcc`/`g++` are `cc`/`c++`).
    pub fn tool(&self, shim: &str) -> Option<&[String]> {
        let key = match shim {
            "gcc" => "cc",
            "g++" => "c++",
            other => other,
        };
        self.tools
            .get(key)
            .filter(|cmd| !cmd.is_empty())
            .map(Vec::as_slice)
    }

    /// The target this env builds for.
    pub fn target(&self) -> &'static Target {
        Target::lookup(&self.target).expect("a shim config names a known target")
    }

    /// The sysroot's C library directory (`<sysroot>/usr/lib/<multiarch>` holding `libc.so`), which
    /// the shims put on the linker's path: Debian's cross gcc searches its own copy of glibc
    /// (`/usr/<triplet>/lib`, Debian 12's 2.36) before the sysroot's, and a sysroot library built
    /// against a newer glibc (Debian 13's 2.41) then fails to link (`__isoc23_strtol@GLIBC_2.38`).
    pub fn libc_dir(&self) -> Option<PathBuf> {
        let dir = self.sysroot.join("usr/lib").join(&self.target_multiarch);
        (!self.target_multiarch.is_empty() && dir.join("libc.so").is_file()).then_some(dir)
    }

    /// How this env maps the build machine's system paths into its sysroot.
    pub fn host_paths(&self) -> HostPaths<'_> {
        HostPaths {
            sysroot: &self.sysroot,
            host_multiarch: &self.host_multiarch,
            target_multiarch: &self.target_multiarch,
        }
    }
}

/// Resolve a tool command's program to an absolute path on PATH, skipping the env's own `bin`
/// (a shim that found itself would call itself forever).
pub fn resolve_program(cmd: &[String], env_bin: &Path) -> Vec<String> {
    let Some((program, rest)) = cmd.split_first() else {
        return Vec::new();
    };
    if program.contains('/') {
        return cmd.to_vec();
    }
    let path = std::env::var_os(env_vars::PATH).unwrap_or_default();
    let dirs = std::env::split_paths(&path).filter(|d| d != env_bin);
    let found = std::env::join_paths(dirs)
        .ok()
        .and_then(|p| which::which_in(program, Some(p), "/").ok());
    match found {
        Some(abs) => std::iter::once(abs.display().to_string())
            .chain(rest.iter().cloned())
            .collect(),
        None => cmd.to_vec(),
    }
}

/// The wrapper script `<env>/bin/<tool>`. When `pyx-shim` sits beside `pyx` and the line fits, the
/// kernel starts it directly (`#!/path/to/pyx-shim ENV`, the tool being the script's name): no
/// shell and a small binary, which halves what a shim adds to each of a configure step's hundreds
/// of compiler calls. Else a shell script execs `pyx shim --env ENV TOOL`.
pub fn wrapper_script(pyx: &Path, env: &Path, tool: &str) -> String {
    let note = format!("# pyx cross env shim for `{tool}`; regenerated by `pyx env create`.");
    match interpreter_line(pyx, env) {
        Some(line) => format!("{line}\n{note}\n"),
        None => format!(
            "#!/bin/sh\n{note}\nexec {} shim --env {} {tool} \"$@\"\n",
            sh_quote(&pyx.display().to_string()),
            sh_quote(&env.display().to_string()),
        ),
    }
}

/// The longest `#!` line every Linux kernel reads whole (older ones stop at 127 bytes).
const MAX_SHEBANG: usize = 127;

/// `#!<dir of pyx>/pyx-shim ENV`, when `pyx-shim` is there and the line holds both paths as the
/// kernel splits it: no whitespace, within [`MAX_SHEBANG`].
fn interpreter_line(pyx: &Path, env: &Path) -> Option<String> {
    let shim = pyx.with_file_name("pyx-shim");
    let (shim_str, env_str) = (shim.to_str()?, env.to_str()?);
    let plain = |s: &str| !s.is_empty() && !s.chars().any(char::is_whitespace);
    let line = format!("#!{shim_str} {env_str}");
    (plain(shim_str) && plain(env_str) && line.len() <= MAX_SHEBANG && shim.is_file())
        .then_some(line)
}

pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A flag a shim refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The flag as written in `PYX_SHIM_ALLOW` to let it pass (`-I/usr/include`, `-m64`).
    pub flag: String,
    pub reason: String,
}

/// `PYX_SHIM_ALLOW`: `all`, or space-separated flags that may pass.
#[derive(Debug, Default, Clone)]
pub struct Allow {
    all: bool,
    flags: Vec<String>,
}

impl Allow {
    pub fn from_env() -> Allow {
        Allow::parse(&std::env::var(env_vars::PYX_SHIM_ALLOW).unwrap_or_default())
    }

    pub fn parse(value: &str) -> Allow {
        let flags: Vec<String> = value.split_whitespace().map(str::to_string).collect();
        Allow {
            all: flags.iter().any(|f| f == "all"),
            flags,
        }
    }

    pub fn allows(&self, flag: &str) -> bool {
        self.all || self.flags.iter().any(|f| f == flag)
    }
}

/// Flags that take a directory, longest first so `-isystem` is not read as `-i` + `system`.
const DIR_FLAGS: &[&str] = &["-isystem", "-idirafter", "-iquote", "-I", "-L"];

/// Arguments after the check: what the real tool gets, and each host path mapped on the way
/// (the argument as written, and what it became; empty when it was dropped).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rewritten {
    pub args: Vec<OsString>,
    pub mapped: Vec<Mapping>,
}

/// Check and rewrite the arguments of a compiler or linker call for the target: the build
/// Python's headers become the target's, system paths of the build machine the sysroot's, bare
/// system directories go; a host-arch flag or a path into the build Python's prefix is refused.
/// A flag `allow` names passes unchanged.
pub fn rewrite_args(
    cfg: &ShimConfig,
    args: &[OsString],
    allow: &Allow,
) -> Result<Rewritten, Refusal> {
    Rewriter {
        cfg,
        allow,
        printed: false,
        out: Rewritten::default(),
    }
    .run(args)
}

/// Map the host paths in what a `*-config` program printed (`-I/usr/include/libxml2`, `--prefix`
/// printing `/usr`) into the sysroot, line by line; refusals are left to the compiler shim.
pub fn rewrite_printed(cfg: &ShimConfig, text: &str) -> (String, Vec<Mapping>) {
    let mut mapped = Vec::new();
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let tokens: Vec<OsString> = body.split_whitespace().map(OsString::from).collect();
        let rewritten = Rewriter {
            cfg,
            allow: &Allow::default(),
            printed: true,
            out: Rewritten::default(),
        }
        .run(&tokens)
        .unwrap_or_default();
        if rewritten.mapped.is_empty() {
            out.push_str(line);
            continue;
        }
        let words: Vec<String> = rewritten
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        out.push_str(&words.join(" "));
        out.push_str(end);
        mapped.extend(rewritten.mapped);
    }
    (out, mapped)
}

struct Rewriter<'a> {
    cfg: &'a ShimConfig,
    allow: &'a Allow,
    /// Words a `*-config` program printed: every path under `/usr` is mapped, nothing refused.
    printed: bool,
    out: Rewritten,
}

impl Rewriter<'_> {
    fn run(mut self, args: &[OsString]) -> Result<Rewritten, Refusal> {
        let mut i = 0;
        while i < args.len() {
            let Some(arg) = args[i].to_str() else {
                self.out.args.push(args[i].clone());
                i += 1;
                continue;
            };
            if let Some(flag) = DIR_FLAGS.iter().find(|f| arg.starts_with(**f)) {
                let (dir, consumed) = if arg.len() > flag.len() {
                    (&arg[flag.len()..], 1)
                } else if let Some(next) = args.get(i + 1).and_then(|a| a.to_str()) {
                    (next, 2)
                } else {
                    self.out.args.push(args[i].clone());
                    i += 1;
                    continue;
                };
                let written: Vec<&str> = args[i..i + consumed]
                    .iter()
                    .filter_map(|a| a.to_str())
                    .collect();
                self.dir_flag(flag, dir, &written)?;
                i += consumed;
                continue;
            }
            if let Some(list) = arg.strip_prefix("-Wl,") {
                self.linker_list(arg, list)?;
            } else if arg.starts_with('/') {
                self.file(arg)?;
            } else {
                if !self.printed
                    && let Some(reason) = host_arch_flag(self.cfg, arg)
                    && !self.allow.allows(arg)
                {
                    return Err(Refusal {
                        flag: arg.to_string(),
                        reason,
                    });
                }
                self.out.args.push(args[i].clone());
            }
            i += 1;
        }
        Ok(self.out)
    }

    /// `-I DIR`, `-LDIR`, `-isystem DIR` ... (`written`: the one or two arguments as given).
    fn dir_flag(&mut self, flag: &str, dir: &str, written: &[&str]) -> Result<(), Refusal> {
        let keep = |out: &mut Rewritten| out.args.extend(written.iter().map(OsString::from));
        let path = normalize(Path::new(dir));
        let joined = format!("{flag}{dir}");
        if let Some((_, to)) = self
            .cfg
            .include_rewrites
            .iter()
            .find(|(from, _)| *from == path)
        {
            self.out
                .args
                .push(OsString::from(format!("{flag}{}", to.display())));
            return Ok(());
        }
        if !dir.starts_with('/') || self.allow.allows(&joined) {
            keep(&mut self.out);
            return Ok(());
        }
        let what = if flag == "-L" { "libraries" } else { "headers" };
        self.refuse_build_prefix(&path, &joined, what, "use")?;
        let kind = if flag == "-L" {
            DirKind::Library
        } else {
            DirKind::Include
        };
        match self.cfg.host_paths().dir(kind, &path) {
            Meaning::Keep => keep(&mut self.out),
            Meaning::Sysroot(to) => {
                let to = format!("{flag}{}", to.display());
                self.out.args.push(OsString::from(&to));
                self.out.mapped.push((joined, to));
            }
            Meaning::Drop => self.out.mapped.push((joined, String::new())),
        }
        Ok(())
    }

    /// `-Wl,-L,/usr/lib/...`, `-Wl,-L/usr/lib`, `-Wl,-rpath-link=...`, `-Wl,/usr/lib/.../libz.a`:
    /// paths the linker reads at link time. `-rpath` is where the target looks at run time, so
    /// it stays as written.
    fn linker_list(&mut self, arg: &str, list: &str) -> Result<(), Refusal> {
        let parts: Vec<&str> = list.split(',').collect();
        let mut kept: Vec<String> = Vec::with_capacity(parts.len());
        let mut changed = false;
        let mut i = 0;
        while i < parts.len() {
            let part = parts[i];
            let (prefix, path, consumed) = match part {
                "-L" | "-rpath-link" | "--rpath-link" if i + 1 < parts.len() => {
                    (format!("{part},"), parts[i + 1], 2)
                }
                "-rpath" | "--rpath" | "-R" if i + 1 < parts.len() => {
                    kept.extend([part.to_string(), parts[i + 1].to_string()]);
                    i += 2;
                    continue;
                }
                p => match ["-rpath-link=", "--rpath-link=", "-L"]
                    .iter()
                    .find_map(|f| p.strip_prefix(f).map(|d| (f.to_string(), d)))
                {
                    Some((f, d)) if d.starts_with('/') => (f, d, 1),
                    _ if p.starts_with('/') => (String::new(), p, 1),
                    _ => {
                        kept.push(p.to_string());
                        i += 1;
                        continue;
                    }
                },
            };
            i += consumed;
            let norm = normalize(Path::new(path));
            if self.allow.allows(arg) {
                kept.push(format!("{prefix}{path}"));
                continue;
            }
            self.refuse_build_prefix(&norm, arg, "libraries", "link against")?;
            let paths = self.cfg.host_paths();
            let meaning = if prefix.is_empty() {
                paths.file(&norm)
            } else {
                paths.dir(DirKind::Library, &norm)
            };
            match meaning {
                Meaning::Keep => kept.push(format!("{prefix}{path}")),
                Meaning::Sysroot(to) => {
                    kept.push(format!("{prefix}{}", to.display()));
                    changed = true;
                }
                Meaning::Drop => changed = true,
            }
        }
        if !changed {
            self.out.args.push(OsString::from(arg));
            return Ok(());
        }
        let to = if kept.is_empty() {
            String::new()
        } else {
            format!("-Wl,{}", kept.join(","))
        };
        if !to.is_empty() {
            self.out.args.push(OsString::from(&to));
        }
        self.out.mapped.push((arg.to_string(), to));
        Ok(())
    }

    /// A file argument: `/usr/lib/x86_64-linux-gnu/libz.so`, or a path a config program printed.
    fn file(&mut self, arg: &str) -> Result<(), Refusal> {
        let path = normalize(Path::new(arg));
        if self.allow.allows(arg) {
            self.out.args.push(OsString::from(arg));
            return Ok(());
        }
        self.refuse_build_prefix(&path, arg, "files", "use")?;
        let paths = self.cfg.host_paths();
        let to = if self.printed {
            paths.translate_printed(&path)
        } else {
            paths.translate(&path)
        };
        match to {
            Some(to) => {
                let to = to.display().to_string();
                self.out.args.push(OsString::from(&to));
                self.out.mapped.push((arg.to_string(), to));
            }
            None => self.out.args.push(OsString::from(arg)),
        }
        Ok(())
    }

    /// Refuse `flag` when `path` is in the build Python's prefix (never for printed words); `what`
    /// says what such a directory holds, `use_instead` what a cross build must do.
    fn refuse_build_prefix(
        &self,
        path: &Path,
        flag: &str,
        what: &str,
        use_instead: &str,
    ) -> Result<(), Refusal> {
        if self.printed || path.starts_with(&self.cfg.sysroot) {
            return Ok(());
        }
        let Some(dir) = self.cfg.refused_dirs.iter().find(|d| path.starts_with(d)) else {
            return Ok(());
        };
        let under = if path == dir.as_path() {
            String::new()
        } else {
            format!(" (it is under `{}`)", dir.display())
        };
        Err(Refusal {
            flag: flag.to_string(),
            reason: format!(
                "`{}` holds the build Python's {what}{under}, not the target's; a cross build \
                 must {use_instead} the sysroot's, under `{}`",
                path.display(),
                self.cfg.sysroot.display()
            ),
        })
    }
}

fn host_arch_flag(cfg: &ShimConfig, arg: &str) -> Option<String> {
    let target = &cfg.target;
    match arg {
        "-m64" if !cfg.target().is_64bit() => {
            return Some(format!(
                "`-m64` asks for 64-bit code, but `{target}` is a 32-bit target"
            ));
        }
        "-m32" | "-mx32" if cfg.target().is_64bit() => {
            return Some(format!(
                "`{arg}` asks for 32-bit code, but `{target}` is a 64-bit target"
            ));
        }
        _ => {}
    }
    if let Some(cpu) = ["-march=", "-mtune=", "-mcpu="]
        .iter()
        .find_map(|p| arg.strip_prefix(p))
        && cpu == "native"
    {
        return Some(format!(
            "`{arg}` means the build machine's CPU, not the `{target}` target's"
        ));
    }
    let x86_only = arg.starts_with("-msse")
        || arg.starts_with("-mavx")
        || arg.starts_with("-march=x86-64")
        || arg == "-mfpmath=sse";
    (x86_only && !matches!(cfg.target().meson_cpu_family, "x86" | "x86_64"))
        .then(|| format!("`{arg}` is an x86 option; `{target}` is not x86"))
}

/// Lexical normalisation: drop `.`, resolve `..`, no trailing slash (never touches the disk).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// True when any argument asks for `--sysroot` already.
pub fn has_sysroot(args: &[OsString]) -> bool {
    args.iter().any(|a| {
        let a: &OsStr = a;
        a.to_str().is_some_and(|s| s.starts_with("--sysroot"))
    })
}

/// True when a compiler driver called with `args` links an executable or shared object with the
/// standard libraries: it has an input, and no flag that stops before linking (`-c`, `-S`, `-E`,
/// `-M`), asks for information (`--version`, `-print-*`, `-dump*`), makes a relocatable object
/// (`-r`) or leaves out the default libraries.
pub fn links_default_libraries(args: &[OsString]) -> bool {
    let mut input = false;
    let mut skip_value = false;
    for arg in args {
        let Some(a) = arg.to_str() else {
            input = true;
            continue;
        };
        if std::mem::take(&mut skip_value) {
            continue;
        }
        match a {
            "-c" | "-S" | "-E" | "-M" | "-MM" | "-r" | "-nostdlib" | "-nodefaultlibs"
            | "-nolibc" | "--version" | "--help" | "-v" | "-###" | "-fsyntax-only" => {
                return false;
            }
            "-o" | "-x" | "-MF" | "-MT" | "-MQ" | "-include" | "-isystem" | "-I" | "-L" | "-l"
            | "-Xlinker" | "-u" | "-T" => skip_value = true,
            _ if a.starts_with("-print-") || a.starts_with("-dump") || a.starts_with("--print") => {
                return false;
            }
            _ if !a.starts_with('-') => input = true,
            _ => {}
        }
    }
    input
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> ShimConfig {
        ShimConfig {
            target: "armv7l".into(),
            sysroot: "/sr".into(),
            tools: [(
                "cc".to_string(),
                vec!["arm-linux-gnueabihf-gcc".to_string()],
            )]
            .into(),
            include_rewrites: vec![(
                "/py/include/python3.11".into(),
                "/sr/usr/include/python3.11".into(),
            )],
            refused_dirs: vec!["/py/include".into(), "/py/lib".into()],
            host_multiarch: "x86_64-linux-gnu".into(),
            target_multiarch: "arm-linux-gnueabihf".into(),
            python_version: "3.11".into(),
            pkg_config_libdir: String::new(),
            log: "/dev/null".into(),
            env_dir: PathBuf::new(),
            libatomic: None,
        }
    }

    #[test]
    fn wrappers_name_pyx_shim_as_interpreter_when_the_line_allows() {
        let dir = tempfile::tempdir().unwrap();
        let pyx = dir.path().join("pyx");
        let env = dir.path().join("env");
        let shell = |script: &str| script.starts_with("#!/bin/sh\n");
        // No pyx-shim beside pyx: the shell wrapper.
        assert!(shell(&wrapper_script(&pyx, &env, "cc")));
        std::fs::write(dir.path().join("pyx-shim"), "").unwrap();
        let script = wrapper_script(&pyx, &env, "cc");
        assert_eq!(
            script,
            format!(
                "#!{} {}\n# pyx cross env shim for `cc`; regenerated by `pyx env create`.\n",
                dir.path().join("pyx-shim").display(),
                env.display()
            )
        );
        // Paths the kernel would split or cut off.
        assert!(shell(&wrapper_script(&pyx, &dir.path().join("a b"), "cc")));
        let long = dir.path().join("x".repeat(MAX_SHEBANG));
        assert!(shell(&wrapper_script(&pyx, &long, "cc")));
        assert!(wrapper_script(&pyx, &long, "cc").contains("exec "));
    }

    #[test]
    fn only_real_links_get_the_static_libatomic() {
        let links = |args: &[&str]| {
            let args: Vec<OsString> = args.iter().map(OsString::from).collect();
            links_default_libraries(&args)
        };
        assert!(links(&["-shared", "a.o", "b.o", "-o", "x.so"]));
        assert!(links(&["-O2", "t.c", "-o", "t", "-lm"]));
        assert!(!links(&["-c", "a.c", "-o", "a.o"]));
        assert!(!links(&["-E", "-dM", "-"]));
        assert!(!links(&["--version"]));
        assert!(!links(&["-print-file-name=libc.so"]));
        assert!(!links(&["-dumpmachine"]));
        assert!(!links(&["-shared", "-nostdlib", "a.o", "-o", "x.so"]));
        assert!(!links(&["-r", "a.o", "b.o", "-o", "ab.o"]));
        // `-o` takes a value; only the value is no input.
        assert!(!links(&["-o", "x.so"]));
    }

    fn rewrite(args: &[&str], allow: &str) -> Result<(Vec<String>, Vec<Mapping>), Refusal> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        rewrite_args(&cfg(), &args, &Allow::parse(allow)).map(|r| {
            let args = r
                .args
                .into_iter()
                .map(|a| a.into_string().unwrap())
                .collect();
            (args, r.mapped)
        })
    }

    fn run(args: &[&str], allow: &str) -> Result<Vec<String>, Refusal> {
        rewrite(args, allow).map(|(args, _)| args)
    }

    /// One argument in, what the compiler gets and what is recorded.
    fn mapped(arg: &str) -> (Vec<String>, Vec<Mapping>) {
        rewrite(&[arg], "").unwrap()
    }

    fn pair(from: &str, to: &str) -> Vec<Mapping> {
        vec![(from.to_string(), to.to_string())]
    }

    #[test]
    fn build_python_headers_become_the_targets() {
        assert_eq!(
            run(
                &[
                    "-I/py/include/python3.11/",
                    "-I",
                    "/py/include/./python3.11",
                    "-c",
                    "a.c"
                ],
                ""
            ),
            Ok(vec![
                "-I/sr/usr/include/python3.11".into(),
                "-I/sr/usr/include/python3.11".into(),
                "-c".into(),
                "a.c".into()
            ])
        );
    }

    #[test]
    fn host_paths_are_translated_and_recorded() {
        let cases = [
            ("-I/usr/include/freetype2", "-I/sr/usr/include/freetype2"),
            (
                "-I/usr/include/x86_64-linux-gnu/openssl",
                "-I/sr/usr/include/arm-linux-gnueabihf/openssl",
            ),
            ("-isystem/usr/include/ffi", "-isystem/sr/usr/include/ffi"),
            (
                "-idirafter/usr/local/include",
                "-idirafter/sr/usr/local/include",
            ),
            ("-L/usr/local/lib", "-L/sr/usr/local/lib"),
            (
                "-L/usr/lib/x86_64-linux-gnu/hdf5/serial",
                "-L/sr/usr/lib/arm-linux-gnueabihf/hdf5/serial",
            ),
            (
                "/usr/lib/x86_64-linux-gnu/libz.so",
                "/sr/usr/lib/arm-linux-gnueabihf/libz.so",
            ),
            (
                "/lib/x86_64-linux-gnu/libm.so.6",
                "/sr/lib/arm-linux-gnueabihf/libm.so.6",
            ),
            (
                "-Wl,-L,/usr/lib/x86_64-linux-gnu/mit-krb5",
                "-Wl,-L,/sr/usr/lib/arm-linux-gnueabihf/mit-krb5",
            ),
            (
                "-Wl,-O1,-rpath-link=/usr/local/lib",
                "-Wl,-O1,-rpath-link=/sr/usr/local/lib",
            ),
            (
                "-Wl,--whole-archive,/usr/lib/x86_64-linux-gnu/libfoo.a,--no-whole-archive",
                "-Wl,--whole-archive,/sr/usr/lib/arm-linux-gnueabihf/libfoo.a,--no-whole-archive",
            ),
        ];
        for (from, to) in cases {
            assert_eq!(
                mapped(from),
                (vec![to.to_string()], pair(from, to)),
                "{from}"
            );
        }
        // The two-argument form comes out as one, recorded as the joined flag.
        assert_eq!(
            rewrite(&["-I", "/usr/include/libxml2", "-c", "x.c"], "").unwrap(),
            (
                vec![
                    "-I/sr/usr/include/libxml2".into(),
                    "-c".into(),
                    "x.c".into()
                ],
                pair("-I/usr/include/libxml2", "-I/sr/usr/include/libxml2")
            )
        );
    }

    #[test]
    fn bare_system_dirs_are_dropped_and_recorded() {
        for flag in [
            "-I/usr/include",
            "-I/usr/include/",
            "-isystem/usr/include",
            "-I/usr/include/x86_64-linux-gnu",
            "-L/usr/lib",
            "-L/lib",
            "-L/usr/lib64",
            "-L/usr/lib/x86_64-linux-gnu",
            "-L/lib/x86_64-linux-gnu",
            "-I/sr/usr/include",
            "-Wl,-L/usr/lib",
            "-Wl,-rpath-link,/usr/lib/x86_64-linux-gnu",
        ] {
            assert_eq!(mapped(flag), (vec![], pair(flag, "")), "{flag}");
        }
        assert_eq!(
            rewrite(&["-isystem", "/usr/include", "-c", "x.cc"], "").unwrap(),
            (
                vec!["-c".into(), "x.cc".into()],
                pair("-isystem/usr/include", "")
            )
        );
        // A dropped part of a linker list leaves the rest.
        assert_eq!(
            mapped("-Wl,-O1,-L/usr/lib,--as-needed"),
            (
                vec!["-Wl,-O1,--as-needed".to_string()],
                pair("-Wl,-O1,-L/usr/lib,--as-needed", "-Wl,-O1,--as-needed")
            )
        );
    }

    #[test]
    fn other_arguments_pass_untouched() {
        let args = [
            "-I/sr/usr/include/libxml2",
            "-I/usr/includes",
            "-I/tmp/x",
            "-Iinclude",
            "-L/sr/usr/lib/arm-linux-gnueabihf",
            "-Wl,-O1,-L/sr/usr/lib",
            "-Wl,--as-needed",
            // A run-time search path is the target's own `/usr/lib`, not the sysroot's.
            "-Wl,-rpath,/usr/lib/x86_64-linux-gnu",
            "-DPREFIX=/usr/lib",
            "/src/a.c",
        ];
        assert_eq!(
            rewrite(&args, "").unwrap(),
            (args.iter().map(|a| a.to_string()).collect(), vec![])
        );
    }

    #[test]
    fn allowed_flags_pass_unchanged() {
        assert_eq!(
            rewrite(
                &["-I/usr/include", "-L/usr/lib/x86_64-linux-gnu/f"],
                "-I/usr/include"
            )
            .unwrap(),
            (
                vec![
                    "-I/usr/include".into(),
                    "-L/sr/usr/lib/arm-linux-gnueabihf/f".into()
                ],
                pair(
                    "-L/usr/lib/x86_64-linux-gnu/f",
                    "-L/sr/usr/lib/arm-linux-gnueabihf/f"
                )
            )
        );
        let args = [
            "-I/usr/include/freetype2",
            "-Wl,-L/usr/lib",
            "/usr/lib/libz.so",
            "-m64",
        ];
        assert_eq!(
            rewrite(&args, "all").unwrap(),
            (args.iter().map(|a| a.to_string()).collect(), vec![])
        );
    }

    #[test]
    fn build_python_prefix_paths_are_refused() {
        let err = run(&["-c", "-I/py/include", "a.c"], "").unwrap_err();
        assert_eq!(err.flag, "-I/py/include");
        assert_eq!(
            err.reason,
            "`/py/include` holds the build Python's headers, not the target's; a cross build must \
             use the sysroot's, under `/sr`"
        );
        let err = run(&["-L/py/lib/python3.11/config-3.11-x86_64-linux-gnu"], "").unwrap_err();
        assert_eq!(
            err.reason,
            "`/py/lib/python3.11/config-3.11-x86_64-linux-gnu` holds the build Python's libraries \
             (it is under `/py/lib`), not the target's; a cross build must use the sysroot's, \
             under `/sr`"
        );
        assert_eq!(
            run(&["-Wl,-L,/py/lib"], "").unwrap_err().flag,
            "-Wl,-L,/py/lib"
        );
        assert_eq!(
            run(&["/py/lib/libpython3.11.a"], "").unwrap_err().flag,
            "/py/lib/libpython3.11.a"
        );
        assert!(run(&["-I/usr/include/../../py/lib"], "").is_err());
        assert!(run(&["-L/py/lib"], "-L/py/lib").is_ok());
        assert!(run(&["-L/py/lib"], "all").is_ok());
    }

    #[test]
    fn host_arch_flags_are_refused() {
        let err = run(&["-O2", "-m64"], "").unwrap_err();
        assert_eq!(err.flag, "-m64");
        assert_eq!(
            err.reason,
            "`-m64` asks for 64-bit code, but `armv7l` is a 32-bit target"
        );
        assert!(run(&["-m64"], "-m64").is_ok());
        assert!(run(&["-msse2"], "").is_err());
        assert!(run(&["-march=native"], "").is_err());
        assert!(run(&["-mtune=native"], "").is_err());
        assert!(run(&["-mcpu=native"], "").is_err());
        assert!(run(&["-march=armv7-a", "-m32"], "").is_ok());
    }

    #[test]
    fn printed_flags_and_paths_are_mapped() {
        let (text, mapped) = rewrite_printed(
            &cfg(),
            "-I/usr/include/libxml2 -I/usr/include\n-L/usr/lib/arm-linux-gnueabihf -lxml2 -m64\n/usr\n2.9.14\n",
        );
        assert_eq!(
            text,
            "-I/sr/usr/include/libxml2\n-lxml2 -m64\n/sr/usr\n2.9.14\n"
        );
        assert_eq!(
            mapped,
            vec![
                (
                    "-I/usr/include/libxml2".to_string(),
                    "-I/sr/usr/include/libxml2".to_string()
                ),
                ("-I/usr/include".to_string(), String::new()),
                ("-L/usr/lib/arm-linux-gnueabihf".to_string(), String::new()),
                ("/usr".to_string(), "/sr/usr".to_string()),
            ]
        );
        let (text, mapped) = rewrite_printed(&cfg(), "/usr/lib/arm-linux-gnueabihf\n-I/py/include");
        assert_eq!(text, "/sr/usr/lib/arm-linux-gnueabihf\n-I/py/include");
        assert_eq!(mapped.len(), 1);
    }
}
