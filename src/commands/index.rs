//! `pyx index DIR`: a static package index (PEP 503 HTML, PEP 691 JSON) for a wheelhouse in
//! `DIR/simple/`, and `DIR/pinned-requirements.txt`, written only where changed (docs/deploy.md).

use anyhow::{Result, anyhow};

use crate::ExitStatus;
use crate::cli::IndexArgs;
use crate::deploy::index::{PINNED, SIMPLE, SimpleIndex};
use crate::printer::ResultExt;

pub fn run(args: IndexArgs) -> Result<ExitStatus> {
    let dir = &args.dir;
    if !dir.is_dir() {
        return Err(anyhow!("`{}` is not a directory", dir.display()))
            .hint("give the wheelhouse: the directory `pyx wheel -w DIR` wrote the wheels into");
    }
    let index = SimpleIndex::scan(dir)?;
    if index.projects.is_empty() {
        return Err(anyhow!("`{}` contains no wheels", dir.display()))
            .hint("build into it first: `pyx wheel -r requirements.txt --target TARGET -w DIR`");
    }
    let (written, warnings) = index.write(dir)?;
    for warning in index.warnings.iter().chain(&warnings) {
        eprintln!("warning: {warning}");
    }
    for project in &written.removed {
        eprintln!("removed the page of `{project}`: no wheel of it is left");
    }
    eprintln!(
        "indexed {} wheel{} of {} project{} ({} file{} written, {} unchanged); hashes pinned in `{}`",
        index.wheel_count(),
        if index.wheel_count() == 1 { "" } else { "s" },
        index.projects.len(),
        if index.projects.len() == 1 { "" } else { "s" },
        written.changed,
        if written.changed == 1 { "" } else { "s" },
        written.unchanged,
        dir.join(PINNED).display()
    );
    println!("{}", dir.join(SIMPLE).display());
    Ok(ExitStatus::Success)
}
