//! Signing end to end over HTTP: DANAconnect circuits (start, the kiosk's signature step, the admin's completion,
//! the evidence ZIP with its signed manifest) and MasStack sign processes (headers, limits, error format).

use std::io::Read;

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use vouch_core::Scope;
use vouch_signature::{stroke, PointerKind};

use vouch_testkit::server::Kit;
use vouch_testkit::{approval, eventually};

pub(crate) const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A one-page PDF saying `text`.
pub(crate) fn pdf(text: &str) -> Vec<u8> {
    use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str};
    let mut pdf = Pdf::new();
    let (catalog, tree, page_id, contents, font) = (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4), Ref::new(5));
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page_id]).count(1);
    pdf.page(page_id)
        .media_box(Rect::new(0.0, 0.0, 595.0, 842.0))
        .parent(tree)
        .contents(contents)
        .resources()
        .fonts()
        .pair(Name(b"F1"), font);
    pdf.type1_font(font).base_font(Name(b"Helvetica"));
    let mut c = Content::new();
    c.begin_text();
    c.set_font(Name(b"F1"), 14.0);
    c.next_line(72.0, 760.0);
    c.show(Str(text.as_bytes()));
    c.end_text();
    pdf.stream(contents, &c.finish());
    pdf.finish()
}

pub(crate) fn doc(name: &str, bytes: &[u8]) -> Value {
    json!({"name": name, "size": bytes.len(), "content": B64.encode(bytes)})
}

pub(crate) fn signer() -> Value {
    json!({"name": "María García López", "email": "maria@example.com", "nif": "12345678Z"})
}

/// A flow `contract` (consent, signature, result) saved through the kiosk's admin settings.
pub(crate) async fn signing_flow(kit: &Kit, admin_session: &str) {
    let steps = json!([{"kind": "consent", "text": {"en": "I have read the contract."}}, {"kind": "signature"}, {"kind": "result"}]);
    kit.kiosk_ok(
        Some(admin_session),
        "flow_save",
        json!({"flow_id": "contract", "name": "Contract", "create": true, "steps": steps}),
    )
    .await;
}

pub(crate) fn drawn() -> Value {
    serde_json::to_value(stroke::synthetic(PointerKind::Pen)).unwrap()
}

pub(crate) async fn start(kit: &Kit, token: &str, body: &Value) -> (StatusCode, Value) {
    let resp = kit.post_json(token, "/danaconnect/api/biometric/start_circuit/contract", body).await;
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Runs the circuit's kiosk flow: open by link, consent, read, sign.
async fn sign_at_kiosk(kit: &Kit, link: &str) -> String {
    let session = kit.kiosk_ok(None, "case_open", json!({"code": link})).await;
    let case_id = session["case_id"].as_str().unwrap().to_string();
    kit.kiosk_ok(None, "step_submit", json!({"case_id": case_id, "index": 0, "kind": "consent", "outcome": "passed"}))
        .await;
    let listed = kit.kiosk_ok(None, "signature_documents", json!({"case_id": case_id, "index": 1})).await;
    assert_eq!(listed["documents"].as_array().unwrap().len(), 2, "{listed}");
    assert_eq!(listed["documents"][0]["pages"], 1);
    let shown = kit.kiosk_ok(None, "signature_document", json!({"case_id": case_id, "index": 1, "position": 0})).await;
    assert!(B64.decode(shown["pdf"].as_str().unwrap()).unwrap().starts_with(b"%PDF-"));

    let mut short = drawn();
    short["samples"] = json!(short["samples"].as_array().unwrap()[..5]);
    let args = |d: Value, agreed: bool| json!({"case_id": case_id, "index": 1, "pad": d["pad"], "samples": d["samples"], "agreed": agreed});
    let (status, body) = kit.kiosk(None, "signature_submit", args(short, true)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["message"].as_str().unwrap().contains("too short"), "{body}");
    assert_eq!(body["reason"], "signature_too_short", "the kiosk translates by this, not by the English: {body}");
    let mut empty = drawn();
    empty["samples"] = json!([]);
    let (status, body) = kit.kiosk(None, "signature_submit", args(empty, true)).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("signature_empty")),
        "{body}"
    );
    let (status, _) = kit.kiosk(None, "signature_submit", args(drawn(), false)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "no signature without agreeing");
    let signed = kit.kiosk_ok(None, "signature_submit", args(drawn(), true)).await;
    assert_eq!(signed["signed"]["documents"], 2);
    assert_eq!(signed["session"]["next"]["state"], "awaiting_decision");
    let (status, _) = kit.kiosk(None, "signature_submit", args(drawn(), true)).await;
    assert_eq!(status, StatusCode::CONFLICT, "signed once");
    case_id
}

pub(crate) fn zip_files(bytes: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = std::collections::BTreeMap::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let name = f.enclosed_name().expect("every name stays inside the folder").to_string_lossy().to_string();
        assert_eq!(name, f.name(), "names are plain relative paths");
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        out.insert(name, data);
    }
    out
}

/// `openssl cms -verify` of the detached manifest signature against the packaged kiosk certificate.
pub(crate) fn openssl_verifies(dir: &std::path::Path, manifest: &[u8], signature: &[u8], cert: &[u8]) -> bool {
    std::fs::write(dir.join("manifest.json"), manifest).unwrap();
    std::fs::write(dir.join("manifest.json.p7s"), signature).unwrap();
    std::fs::write(dir.join("kiosk.pem"), cert).unwrap();
    std::process::Command::new("openssl")
        .args(["cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any"])
        .arg("-in")
        .arg(dir.join("manifest.json.p7s"))
        .arg("-content")
        .arg(dir.join("manifest.json"))
        .arg("-CAfile")
        .arg(dir.join("kiosk.pem"))
        .args(["-out", "/dev/null"])
        .output()
        .unwrap()
        .status
        .success()
}

/// The exported trail links up (each event names the previous one's hash) and ends at the checkpoint that the
/// signed manifest carries. The hashes are keyed, so only the kiosk (`vouch audit verify`) recomputes them.
fn audit_chain_holds(events: &[Value], checkpoint: &Value) -> bool {
    let mut prev = "0".repeat(64);
    for e in events {
        if e["prev_hash"].as_str().unwrap() != prev {
            return false;
        }
        prev = e["hash"].as_str().unwrap().to_string();
    }
    let last = events.last().unwrap();
    !events.is_empty() && checkpoint["hash"] == last["hash"] && checkpoint["seq"] == last["seq"]
}

#[tokio::test]
async fn a_circuit_is_signed_at_the_kiosk_completed_and_its_evidence_zip_checks_out() {
    let kit = Kit::sqlite().await;
    let admin_session = kit.kiosk_admin().await;
    signing_flow(&kit, &admin_session).await;
    let creds = kit.client(Scope::Integrator, Some("http://127.0.0.1:9/hook"), None);
    let form = "grant_type=client_credentials";
    let token: Value = kit.oauth("/danaconnect/oauth2/token", Some(&creds.basic()), form).await.json().await.unwrap();
    let token = token["access_token"].as_str().unwrap().to_string();
    let (contract, annex) = (pdf("Loan contract"), pdf("Annex I: repayment schedule"));
    let body = json!({"id": "loan-77", "signer": signer(), "docs": [doc("Contrato préstamo.pdf", &contract), doc("../../annex.pdf", &annex)]});
    let (status, started) = start(&kit, &token, &body).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let circuit = started["circuitId"].as_str().unwrap().to_string();
    let link = started["link"].as_str().unwrap().to_string();
    assert!(link.ends_with(&format!("/kiosk/requests/{circuit}")), "{link}");

    let status_of = |v: Value| v["status"].as_str().unwrap().to_string();
    let path = format!("/danaconnect/api/biometric/circuits/{circuit}");
    assert_eq!(status_of(kit.get(&token, &path).await.json().await.unwrap()), "pending");
    let evidence = format!("{path}/evidence");
    assert_eq!(kit.get(&token, &evidence).await.status(), StatusCode::NOT_FOUND, "not completed yet");

    // The admin cannot complete a circuit nobody signed.
    let admin = kit.oauth_token(&kit.admin()).await;
    assert_eq!(kit.complete(&admin, &circuit, &approval()).await.status(), StatusCode::CONFLICT);

    let case_id = sign_at_kiosk(&kit, &link).await;
    assert_eq!(case_id, circuit);
    let state: Value = kit.get(&token, &path).await.json().await.unwrap();
    assert_eq!(state["status"], "in_progress");
    assert!(state["signedAt"].is_string() && state["documents"][1]["signed"] == true, "{state}");
    assert_eq!(kit.complete(&admin, &circuit, &approval()).await.status(), StatusCode::OK);
    assert_eq!(status_of(kit.get(&token, &path).await.json().await.unwrap()), "completed");

    // The completion webhook is queued (signed by the outbox like every webhook).
    assert!(
        eventually(std::time::Duration::from_secs(5), || kit.count("webhook_deliveries") == 1).await,
        "one completion webhook"
    );
    let hook: Vec<u8> = kit.db().query_row("SELECT body FROM webhook_deliveries", [], |r| r.get(0)).unwrap();
    let hook: Value = serde_json::from_slice(&hook).unwrap();
    assert_eq!(
        (hook["event"].as_str(), hook["circuitId"].as_str(), hook["id"].as_str()),
        (Some("circuit.completed"), Some(circuit.as_str()), Some("loan-77"))
    );

    let resp = kit.get(&token, &evidence).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/zip");
    let files = zip_files(&resp.bytes().await.unwrap());
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    for expected in [
        "documents/01-Contrato_pr_stamo.pdf",
        "documents/02-annex.pdf",
        "signature/signature-data-1.iso19794-7",
        "signature/signature-data-2.p7m",
        "signature/signature-image-1.png",
        "audit.json",
        "manifest.json",
        "manifest.json.p7s",
        "kiosk-certificate.pem",
    ] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    // Every file but the manifest and its signature is listed with its hash and size.
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    let listed = manifest["files"].as_array().unwrap();
    assert_eq!(listed.len(), files.len() - 2);
    for entry in listed {
        let data = &files[entry["name"].as_str().unwrap()];
        assert_eq!(entry["sha256"].as_str().unwrap(), hex::encode(Sha256::digest(data)), "{entry}");
        assert_eq!(entry["size"].as_u64().unwrap(), data.len() as u64);
    }
    // The signed PDFs are incremental updates of the uploaded ones.
    assert!(files["documents/01-Contrato_pr_stamo.pdf"].starts_with(&contract));
    assert!(files["documents/02-annex.pdf"].starts_with(&annex));
    let iso = vouch_signature::iso19794_7::SignRecord::decode(&files["signature/signature-data-1.iso19794-7"]).unwrap();
    assert!(iso.points.len() > 12);
    // The trail recomputes from its own hashes.
    let audit: Value = serde_json::from_slice(&files["audit.json"]).unwrap();
    let events = audit["events"].as_array().unwrap();
    assert!(audit_chain_holds(events, &manifest["audit_checkpoint"]), "{}", manifest["audit_checkpoint"]);
    let actions: Vec<&str> = events.iter().map(|e| e["action"].as_str().unwrap()).collect();
    for a in [
        "case_created",
        "signing_requested",
        "documents_previewed",
        "step_recorded",
        "documents_signed",
        "case_decided",
    ] {
        assert!(actions.contains(&a), "{a} not in {actions:?}");
    }
    // The manifest's signature checks with openssl, and fails for an edited manifest.
    let dir = tempfile::tempdir().unwrap();
    let (sig, cert) = (&files["manifest.json.p7s"], &files["kiosk-certificate.pem"]);
    assert!(openssl_verifies(dir.path(), &files["manifest.json"], sig, cert));
    let mut edited = files["manifest.json"].clone();
    let at = edited.iter().position(|b| *b == b'1').unwrap();
    edited[at] = b'2';
    assert!(!openssl_verifies(dir.path(), &edited, sig, cert));

    // 404 for what does not exist or is not the caller's.
    let other = kit.oauth_token(&kit.integrator()).await;
    assert_eq!(kit.get(&other, &evidence).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(kit.get(&other, &path).await.status(), StatusCode::NOT_FOUND);
    let unknown = format!("/danaconnect/api/biometric/circuits/{}/evidence", uuid::Uuid::new_v4());
    let resp = kit.get(&token, &unknown).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(resp.json::<Value>().await.unwrap()["code"], "not_found");
    assert_eq!(
        kit.get(&token, "/danaconnect/api/biometric/circuits/nope/evidence").await.status(),
        StatusCode::NOT_FOUND
    );
    // Retention purges the closed circuit: its captures, its signer's details and (its only signer being done) the
    // signed PDFs. The package then lists what was purged and still proves the rest.
    let settings = json!({"retention_days": 30, "default_language": "en", "idle_timeout_secs": 60});
    kit.kiosk_ok(Some(&admin_session), "settings_save", settings).await;
    let forty_days_ago = (time::OffsetDateTime::now_utc() - time::Duration::days(40)).unix_timestamp() * 1000;
    kit.db()
        .execute("UPDATE cases SET updated_at = ?1 WHERE id = ?2", rusqlite::params![forty_days_ago, circuit])
        .unwrap();
    kit.db().execute("UPDATE sign_processes SET created_at = ?1", [forty_days_ago]).unwrap();
    let purged = kit.kiosk_ok(Some(&admin_session), "purge_now", json!({})).await;
    assert_eq!((purged["cases"].as_u64(), purged["signers"].as_u64()), (Some(1), Some(1)), "{purged}");
    assert_eq!(purged["sign_documents"], 2, "{purged}");
    let resp = kit.get(&token, &evidence).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let after = zip_files(&resp.bytes().await.unwrap());
    assert!(!after.keys().any(|k| k.starts_with("documents/")), "the signed PDFs are purged");
    assert!(!after.contains_key("signature/signature-image-1.png"));
    let manifest: Value = serde_json::from_slice(&after["manifest.json"]).unwrap();
    for name in ["signature/signature-image-1.png", "documents/01-Contrato_pr_stamo.pdf"] {
        assert!(manifest["purged"].as_array().unwrap().iter().any(|p| p == name), "{name} in {manifest}");
    }
    let purged_pdfs =
        manifest["purged"].as_array().unwrap().iter().filter(|p| p.as_str().unwrap().starts_with("documents/"));
    assert_eq!(purged_pdfs.count(), 2, "{manifest}");
    assert!(after.contains_key("audit.json"), "the audit trail outlives the purge");
    let status: Value = kit.get(&token, &path).await.json().await.unwrap();
    assert!(status["documents"][0]["purgedAt"].is_string(), "{status}");
    let signer_name: String =
        kit.db().query_row("SELECT name FROM signers WHERE case_id = ?1", [&circuit], |r| r.get(0)).unwrap();
    assert_eq!(signer_name, "", "the signer's name is erased");
}

#[tokio::test]
async fn start_circuit_refuses_bad_input_with_400_and_stores_nothing() {
    let kit = Kit::start().await;
    let admin_session = kit.kiosk_admin().await;
    signing_flow(&kit, &admin_session).await;
    let token = kit.oauth_token(&kit.integrator()).await;
    let good = pdf("Contract");
    let base = json!({"id": "c-1", "signer": signer(), "docs": [doc("contract.pdf", &good)]});
    let with = |pointer: &str, value: Value| {
        let mut b = base.clone();
        *b.pointer_mut(pointer).unwrap() = value;
        b
    };
    let mut no_nif = base.clone();
    no_nif["signer"].as_object_mut().unwrap().remove("nif");
    let encrypted =
        b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R /Encrypt 2 0 R >>\n%%EOF\n";
    for (body, expect) in [
        (with("/signer/nif", json!("12345678A")), "check letter"),
        (with("/signer/nif", json!("1234")), "NIF"),
        (no_nif, "nif"),
        (with("/signer/email", json!("not-an-address")), "e-mail"),
        (with("/signer/name", json!("  ")), "signer.name"),
        (with("/docs/0/size", json!(good.len() + 1)), "decodes to"),
        (with("/docs/0", doc("x.pdf", b"GIF89a not a pdf")), "docs[0]"),
        (with("/docs/0", doc("x.pdf", encrypted)), "docs[0]"),
        (with("/docs/0/content", json!("%%%")), "base64"),
        (with("/docs", json!([])), "1 to 10"),
    ] {
        let (status, answer) = start(&kit, &token, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{expect}: {answer}");
        assert_eq!(answer["code"], "invalid_input");
        assert!(answer["message"].as_str().unwrap().contains(expect), "{expect}: {answer}");
    }
    let resp = kit.post_json(&token, "/danaconnect/api/biometric/start_circuit/no-such-flow", &base).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = kit.post_json(&token, "/danaconnect/api/biometric/start_circuit/demo", &base).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "the demo flow has no signature step");
    assert!(resp.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("no signature step"));
    assert_eq!(kit.count("cases"), 0);
    assert_eq!(kit.count("sign_documents"), 0);

    assert_eq!(start(&kit, &token, &base).await.0, StatusCode::OK);
    assert_eq!(start(&kit, &token, &base).await.0, StatusCode::CONFLICT, "the id was used");
    assert_eq!(kit.count("cases"), 1);
    let resp =
        kit.http.post(kit.url("/danaconnect/api/biometric/start_circuit/contract")).json(&base).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

const ORG: &str = "3f6c2a1e-org";

fn device(req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    req.header("x-installation_id", "tablet-7")
        .header("x-fingerprint", "fp-91ab")
        .header("x-location", "40.4168,-3.7038")
}

#[tokio::test]
async fn masstack_signs_biometric_and_simple_with_headers_limits_and_its_error_format() {
    let kit = Kit::sqlite().await;
    let token = kit.oauth_token(&kit.integrator()).await;
    let contract = pdf("Service agreement");
    let base = format!("/masstack/v1/orgs/{ORG}");
    let body = json!({
        "signers": [{"name": "Ana Ruiz", "email": "ana@example.com"}, {"name": "Luis Gil", "type": "simple"}],
        "documents": [{"name": "agreement.pdf", "content": B64.encode(&contract)}]
    });
    let resp = kit.post_json(&token, &format!("{base}/sign_process"), &body).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let created: Value = resp.json().await.unwrap();
    let (bio, simple) =
        (created["signs"][0]["sign_id"].as_str().unwrap(), created["signs"][1]["sign_id"].as_str().unwrap());
    assert!(created["signs"][0]["link"].is_null(), "the default flow has no signature step: API signing only");
    let sign_url = |kind: &str, id: &str, tail: &str| kit.url(&format!("{base}/{kind}/{id}{tail}"));
    // The signer app reads a sign with its device headers.
    let read_sign = |kind: &str, id: &str| {
        let request = device(kit.http.get(sign_url(kind, id, "")).bearer_auth(&token));
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };

    // Signer calls without the device headers: 400 in MasStack's format.
    let resp = kit.http.get(sign_url("biometric_signs", bio, "")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["errors"][0]["code"], "MDOC_001");
    assert_eq!(err["errors"][0]["title"], "INVALID_INPUT");
    assert!(err["errors"][0]["details"].as_str().unwrap().contains("x-installation_id"));
    assert!(err["errors"][0]["ref"].is_string());
    let resp = kit
        .http
        .post(sign_url("biometric_signs", bio, "/preview"))
        .bearer_auth(&token)
        .header("x-installation_id", "tablet-7")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "x-fingerprint is required too");
    let resp = kit
        .http
        .post(sign_url("biometric_signs", bio, "/preview"))
        .bearer_auth(&token)
        .header("x-installation_id", "tablet-7")
        .header("x-fingerprint", "fp-91ab")
        .header("x-location", "999,1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "x-location must be lat,long");

    let got = read_sign("biometric_signs", bio).await;
    assert_eq!(got["status"], "pending");
    assert_eq!(B64.decode(got["documents"][0]["content"].as_str().unwrap()).unwrap(), contract);
    let resp =
        device(kit.http.post(sign_url("biometric_signs", bio, "/preview")).bearer_auth(&token)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    let png = vouch_signature::render::png(&stroke::synthetic(PointerKind::Pen)).unwrap();
    let sign = |biometric_data: String, image: String| {
        device(kit.http.post(sign_url("biometric_signs", bio, "/sign")).bearer_auth(&token))
            .json(&json!({"biometric_data": biometric_data, "signature_image": image}))
            .send()
    };
    let resp = sign("x".repeat(300 * 1024 + 1), B64.encode(&png)).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.json::<Value>().await.unwrap()["errors"][0]["details"].as_str().unwrap().contains("biometric_data"));
    let resp = sign("pen-data".into(), "A".repeat(500 * 1024 + 4)).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.json::<Value>().await.unwrap()["errors"][0]["details"].as_str().unwrap().contains("signature_image"));
    let resp = sign("pen-data".into(), B64.encode(b"not an image")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = sign("vendor-sdk-pen-data-v3".into(), B64.encode(&png)).await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = sign("vendor-sdk-pen-data-v3".into(), B64.encode(&png)).await.unwrap();
    assert_eq!(resp.status(), StatusCode::CONFLICT, "signed once");
    assert_eq!(resp.json::<Value>().await.unwrap()["errors"][0]["title"], "CONFLICT");

    // A biometric sign is not reachable as a simple one, nor from another organisation.
    let resp = device(kit.http.get(sign_url("simple_signs", bio, "")).bearer_auth(&token)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(resp.json::<Value>().await.unwrap()["errors"][0]["title"], "RESOURCE_NOT_FOUND");
    let other_org = kit.url(&format!("/masstack/v1/orgs/other/biometric_signs/{bio}"));
    assert_eq!(
        device(kit.http.get(other_org).bearer_auth(&token)).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );

    let resp =
        device(kit.http.post(sign_url("simple_signs", simple, "/sign")).bearer_auth(&token)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let got = read_sign("simple_signs", simple).await;
    assert_eq!(got["status"], "signed");

    // The document now carries both signatures, the second an incremental update of the first.
    let process: Value = kit
        .get(&token, &format!("{base}/sign_process/{}", created["id"].as_str().unwrap()))
        .await
        .json()
        .await
        .unwrap();
    let signed = B64.decode(process["documents"][0]["content"].as_str().unwrap()).unwrap();
    assert!(signed.starts_with(&contract));
    assert_eq!(signed.windows(10).filter(|w| w == b"/ByteRange").count(), 2);
    // The device headers are in the sign's audit trail.
    let details: Vec<String> = kit
        .db()
        .prepare("SELECT detail FROM audit_events WHERE chain = ?1")
        .unwrap()
        .query_map([bio], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(
        details.iter().filter(|d| d.contains("tablet-7") && d.contains("fp-91ab") && d.contains("40.4168")).count()
            >= 2,
        "{details:?}"
    );
    assert!(!details.iter().any(|d| d.contains("vendor-sdk-pen-data")), "pen data stays out of the audit log");

    // Past retention, with both signers' cases closed, the agreement is deleted: the sign says so in MasStack's
    // format instead of failing inside.
    let admin = kit.kiosk_admin().await;
    let settings = json!({"retention_days": 30, "default_language": "en", "idle_timeout_secs": 60});
    kit.kiosk_ok(Some(&admin), "settings_save", settings).await;
    let forty_days_ago = vouch_store::to_ms(vouch_store::now()) - 40 * 24 * 3600 * 1000;
    kit.db().execute("UPDATE cases SET status = 'completed', updated_at = ?1", [forty_days_ago]).unwrap();
    kit.db().execute("UPDATE sign_processes SET created_at = ?1", [forty_days_ago]).unwrap();
    let purged = kit.kiosk_ok(Some(&admin), "purge_now", json!({})).await;
    assert_eq!((purged["signers"].as_u64(), purged["sign_documents"].as_u64()), (Some(2), Some(1)), "{purged}");
    let resp = device(kit.http.get(sign_url("biometric_signs", bio, "")).bearer_auth(&token)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let err: Value = resp.json().await.unwrap();
    assert!(err["errors"][0]["details"].as_str().unwrap().contains("retention"), "{err}");
}

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("openssl").current_dir(dir).args(args).output().unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn an_admin_sets_the_signing_pkcs12_and_the_escrow_certificate_in_settings() {
    let kit = Kit::sqlite().await;
    let admin_session = kit.kiosk_admin().await;
    let dir = tempfile::tempdir().unwrap();
    for (name, cn) in [("kiosk", "/CN=Branch 12 Signing"), ("escrow", "/CN=Escrow Holder")] {
        let (key, cert) = (format!("{name}.key"), format!("{name}.pem"));
        openssl(
            dir.path(),
            &[
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &cert, "-subj", cn, "-days",
                "30",
            ],
        );
    }
    openssl(
        dir.path(),
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "kiosk.key",
            "-in",
            "kiosk.pem",
            "-out",
            "kiosk.p12",
            "-passout",
            "pass:branch-secret",
        ],
    );
    let p12 = B64.encode(std::fs::read(dir.path().join("kiosk.p12")).unwrap());
    let escrow_pem = std::fs::read_to_string(dir.path().join("escrow.pem")).unwrap();

    let generated = kit.kiosk_ok(Some(&admin_session), "signing_keys", json!({})).await;
    assert_eq!(generated["self_signed"], true);
    assert!(generated["subject"].as_str().unwrap().contains("Vouch kiosk (self-signed)"), "{generated}");
    let (status, body) =
        kit.kiosk(Some(&admin_session), "signing_keys_set", json!({"pkcs12": p12, "password": "wrong"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["message"].as_str().unwrap().contains("password"), "{body}");
    let (status, _) = kit.kiosk(None, "signing_keys_set", json!({"pkcs12": p12, "password": "branch-secret"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "admin only");
    let set = kit
        .kiosk_ok(
            Some(&admin_session),
            "signing_keys_set",
            json!({"pkcs12": p12, "password": "branch-secret", "escrow_certificate": escrow_pem}),
        )
        .await;
    assert!(set["subject"].as_str().unwrap().contains("Branch 12 Signing"), "{set}");
    assert_eq!(set["source"], "PKCS#12 chosen in settings");
    assert!(set["escrow_subject"].as_str().unwrap().contains("Escrow Holder"), "{set}");
    let audit: String = kit
        .db()
        .query_row("SELECT group_concat(detail) FROM audit_events WHERE chain = 'settings'", [], |r| r.get(0))
        .unwrap();
    assert!(audit.contains("Branch 12 Signing") && !audit.contains("branch-secret"), "no password in the audit log");
    let stored: String =
        kit.db().query_row("SELECT value FROM settings WHERE key = 'signing_pkcs12'", [], |r| r.get(0)).unwrap();
    assert!(!stored.contains("branch-secret") && !stored.contains(&p12[..40]), "sealed, not in clear");

    // A circuit signed now is sealed by the chosen certificate, and its pen data opens with the escrow key only.
    signing_flow(&kit, &admin_session).await;
    let token = kit.oauth_token(&kit.integrator()).await;
    let (contract, annex) = (pdf("Contract"), pdf("Annex"));
    let body = json!({"id": "p12-1", "signer": signer(), "docs": [doc("c.pdf", &contract), doc("a.pdf", &annex)]});
    let (status, started) = start(&kit, &token, &body).await;
    assert_eq!(status, StatusCode::OK);
    sign_at_kiosk(&kit, started["link"].as_str().unwrap()).await;
    let circuit = started["circuitId"].as_str().unwrap();
    let admin = kit.oauth_token(&kit.admin()).await;
    assert_eq!(kit.complete(&admin, circuit, &approval()).await.status(), StatusCode::OK);
    let zip = kit.get(&token, &format!("/danaconnect/api/biometric/circuits/{circuit}/evidence")).await;
    let files = zip_files(&zip.bytes().await.unwrap());
    let cert = String::from_utf8(files["kiosk-certificate.pem"].clone()).unwrap();
    let ours = std::fs::read_to_string(dir.path().join("kiosk.pem")).unwrap();
    let body_of = |pem: &str| pem.lines().filter(|l| !l.starts_with("-----")).collect::<String>();
    assert_eq!(body_of(&cert), body_of(&ours));
    let escrow_key = std::fs::read_to_string(dir.path().join("escrow.key")).unwrap();
    let payload =
        vouch_signature::envelope::open_with_pem(&files["signature/signature-data-2.p7m"], &escrow_key).unwrap();
    assert_eq!(payload.documents.len(), 2);
    let kiosk_key = std::fs::read_to_string(dir.path().join("kiosk.key")).unwrap();
    assert!(vouch_signature::envelope::open_with_pem(&files["signature/signature-data-2.p7m"], &kiosk_key).is_err());
}

#[tokio::test]
async fn evidence_holds_the_cases_captures_and_a_masstack_link_opens_the_same_kiosk_signature_step() {
    let demo = vouch_testkit::repo_path("assets/demo-camera");
    let kit = Kit::start_with(|c| c.camera = vouch_app::camera::CameraSource::Demo(demo)).await;
    let admin_session = kit.kiosk_admin().await;
    let steps = json!([{"kind": "selfie"}, {"kind": "signature"}, {"kind": "result"}]);
    kit.kiosk_ok(
        Some(&admin_session),
        "flow_save",
        json!({"flow_id": "kyc-sign", "name": "KYC and sign", "create": true, "steps": steps}),
    )
    .await;
    kit.kiosk_ok(Some(&admin_session), "flow_set_default", json!({"flow_id": "kyc-sign"})).await;
    let token = kit.oauth_token(&kit.integrator()).await;
    let contract = pdf("Account contract");
    let args = |case_id: &str| json!({"case_id": case_id, "index": 1, "pad": drawn()["pad"], "samples": drawn()["samples"], "agreed": true});

    // A DANAconnect circuit with a selfie before the signature.
    let body = json!({"id": "kyc-1", "signer": signer(), "docs": [doc("contract.pdf", &contract)]});
    let resp = kit.post_json(&token, "/danaconnect/api/biometric/start_circuit/kyc-sign", &body).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let started: Value = resp.json().await.unwrap();
    let circuit = started["circuitId"].as_str().unwrap().to_string();
    kit.kiosk_ok(None, "case_open", json!({"code": started["link"]})).await;
    let taken = kit.kiosk_ok(None, "selfie_capture", json!({"case_id": circuit, "index": 0})).await;
    assert_eq!(taken["captured"], true, "{taken}");
    kit.kiosk_ok(None, "signature_submit", args(&circuit)).await;
    let admin = kit.oauth_token(&kit.admin()).await;
    assert_eq!(kit.complete(&admin, &circuit, &approval()).await.status(), StatusCode::OK);
    let zip = kit.get(&token, &format!("/danaconnect/api/biometric/circuits/{circuit}/evidence")).await;
    let files = zip_files(&zip.bytes().await.unwrap());
    let selfie = &files["captures/selfie/selfie-1.jpg"];
    assert!(selfie.starts_with(&[0xFF, 0xD8]), "a JPEG");
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    let listed =
        manifest["files"].as_array().unwrap().iter().find(|f| f["name"] == "captures/selfie/selfie-1.jpg").unwrap();
    assert_eq!(listed["sha256"].as_str().unwrap(), hex::encode(Sha256::digest(selfie)));
    assert!(files.keys().any(|k| k.starts_with("steps/step-outcome-")), "{:?}", files.keys());

    // A MasStack sign on the default flow gets a link; the kiosk runs its selfie and signature steps.
    let body = json!({"signers": [{"name": "Ana Ruiz"}], "documents": [{"name": "contract.pdf", "content": B64.encode(&contract)}]});
    let created: Value =
        kit.post_json(&token, &format!("/masstack/v1/orgs/{ORG}/sign_process"), &body).await.json().await.unwrap();
    let link = created["signs"][0]["link"].as_str().expect("a link to the kiosk").to_string();
    let sign_id = created["signs"][0]["sign_id"].as_str().unwrap().to_string();
    let opened = kit.kiosk_ok(None, "case_open", json!({"code": link})).await;
    assert_eq!(opened["case_id"], sign_id.as_str());
    kit.kiosk_ok(None, "selfie_capture", json!({"case_id": sign_id, "index": 0})).await;
    kit.kiosk_ok(None, "signature_submit", args(&sign_id)).await;
    let got: Value = device(
        kit.http.get(kit.url(&format!("/masstack/v1/orgs/{ORG}/biometric_signs/{sign_id}"))).bearer_auth(&token),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(got["status"], "signed");
    let signed = B64.decode(got["documents"][0]["content"].as_str().unwrap()).unwrap();
    assert!(signed.starts_with(&contract) && signed.len() > contract.len());
}
