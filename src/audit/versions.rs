//! Symbol versions (`GLIBC_2.34`, `GLIBCXX_3.4.30`): what a binary needs, per prefix, and how two
//! dotted versions compare.

use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Newest version needed per prefix (`GLIBC` → `2.34`, `GLIBCXX` → `3.4.30`, ...).
pub type SymbolVersions = BTreeMap<String, String>;

/// Compare dotted numeric versions (`2.17` < `2.28`, `3.4.9` < `3.4.19`).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let parse = |s: &str| -> Vec<u64> { s.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    parse(a).cmp(&parse(b))
}
