use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use vouch_testkit::approval;
use vouch_testkit::pades::pyhanko;
use vouch_testkit::server::Kit;

const LIST: &str = "/eeid/api/ident/v1/identification_requests";

#[tokio::test]
async fn create_returns_the_spec_shape_with_a_kiosk_link_valid_7_days() {
    let kit = Kit::start().await;
    let c = kit.integrator();
    let token = kit.eeid_token(&c).await;
    let resp = kit
        .create_request(
            &token,
            json!({
                "reference": "loan-77",
                "claims_required": [{"type": "sub", "value": "EE30303039914"}, {"type": "country", "value": "EE"}],
                "reason": "Test Reason",
                "reason_translations": {"en": "Test Reason", "et": "Testpõhjus", "ru": "Тест"}
            }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let r: Value = resp.json().await.unwrap();
    let id = r["id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok());
    assert_eq!(r["status"], "pending");
    assert_eq!(r["client_id"], c.id);
    assert_eq!(r["reference"], "loan-77");
    assert_eq!(r["result"], json!({}));
    assert_eq!(r["completed_at"], Value::Null);
    assert_eq!(r["claims_required"][1], json!({"type": "country", "value": "EE"}));
    assert_eq!(r["reason_translations"]["et"], "Testpõhjus");
    assert_eq!(r["link"], format!("{}/kiosk/requests/{id}", kit.base));
    let created = OffsetDateTime::parse(r["created_at"].as_str().unwrap(), &Rfc3339).unwrap();
    let expires = OffsetDateTime::parse(r["link_expires_at"].as_str().unwrap(), &Rfc3339).unwrap();
    assert_eq!(expires - created, time::Duration::days(7));

    // The link opens the kiosk for this request (here the UI is not built, so the page says how to build it).
    let page = kit.http.get(r["link"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.text().await.unwrap().contains("make ui"));

    let got = kit.get(&token, &format!("{LIST}/{id}")).await;
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.json::<Value>().await.unwrap(), r);
}

#[tokio::test]
async fn list_paginates_with_totals_and_bounded_page_size() {
    let kit = Kit::start().await;
    let token = kit.eeid_token(&kit.integrator()).await;
    for i in 0..23 {
        kit.create_ok(&token, Some(&format!("ref-{i}"))).await;
    }
    let page = |q: &'static str| {
        let kit = &kit;
        let token = token.clone();
        async move { kit.get(&token, &format!("{LIST}{q}")).await.json::<Value>().await.unwrap() }
    };
    let first = page("").await;
    assert_eq!(
        (first["page"].as_u64(), first["page_size"].as_u64(), first["total"].as_u64()),
        (Some(1), Some(10), Some(23))
    );
    assert_eq!(first["items"].as_array().unwrap().len(), 10);
    assert_eq!(first["items"][0]["reference"], "ref-22", "newest first");
    let third = page("?page=3&page_size=10").await;
    assert_eq!(third["items"].as_array().unwrap().len(), 3);
    assert_eq!(page("?page=4").await["items"].as_array().unwrap().len(), 0);
    let big = page("?page_size=100000").await;
    assert_eq!(big["page_size"], 100);
    assert_eq!(big["items"].as_array().unwrap().len(), 23);
    let mut seen: Vec<String> = Vec::new();
    for p in 1..=5 {
        let v = kit.get(&token, &format!("{LIST}?page={p}&page_size=5")).await.json::<Value>().await.unwrap();
        seen.extend(v["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()));
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 23, "pages neither overlap nor skip");
    for bad in ["?page=0", "?page=-1", "?page_size=0", "?page=abc"] {
        let resp = kit.get(&token, &format!("{LIST}{bad}")).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(resp.json::<Value>().await.unwrap()["error"].is_string());
    }
}

#[tokio::test]
async fn invalid_claims_get_422_with_the_spec_error_body_and_store_nothing() {
    let kit = Kit::start().await;
    let token = kit.eeid_token(&kit.integrator()).await;
    let bad = [
        json!({"claims_required": []}),
        json!({"claims_required": [{"type": "name", "value": "OK TESTNUMBER"}]}),
        json!({"claims_required": [{"type": "sub", "value": ""}]}),
        json!({"claims_required": [{"type": "sub", "value": "EE30303039915"}]}),
        json!({"claims_required": [{"type": "sub", "value": "EE30303039914"}, {"type": "email", "value": "a@b"}]}),
        json!({"claims_required": [{"type": "sub", "value": "EE30303039914"}, {"type": "birthdate", "value": "1999-02-30"}]}),
        json!({"claims_required": [{"type": "sub", "value": "EE30303039914"}, {"type": "country", "value": "Estonia"}]}),
        json!({"claims_required": [{"type": "sub", "value": 5}]}),
        json!({"claims_required": "sub"}),
        json!({"reason": "no claims at all"}),
        json!({"claims_required": [{"type": "sub", "value": "EE30303039914"}], "reason_translations": {"de": "x"}}),
        json!({"claims_required": [{"type": "sub", "value": "EE30303039914"}], "reference": "x".repeat(300)}),
    ];
    for body in bad {
        let resp = kit.create_request(&token, body.clone()).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let err: Value = resp.json().await.unwrap();
        assert!(err["error"].as_str().is_some_and(|m| !m.is_empty()), "{body} -> {err}");
        assert_eq!(err.as_object().unwrap().len(), 1, "only `error`: {err}");
    }
    let msg = kit.create_request(&token, json!({"claims_required": []})).await.json::<Value>().await.unwrap();
    assert_eq!(msg["error"], "Claims required must include at least one claim of type \"sub\" with a non-empty value");
    assert_eq!(kit.count("cases"), 0);
    // A reused reference is refused too.
    kit.create_ok(&token, Some("dup")).await;
    let resp = kit
        .create_request(
            &token,
            json!({"reference": "dup", "claims_required": [{"type": "sub", "value": "EE30303039914"}]}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(kit.count("cases"), 1);
}

#[tokio::test]
async fn unknown_ids_are_404_with_the_spec_body() {
    let kit = Kit::start().await;
    let token = kit.eeid_token(&kit.integrator()).await;
    for id in [uuid::Uuid::new_v4().to_string(), "not-a-uuid".to_string()] {
        let resp = kit.get(&token, &format!("{LIST}/{id}")).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        assert_eq!(resp.json::<Value>().await.unwrap(), json!({"error": "Request not found"}));
        let resp = kit.get(&token, &format!("{LIST}/{id}/proof_of_identity")).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        assert_eq!(resp.json::<Value>().await.unwrap(), json!({"error": "Proof of identity not found"}));
    }
}

#[tokio::test]
async fn each_client_sees_only_its_own_requests() {
    let kit = Kit::start().await;
    let (a, b) = (kit.integrator(), kit.integrator());
    let (ta, tb) = (kit.eeid_token(&a).await, kit.eeid_token(&b).await);
    let mine = kit.create_ok(&ta, Some("shared-ref")).await;
    let id = mine["id"].as_str().unwrap();
    // The same reference is fine for another client.
    kit.create_ok(&tb, Some("shared-ref")).await;
    assert_eq!(kit.get(&tb, &format!("{LIST}/{id}")).await.status(), StatusCode::NOT_FOUND);
    let admin = kit.oauth_token(&kit.admin()).await;
    assert_eq!(kit.complete(&admin, id, &approval()).await.status(), StatusCode::OK);
    assert_eq!(kit.get(&tb, &format!("{LIST}/{id}/proof_of_identity")).await.status(), StatusCode::NOT_FOUND);
    let list: Value = kit.get(&tb, LIST).await.json().await.unwrap();
    assert_eq!(list["total"], 1);
    assert_ne!(list["items"][0]["id"], id);
}

fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("proof.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed by scripts/setup");
    assert!(out.status.success(), "pdftotext could not parse the proof: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn completing_through_the_admin_call_serves_a_real_pdf() {
    let kit = Kit::start().await;
    let c = kit.integrator();
    let token = kit.eeid_token(&c).await;
    let created = kit.create_ok(&token, Some("kyc-1")).await;
    let id = created["id"].as_str().unwrap();
    let proof_url = format!("{LIST}/{id}/proof_of_identity");
    assert_eq!(kit.get(&token, &proof_url).await.status(), StatusCode::NOT_FOUND, "no proof while pending");

    // An integrator cannot complete, whatever it sends.
    let integrator_bearer = kit.oauth_token(&c).await;
    for body in [approval(), json!({})] {
        let resp = kit.complete(&integrator_bearer, id, &body).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        assert_eq!(resp.json::<Value>().await.unwrap()["code"], "forbidden");
    }
    let admin = kit.oauth_token(&kit.admin()).await;
    // An approval must match the required claims and carry a reason.
    let mut mismatch = approval();
    mismatch["identity"]["sub"] = json!("EE37605030299");
    assert_eq!(kit.complete(&admin, id, &mismatch).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let mut no_reason = approval();
    no_reason["reason"] = json!(" ");
    assert_eq!(kit.complete(&admin, id, &no_reason).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(kit.get(&token, &format!("{LIST}/{id}")).await.json::<Value>().await.unwrap()["status"], "pending");

    let resp = kit.complete(&admin, id, &approval()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let view: Value = resp.json().await.unwrap();
    let kinds: Vec<&str> = view["evidence"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["decision", "proof_of_identity"]);
    let audit = view["audit"].as_array().unwrap();
    assert_eq!(audit.last().unwrap()["action"], "case_decided");
    assert!(audit.last().unwrap()["actor"].as_str().unwrap().starts_with("admin:"));
    assert_eq!(audit.last().unwrap()["detail"]["reason"], "Passport checked at the desk");

    let done: Value = kit.get(&token, &format!("{LIST}/{id}")).await.json().await.unwrap();
    assert_eq!(done["status"], "completed");
    assert!(done["completed_at"].is_string());
    assert_eq!(done["result"]["sub"], "EE30303039914");
    assert_eq!(done["result"]["given_name"], "Mari-Liis");
    assert_eq!(done["result"]["family_name"], "Männik");
    assert_eq!(done["result"]["date_of_birth"], "1903-03-03");
    assert_eq!(done["result"]["authentication_type"], "PASSPORT");
    assert_eq!(done["result"]["acr"], "high");
    assert_eq!(done["result"]["expiration_time"], 1_935_360_000);
    assert!(done["result"]["auth_time"].as_i64().unwrap() > 1_700_000_000);

    let resp = kit.get(&token, &proof_url).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    let pdf = resp.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = pdf_text(&pdf);
    for needle in ["Proof of identity", "Mari-Liis Männik", "PASSPORT", id, "kyc-1", &c.id] {
        assert!(text.contains(needle), "the proof lacks {needle:?}:\n{text}");
    }
    // The digest it quotes is the SHA-256 of the manifest of the evidence it lists.
    let decision_sha = view["evidence"][0]["sha256"].as_str().unwrap();
    let digest = vouch_store::sha256_hex(format!("decision {decision_sha}\n").as_bytes());
    assert!(text.contains(&digest), "digest {digest} missing:\n{text}");
    // Served bytes are the stored evidence.
    assert_eq!(vouch_store::sha256_hex(&pdf), view["evidence"][1]["sha256"].as_str().unwrap());

    let again = kit.complete(&admin, id, &approval()).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_rejected_request_reads_as_expired_with_no_result_or_proof() {
    let kit = Kit::start().await;
    let token = kit.eeid_token(&kit.integrator()).await;
    let id = kit.create_ok(&token, None).await["id"].as_str().unwrap().to_string();
    let admin = kit.oauth_token(&kit.admin()).await;
    let resp =
        kit.complete(&admin, &id, &json!({"outcome": "rejected", "reason": "Document photo does not match"})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let r: Value = kit.get(&token, &format!("{LIST}/{id}")).await.json().await.unwrap();
    assert_eq!(r["status"], "expired");
    assert_eq!(r["result"], json!({}));
    assert_eq!(kit.get(&token, &format!("{LIST}/{id}/proof_of_identity")).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn requests_expire_after_their_ttl() {
    let kit = Kit::sqlite_with(|cfg| cfg.case_ttl = Duration::from_millis(300)).await;
    let token = kit.eeid_token(&kit.integrator()).await;
    let id = kit.create_ok(&token, None).await["id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let r: Value = kit.get(&token, &format!("{LIST}/{id}")).await.json().await.unwrap();
    assert_eq!(r["status"], "expired");
    let listed: Value = kit.get(&token, LIST).await.json().await.unwrap();
    assert_eq!(listed["items"][0]["status"], "expired");
    // Reads show the expiry without writing it: the row and the audit chain wait for the sweep (or a write).
    let stored: String = kit.db().query_row("SELECT status FROM cases WHERE id = ?1", [&id], |r| r.get(0)).unwrap();
    assert_eq!(stored, "pending");
    assert_eq!(kit.store.audit_events(&id).unwrap().len(), 1);
    let admin = kit.oauth_token(&kit.admin()).await;
    assert_eq!(kit.complete(&admin, &id, &approval()).await.status(), StatusCode::CONFLICT);
    let actions: Vec<String> = kit.store.audit_events(&id).unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["case_created", "case_expired"]);
    let (updated, expires): (i64, i64) = kit
        .db()
        .query_row("SELECT updated_at, expires_at FROM cases WHERE id = ?1", [&id], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!(updated, expires, "expired as of its expiry, as reads showed it");
}

/// pyHanko (installed by scripts/setup into .deps/pyhanko) on `pdf`, trusting `cert_pem`: its JSON report.

#[tokio::test]
async fn the_proof_prints_every_script_is_sealed_by_the_kiosk_key_and_can_be_checked_at_its_address() {
    let kit = Kit::start().await;
    let token = kit.eeid_token(&kit.integrator()).await;
    let admin = kit.oauth_token(&kit.admin()).await;
    let names = [
        ("Ελένη", "Παπαδοπούλου"),        // Greek
        ("Анна-Мария", "Иванова"),        // Cyrillic
        ("Łucja Żofie", "Dvořáková-Ősz"), // Latin Extended-A
        ("Tõnu Jüri", "Šõgel-Ümarik"),    // Estonian
    ];
    for (given, family) in names {
        let id = kit.create_ok(&token, None).await["id"].as_str().unwrap().to_string();
        let mut approved = approval();
        approved["identity"]["given_name"] = json!(given);
        approved["identity"]["family_name"] = json!(family);
        approved["reason"] = json!(format!("Checked {given}'s passport"));
        assert_eq!(kit.complete(&admin, &id, &approved).await.status(), StatusCode::OK);
        let resp = kit.get(&token, &format!("{LIST}/{id}/proof_of_identity")).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let pdf = resp.bytes().await.unwrap().to_vec();
        let text = pdf_text(&pdf);
        if let Ok(dir) = std::env::var("VOUCH_PROOF_DUMP") {
            std::fs::write(format!("{dir}/proof-{id}.pdf"), &pdf).unwrap();
        }
        let full = format!("{given} {family}");
        assert!(text.contains(&full), "the proof lacks {full:?}:\n{text}");
        assert!(!text.contains('?'), "no character fell back to '?':\n{text}");
        // The fonts are embedded subsets, not whole files.
        assert!(pdf.len() < 200_000, "subset fonts keep the proof small: {} bytes", pdf.len());

        // Sealed by the kiosk key, PAdES baseline B, as an independent validator reads it.
        let keys = vouch_app::signing::SigningService::new(Default::default(), kit.store.clone()).keys().await.unwrap();
        let report = pyhanko(&pdf, &vouch_app::signing::certificate_pem(&keys.identity));
        let signatures = report["signatures"].as_array().unwrap();
        assert_eq!(signatures.len(), 1, "{report:#}");
        for key in ["intact", "valid", "trusted", "bottom_line"] {
            assert_eq!(signatures[0][key], true, "{key}: {report:#}");
        }
        assert_eq!(signatures[0]["pades_bb_problems"], json!([]), "{report:#}");

        // The address it prints answers anyone with the hash of the PDF Vouch issued, and nothing personal.
        let check_path = format!("/vouch/v1/proofs/{id}");
        assert!(text.contains(&kit.url(&check_path)), "the proof prints where to check it:\n{text}");
        let resp = kit.http.get(kit.url(&check_path)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let check: Value = resp.json().await.unwrap();
        assert_eq!(check["proof_sha256"].as_str().unwrap(), vouch_store::sha256_hex(&pdf), "{check}");
        assert!(!check.to_string().contains(family), "{check}");
    }
    let unknown = kit.http.get(kit.url(&format!("/vouch/v1/proofs/{}", uuid::Uuid::new_v4()))).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let pending = kit.create_ok(&token, None).await["id"].as_str().unwrap().to_string();
    let resp = kit.http.get(kit.url(&format!("/vouch/v1/proofs/{pending}"))).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND, "no proof before the request is completed");
}
