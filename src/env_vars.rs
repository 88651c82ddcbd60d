//! Every environment variable pyx reads or sets, in one place.

/// Overrides the cache directory (default: `$XDG_CACHE_HOME/pyx`, then `~/.cache/pyx`).
pub const PYX_CACHE_DIR: &str = "PYX_CACHE_DIR";
/// Set by pyx inside a cross env: the env directory, so `pyx shim` finds its configuration.
pub const PYX_CROSS_ENV: &str = "PYX_CROSS_ENV";
/// Set by pyx while building one package: its name, used in shim log lines and refusals.
pub const PYX_PACKAGE: &str = "PYX_PACKAGE";
/// Escape hatch for the compiler shims: space-separated flags (or `all`) that may pass even
/// though they name a host path or a host-arch option, e.g. `PYX_SHIM_ALLOW="-I/usr/include"`.
pub const PYX_SHIM_ALLOW: &str = "PYX_SHIM_ALLOW";
/// The build machine's Python (default: `pythonX.Y` of the target's version on PATH, pyenv's or
/// uv's, else one pyx provisions from Debian; `python3` when no version is asked for). The value
/// `debian` asks for the provisioned one.
pub const PYX_BUILD_PYTHON: &str = "PYX_BUILD_PYTHON";
/// Which Rust toolchain builds Rust extensions: `debian` (pyx's copy of Debian's `rustc-web`
/// and the target's std), `user` (RUSTC/CARGO, or `rustc` on PATH, which must have the target);
/// unset: the user's when it has the target's std, else Debian's.
pub const PYX_RUST_TOOLCHAIN: &str = "PYX_RUST_TOOLCHAIN";

pub const XDG_CACHE_HOME: &str = "XDG_CACHE_HOME";
/// Read to find uv's Python installs (`$XDG_DATA_HOME/uv/python`).
pub const XDG_DATA_HOME: &str = "XDG_DATA_HOME";
/// pyenv's root (default `~/.pyenv`): its `versions/X.Y.Z` are build Python candidates.
pub const PYENV_ROOT: &str = "PYENV_ROOT";
/// uv's Python install directory: its `cpython-X.Y.Z-*` are build Python candidates.
pub const UV_PYTHON_INSTALL_DIR: &str = "UV_PYTHON_INSTALL_DIR";
/// Where pip's user configuration lives (default `~/.config`) and its site-wide directories
/// (default `/etc/xdg`); read to give uv what pip's configuration says.
pub const XDG_CONFIG_HOME: &str = "XDG_CONFIG_HOME";
pub const XDG_CONFIG_DIRS: &str = "XDG_CONFIG_DIRS";
/// Set for uv from pip's `cert`, `client-cert` and `proxy` settings when they are not set already.
pub const SSL_CERT_FILE: &str = "SSL_CERT_FILE";
pub const SSL_CLIENT_CERT: &str = "SSL_CLIENT_CERT";
pub const HTTPS_PROXY: &str = "HTTPS_PROXY";
pub const HTTP_PROXY: &str = "HTTP_PROXY";
pub const HOME: &str = "HOME";
pub const PATH: &str = "PATH";
/// `tracing` filter for pyx's own log lines (overrides -v/-q), e.g. `PYX_LOG=pyx=debug`.
pub const PYX_LOG: &str = "PYX_LOG";
/// Set by pyx inside a cross env: site-packages directories of the build env (build-machine
/// packages: setuptools, meson, Cython ...) that the env's Python makes importable.
pub const PYX_BUILD_SITE: &str = "PYX_BUILD_SITE";
/// Set by the shims for the tool they run: how many shims deep a call is (stops a tool that
/// would call a shim again from recursing).
pub const PYX_SHIM_DEPTH: &str = "PYX_SHIM_DEPTH";
/// Set by pyx inside a cross env: its meson cross file, for
/// `python -m build -Csetup-args=--cross-file=$PYX_MESON_CROSS_FILE`.
pub const PYX_MESON_CROSS_FILE: &str = "PYX_MESON_CROSS_FILE";
/// Set by pyx for one build: the build env's platform-specific packages with a C API (JSON: name,
/// version, directories). The shims refuse a compile or link that reads their files.
pub const PYX_BUILD_MACHINE_PACKAGES: &str = "PYX_BUILD_MACHINE_PACKAGES";
/// Set by pyx for one build: pkg-config directories of the target's copies of build requirements,
/// searched by the `pkg-config` shim before the sysroot's.
pub const PYX_TARGET_PKG_CONFIG_PATH: &str = "PYX_TARGET_PKG_CONFIG_PATH";
/// The Debian mirror pyx's private apt states download from (default: the host's Debian mirror
/// from its apt sources, else `http://deb.debian.org/debian`).
pub const PYX_DEBIAN_MIRROR: &str = "PYX_DEBIAN_MIRROR";
/// Set by `pyx test` while its command runs: the scratch prefix the wheels are installed into.
pub const PYX_TEST_PREFIX: &str = "PYX_TEST_PREFIX";
/// pip's configuration file; `pyx test --pip` sets it to `/dev/null` (and removes every other
/// `PIP_*` variable) so the target's pip sees the wheelhouse and nothing of this machine's setup.
pub const PIP_CONFIG_FILE: &str = "PIP_CONFIG_FILE";
/// The compiler cache in front of the cross compiler: `ccache`, `sccache`, `none`, a path to one
/// of them, or `auto` (unset: ccache when installed). `pyx wheel --compiler-cache` reads it; pyx
/// sets it to the absolute program for the shims of every build.
pub const PYX_COMPILER_CACHE: &str = "PYX_COMPILER_CACHE";
/// The launcher compile jobs go through: `distcc`, `none`, a path to distcc, or `auto` (unset:
/// distcc when `DISTCC_HOSTS` is set). `pyx wheel --compiler-launcher` reads it.
pub const PYX_COMPILER_LAUNCHER: &str = "PYX_COMPILER_LAUNCHER";
/// Set by pyx for one build: its scratch directory. Compiles map it out of debug info and
/// `__FILE__` (`-ffile-prefix-map=DIR=.`), and ccache makes paths under it relative, so a rebuild
/// in another scratch directory is a cache hit.
pub const PYX_BUILD_ROOT: &str = "PYX_BUILD_ROOT";
/// What fills build envs: `uv`, `pip`, a path to uv, or `auto` (unset: uv when it is on PATH and
/// pip's configuration sets nothing but indexes, certificates and proxy, else the build Python's pip).
pub const PYX_INSTALLER: &str = "PYX_INSTALLER";
