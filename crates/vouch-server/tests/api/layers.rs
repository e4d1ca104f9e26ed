//! The layers hold: no vendor adapter imports another. What two adapters share lives outside
//! `src/adapters/` (or in `adapters/mod.rs` and the shared modules named here), so each vendor's API can change
//! without touching another's.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Modules under `adapters/` that every adapter may use: the 501 answers in each vendor's dialect.
const SHARED: &[&str] = &["not_built"];

fn adapters_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/adapters")
}

/// The vendor adapters: every module `adapters/mod.rs` declares, less the shared ones.
fn adapters() -> BTreeSet<String> {
    let text = std::fs::read_to_string(adapters_dir().join("mod.rs")).unwrap();
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod ").or_else(|| l.trim().strip_prefix("mod ")))
        .map(|m| m.trim_end_matches(';').to_owned())
        .filter(|m| !SHARED.contains(&m.as_str()))
        .collect()
}

/// Every `.rs` file under `dir`, with the adapter it belongs to (its first path component).
fn files(dir: &Path, owner: Option<&str>, out: &mut Vec<(String, PathBuf)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let top = owner.is_none();
        let owner = owner.map_or(stem.clone(), str::to_owned);
        if path.is_dir() {
            files(&path, Some(&owner), out);
        } else if path.extension().is_some_and(|e| e == "rs") && !(top && stem == "mod") {
            out.push((owner, path));
        }
    }
}

/// The modules a file names through `adapters::X`, `super::X` (from a file directly under `adapters/`) or
/// `super::super::X` (one folder down).
fn named(text: &str, depth: usize) -> BTreeSet<String> {
    let prefixes = ["adapters::".to_owned(), format!("{}::", vec!["super"; depth].join("::"))];
    let mut out = BTreeSet::new();
    for prefix in &prefixes {
        for (at, _) in text.match_indices(prefix.as_str()) {
            let rest = &text[at + prefix.len()..];
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

#[test]
fn no_adapter_imports_another_adapter() {
    let adapters = adapters();
    assert!(adapters.contains("eeid") && adapters.contains("dis"), "{adapters:?}");
    let mut found = Vec::new();
    files(&adapters_dir(), None, &mut found);
    let mut crossings = Vec::new();
    for (owner, path) in &found {
        let depth = path.strip_prefix(adapters_dir()).unwrap().components().count();
        let text = std::fs::read_to_string(path).unwrap();
        for name in named(&text, depth) {
            if adapters.contains(&name) && name != *owner {
                crossings.push(format!("{} ({owner}) imports {name}", path.display()));
            }
        }
    }
    assert!(crossings.is_empty(), "adapters import each other:\n{}", crossings.join("\n"));
}

#[test]
fn the_check_sees_a_crossing() {
    assert!(named("use crate::adapters::eeid::API;", 1).contains("eeid"));
    assert!(named("let x = super::eeid::link();", 1).contains("eeid"));
    assert!(named("use super::super::masstack::Sign;", 2).contains("masstack"));
    // One folder down, `super::` is the adapter's own folder.
    assert!(named("use super::faces::Face;", 2).is_empty());
}
