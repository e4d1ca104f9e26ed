//! pyHanko, the independent PAdES validator (installed by `scripts/setup` into `.deps/pyhanko`), over a signed PDF.

/// pyHanko's report on `pdf`, trusting `cert_pem` (`scripts/validate-pades.py`'s JSON: one entry per signature).
pub fn pyhanko(pdf: &[u8], cert_pem: &str) -> serde_json::Value {
    let root = crate::repo_root();
    let python = root.join(".deps/pyhanko/bin/python");
    assert!(python.exists(), "pyHanko is not installed: run scripts/setup (make test does)");
    let dir = tempfile::tempdir().unwrap();
    let (pdf_path, cert_path) = (dir.path().join("signed.pdf"), dir.path().join("signer.pem"));
    std::fs::write(&pdf_path, pdf).unwrap();
    std::fs::write(&cert_path, cert_pem).unwrap();
    let out = std::process::Command::new(python)
        .arg(root.join("scripts/validate-pades.py"))
        .args([&pdf_path, &cert_path])
        .output()
        .unwrap();
    assert!(out.status.success(), "pyHanko failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}
