//! Ctrl-C, SIGTERM and SIGHUP in the commands that build (`pyx wheel`, `env`, `sysroot`,
//! `retag`): stop every process pyx started and everything they started in turn (PEP 517 hooks
//! and their compilers, pip, apt-get, dpkg-deb), remove this run's temp entries, then die of the
//! signal. Nothing is left running or half-written; what a `kill -9` leaves, the next run sweeps
//! ([`crate::tempfiles`]).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// How long the processes get to exit after SIGTERM before they are killed.
const GRACE: Duration = Duration::from_secs(3);

static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// True once a signal is being handled: the process is about to die of it.
pub fn interrupted() -> bool {
    INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst)
}

/// Called by the main thread when its command returns: while an interrupt is being handled,
/// wait for the handler to end the process (with the signal's status), rather than exit with
/// the command's status.
pub fn wait_if_interrupted() {
    while interrupted() {
        std::thread::park();
    }
}

/// Handle the signals on a thread of their own from now on (once per process).
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let mut signals = match signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!("cannot handle interrupts: {e}");
                return;
            }
        };
        std::thread::spawn(move || {
            if let Some(signal) = signals.forever().next() {
                INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
                eprintln!("pyx: interrupted: stopping the processes it started");
                let stopped = stop_descendants();
                let removed = crate::tempfiles::remove_own();
                eprintln!(
                    "pyx: stopped {stopped} process(es), removed {removed} temp entr{}",
                    if removed == 1 { "y" } else { "ies" }
                );
                let _ = signal_hook::low_level::emulate_default_handler(signal);
                std::process::exit(128 + signal);
            }
        });
    });
}

/// SIGTERM every descendant of this process, then SIGKILL those still there after [`GRACE`];
/// returns how many there were. Descendants are found in `/proc` (parent links), so processes
/// started by any code path, and their children, are found.
pub fn stop_descendants() -> usize {
    let me = std::process::id();
    let first = descendants(me);
    for &pid in &first {
        signal(pid, Signal::TERM);
    }
    let deadline = Instant::now() + GRACE;
    loop {
        let left = descendants(me);
        if left.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            for pid in left {
                signal(pid, Signal::KILL);
            }
            break;
        }
        // Started after the first round (a pipeline thread that had not heard yet).
        for pid in left.iter().filter(|p| !first.contains(p)) {
            signal(*pid, Signal::TERM);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    first.len()
}

fn signal(pid: u32, sig: Signal) {
    if let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
        let _ = rustix::process::kill_process(pid, sig);
    }
}

/// The live (not zombie) descendants of `root`, from `/proc/<pid>/stat`.
fn descendants(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let (Some(state), Some(ppid)) = (fields.next(), fields.next()) else {
            continue;
        };
        if state == "Z" || state == "X" {
            continue;
        }
        if let Ok(ppid) = ppid.parse::<u32>() {
            children.entry(ppid).or_default().push(pid);
        }
    }
    let mut out = Vec::new();
    let mut todo = vec![root];
    while let Some(p) = todo.pop() {
        for &c in children.get(&p).into_iter().flatten() {
            out.push(c);
            todo.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The processes pyx starts are found through `/proc`, grandchildren too.
    #[test]
    fn descendants_include_grandchildren() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 30 & wait"])
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let under = loop {
            let under = descendants(child.id());
            if !under.is_empty() || Instant::now() > deadline {
                break under;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(descendants(std::process::id()).contains(&child.id()));
        assert_eq!(under.len(), 1, "the `sleep` under the shell: {under:?}");
        signal(under[0], Signal::KILL);
        let _ = child.wait();
    }
}
