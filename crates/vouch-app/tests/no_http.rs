//! The application layer is callable without HTTP: nothing it links, however indirectly, is a web server,
//! an HTTP client or an OpenAPI generator. The protocols are `vouch-server`'s. One exception, pruned from the
//! tree: S3-compatible object storage speaks HTTP by nature, so `vouch-store`'s object storage driver
//! (`object_store`) brings an HTTP client with it, for the store's own use.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::process::Command;

const HTTP_CRATES: &[&str] =
    &["axum", "tower", "tower-http", "hyper", "hyper-util", "reqwest", "utoipa", "utoipa-axum"];

/// The crates vouch-app links (normal dependencies, transitively), as `cargo tree` resolves them.
fn linked() -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "-p", "vouch-app", "-e", "normal", "--prefix", "none", "--frozen", "--prune", "object_store"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[test]
fn vouch_app_links_no_http_crate() {
    let linked = linked();
    assert!(linked.iter().any(|c| c == "vouch-store"), "cargo tree listed no engine: {linked:?}");
    let http: Vec<_> = linked.iter().filter(|c| HTTP_CRATES.contains(&c.as_str())).collect();
    assert!(http.is_empty(), "vouch-app links HTTP crates: {http:?}");
}
