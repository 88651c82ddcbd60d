//! What a build machine's system path means on the target. Packages hard-code host paths
//! (`-I/usr/include/freetype2`, `-L/usr/lib/x86_64-linux-gnu`, `xml2-config` printing
//! `-I/usr/include/libxml2`); each has one obvious meaning in a cross build: the same path inside
//! the sysroot, with the build machine's multiarch directory replaced by the target's. A bare
//! system directory that the cross compiler already searches under `--sysroot` is dropped instead:
//! re-adding it as `-I`/`-isystem` moves it in front of the C++ headers and breaks their
//! `#include_next`.
//!
//! What Debian's cross gcc searches with `--sysroot=S` (measured with `-v -E` and
//! `-print-search-dirs`): headers in `S/usr/include/<multiarch>` and `S/usr/include` (not
//! `S/usr/local/include`), libraries in `S/lib/<multiarch>`, `S/lib`, `S/usr/lib/<multiarch>` and
//! `S/usr/lib` (not `S/usr/local/lib`).

use std::path::{Path, PathBuf};

/// System directories of a Linux root whose contents have a meaning on the target, relative to
/// `/`, the more specific first.
const SYSTEM_ROOTS: &[&str] = &[
    "usr/local/include",
    "usr/local/lib64",
    "usr/local/lib",
    "usr/include",
    "usr/lib64",
    "usr/lib",
    "lib64",
    "lib",
];

/// What a directory flag searches for: headers (`-I`, `-isystem`, ...) or libraries (`-L`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirKind {
    Include,
    Library,
}

/// What a path in a compiler argument becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meaning {
    /// Not a system path of the build machine: left as written.
    Keep,
    /// The sysroot's path of the same meaning.
    Sysroot(PathBuf),
    /// A system directory the compiler searches under `--sysroot` already.
    Drop,
}

/// The mapping of one cross env: its sysroot and the two multiarch names.
#[derive(Debug, Clone, Copy)]
pub struct HostPaths<'a> {
    pub sysroot: &'a Path,
    /// `x86_64-linux-gnu`.
    pub host_multiarch: &'a str,
    /// `arm-linux-gnueabihf`; empty for a root without multiarch directories (Buildroot, Yocto),
    /// where `/usr/lib/x86_64-linux-gnu/X` means `<sysroot>/usr/lib/X`.
    pub target_multiarch: &'a str,
}

impl HostPaths<'_> {
    /// The sysroot's path for a system path of the build machine (`path` normalised), or `None`
    /// when `path` is not under a system directory or is in the sysroot already.
    pub fn translate(&self, path: &Path) -> Option<PathBuf> {
        if path.starts_with(self.sysroot) {
            return None;
        }
        let rel = path.strip_prefix("/").ok()?;
        let root = SYSTEM_ROOTS.iter().find(|r| rel.starts_with(r))?;
        Some(self.in_sysroot(root, rel))
    }

    /// Like [`HostPaths::translate`], for a path printed by a `*-config` program: anything under
    /// `/usr` (`--prefix` prints `/usr`, `--datadir` `/usr/share`) is the sysroot's too.
    pub fn translate_printed(&self, path: &Path) -> Option<PathBuf> {
        if let Some(p) = self.translate(path) {
            return Some(p);
        }
        let rel = path.strip_prefix("/").ok()?;
        (!path.starts_with(self.sysroot) && rel.starts_with("usr")).then(|| self.sysroot.join(rel))
    }

    /// `<sysroot>/<root>/<rest>`, the host multiarch directory right under `root` replaced by the
    /// target's.
    fn in_sysroot(&self, root: &str, rel: &Path) -> PathBuf {
        let rest = rel.strip_prefix(root).unwrap_or(rel);
        let mut out = self.sysroot.join(root);
        let mut parts = rest.iter();
        match parts.next() {
            Some(first) if first == self.host_multiarch && self.target_multiarch.is_empty() => {}
            Some(first) if first == self.host_multiarch => out.push(self.target_multiarch),
            Some(first) => out.push(first),
            None => {}
        }
        out.extend(parts);
        out
    }

    /// What the directory of a `-I`/`-isystem`/`-L` flag means on the target (`dir` normalised).
    pub fn dir(&self, kind: DirKind, dir: &Path) -> Meaning {
        match self.translate(dir) {
            Some(_) if self.is_searched(kind, dir, true) => Meaning::Drop,
            Some(to) => Meaning::Sysroot(to),
            // The sysroot's own system include dirs given again: the same trouble.
            None if kind == DirKind::Include && self.is_searched(kind, dir, false) => Meaning::Drop,
            None => Meaning::Keep,
        }
    }

    /// What a file argument (`/usr/lib/x86_64-linux-gnu/libz.so`) means on the target.
    pub fn file(&self, path: &Path) -> Meaning {
        self.translate(path).map_or(Meaning::Keep, Meaning::Sysroot)
    }

    /// True when `dir` (on the build machine when `host`, else in the sysroot) is a directory the
    /// cross compiler searches under `--sysroot` by itself.
    fn is_searched(&self, kind: DirKind, dir: &Path, host: bool) -> bool {
        let rel = if host {
            dir.strip_prefix("/")
        } else {
            dir.strip_prefix(self.sysroot)
        };
        let Ok(rel) = rel else { return false };
        let bases: &[&str] = match kind {
            DirKind::Include => &["usr/include"],
            DirKind::Library if host => &["usr/lib", "lib", "usr/lib64", "lib64"],
            DirKind::Library => &["usr/lib", "lib"],
        };
        let mut multiarch = vec![self.target_multiarch];
        if host {
            multiarch.push(self.host_multiarch);
        }
        bases.iter().any(|base| {
            rel == Path::new(base)
                || multiarch
                    .iter()
                    .any(|m| !m.is_empty() && rel == Path::new(base).join(m))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(target_multiarch: &str) -> HostPaths<'_> {
        HostPaths {
            sysroot: Path::new("/sr"),
            host_multiarch: "x86_64-linux-gnu",
            target_multiarch,
        }
    }

    fn sysroot(p: &str) -> Meaning {
        Meaning::Sysroot(PathBuf::from(p))
    }

    #[test]
    fn host_paths_translate_into_the_sysroot() {
        let p = paths("arm-linux-gnueabihf");
        let dir = |kind, d: &str| p.dir(kind, Path::new(d));
        assert_eq!(
            dir(DirKind::Include, "/usr/include/freetype2"),
            sysroot("/sr/usr/include/freetype2")
        );
        assert_eq!(
            dir(DirKind::Include, "/usr/include/x86_64-linux-gnu/openssl"),
            sysroot("/sr/usr/include/arm-linux-gnueabihf/openssl")
        );
        assert_eq!(
            dir(DirKind::Include, "/usr/local/include"),
            sysroot("/sr/usr/local/include"),
            "gcc does not search <sysroot>/usr/local/include"
        );
        assert_eq!(
            dir(DirKind::Library, "/usr/local/lib"),
            sysroot("/sr/usr/local/lib")
        );
        assert_eq!(
            dir(DirKind::Library, "/usr/lib/x86_64-linux-gnu/openblas"),
            sysroot("/sr/usr/lib/arm-linux-gnueabihf/openblas")
        );
        assert_eq!(
            p.file(Path::new("/usr/lib/x86_64-linux-gnu/libz.so")),
            sysroot("/sr/usr/lib/arm-linux-gnueabihf/libz.so")
        );
        assert_eq!(
            p.file(Path::new("/lib/x86_64-linux-gnu/libm.so.6")),
            sysroot("/sr/lib/arm-linux-gnueabihf/libm.so.6")
        );
        // A directory merely named like the multiarch one deeper down is left alone.
        assert_eq!(
            dir(DirKind::Library, "/usr/lib/gcc/x86_64-linux-gnu/12"),
            sysroot("/sr/usr/lib/gcc/x86_64-linux-gnu/12")
        );
    }

    #[test]
    fn system_dirs_the_compiler_searches_are_dropped() {
        let p = paths("arm-linux-gnueabihf");
        for d in [
            "/usr/include",
            "/usr/include/x86_64-linux-gnu",
            "/usr/include/arm-linux-gnueabihf",
            "/sr/usr/include",
            "/sr/usr/include/arm-linux-gnueabihf",
        ] {
            assert_eq!(p.dir(DirKind::Include, Path::new(d)), Meaning::Drop, "{d}");
        }
        for d in [
            "/usr/lib",
            "/lib",
            "/usr/lib64",
            "/lib64",
            "/usr/lib/x86_64-linux-gnu",
            "/lib/x86_64-linux-gnu",
            "/usr/lib/arm-linux-gnueabihf",
        ] {
            assert_eq!(p.dir(DirKind::Library, Path::new(d)), Meaning::Drop, "{d}");
        }
        // The sysroot's library dirs stay: they come before the cross gcc's own glibc.
        assert_eq!(
            p.dir(
                DirKind::Library,
                Path::new("/sr/usr/lib/arm-linux-gnueabihf")
            ),
            Meaning::Keep
        );
        // `-I/usr/lib` is no system include dir: translated, not dropped.
        assert_eq!(
            p.dir(DirKind::Include, Path::new("/usr/lib")),
            sysroot("/sr/usr/lib")
        );
    }

    #[test]
    fn other_paths_are_kept() {
        let p = paths("arm-linux-gnueabihf");
        for d in [
            "/tmp/x",
            "/usr/includes",
            "/sr/usr/include/libxml2",
            "/opt/lib",
        ] {
            assert_eq!(p.dir(DirKind::Include, Path::new(d)), Meaning::Keep, "{d}");
        }
        assert_eq!(p.file(Path::new("/src/a.c")), Meaning::Keep);
    }

    #[test]
    fn without_target_multiarch_the_host_one_goes() {
        let p = paths("");
        assert_eq!(
            p.file(Path::new("/usr/lib/x86_64-linux-gnu/libz.so")),
            sysroot("/sr/usr/lib/libz.so")
        );
        assert_eq!(
            p.dir(DirKind::Library, Path::new("/usr/lib/x86_64-linux-gnu")),
            Meaning::Drop
        );
    }

    #[test]
    fn printed_paths_under_usr_are_the_sysroots() {
        let p = paths("arm-linux-gnueabihf");
        assert_eq!(
            p.translate_printed(Path::new("/usr")),
            Some("/sr/usr".into())
        );
        assert_eq!(
            p.translate_printed(Path::new("/usr/share/aclocal")),
            Some("/sr/usr/share/aclocal".into())
        );
        assert_eq!(
            p.translate_printed(Path::new("/usr/lib/arm-linux-gnueabihf")),
            Some("/sr/usr/lib/arm-linux-gnueabihf".into())
        );
        assert_eq!(p.translate_printed(Path::new("/sr/usr")), None);
        assert_eq!(p.translate_printed(Path::new("/etc/x")), None);
    }
}
