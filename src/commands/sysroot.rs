//! `pyx sysroot add|list|remove|path`: target roots from Debian's packages, in pyx's cache.

use anyhow::Result;

use crate::ExitStatus;
use crate::cli::{GlobalArgs, SysrootCommand};
use crate::printer::with_hint;
use crate::sysroot::{self, DebianSysroot};

pub fn run(cmd: SysrootCommand, _global: &GlobalArgs) -> Result<ExitStatus> {
    match cmd {
        SysrootCommand::Add(args) => {
            let root = DebianSysroot {
                target: args.target.0,
                python: &args.python,
                with: &sysroot::package_list(&args.with),
            }
            .ensure(args.force)?;
            println!("{}", root.display());
        }
        SysrootCommand::Path { target, python } => {
            let root = DebianSysroot {
                target: target.0,
                python: &python,
                with: &[],
            }
            .ensure(false)?;
            println!("{}", root.display());
        }
        SysrootCommand::List { json } => {
            let roots = sysroot::list_cached();
            if json {
                let rows: Vec<_> = roots
                    .iter()
                    .map(|(path, info)| serde_json::json!({ "path": path, "info": info }))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else if roots.is_empty() {
                eprintln!(
                    "no sysroots in `{}` yet; `pyx sysroot add armv7l` makes one",
                    sysroot::sysroots_dir().display()
                );
            } else {
                for (path, info) in roots {
                    println!(
                        "{:<9} {:<9} python{:<5} {:>3} packages  {}",
                        info.target,
                        info.debian_arch,
                        info.python,
                        info.packages.len(),
                        path.display()
                    );
                }
            }
        }
        SysrootCommand::Remove { target, python } => {
            let Some(path) = sysroot::cached_path(target.0, &python).filter(|p| p.exists()) else {
                return Err(with_hint(
                    anyhow::anyhow!("no cached sysroot for `{}` with Python {python}", target.0),
                    "`pyx sysroot list` shows the cached sysroots",
                ));
            };
            fs_err::remove_dir_all(&path)?;
            eprintln!("removed `{}`", path.display());
        }
    }
    Ok(ExitStatus::Success)
}
