//! The DIS document chip API over HTTP: a generated test passport is read through the real reader code with
//! the challenge the server issued, uploaded as chip data, and inspected; garbage, tampering, replays and
//! missing trust anchors each give their own answer.

use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use vouch_chip::chip_data;
use vouch_chip::emulator::chip::{ChipOptions, EmulatedChip};
use vouch_chip::emulator::passport::{PassportSpec, TestPassport};
use vouch_chip::emulator::LocalCard;
use vouch_chip::lds::face;
use vouch_chip::pace::Password;
use vouch_chip::pki::trust::TrustStore;
use vouch_chip::reader::{self, ReadRequest};

use vouch_testkit::server::Kit;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn passport() -> TestPassport {
    let portrait = vouch_testkit::fixture("chip/portrait.jp2");
    let size = face::image_size(&portrait).unwrap();
    TestPassport::generate(&PassportSpec::specimen(portrait, size)).unwrap()
}

/// Reads the passport as a DIS client would, signing `challenge` with active authentication.
fn read(passport: &TestPassport, challenge: Option<[u8; 8]>) -> Vec<u8> {
    let chip = EmulatedChip::new(passport.clone(), ChipOptions::default());
    let atr = chip.atr();
    let mut card = LocalCard { chip, apdus: 0 };
    let trust = TrustStore::default();
    let request =
        ReadRequest { aa_challenge: challenge, ..ReadRequest::new(Password::Can(passport.can.clone()), &trust) };
    let reading = reader::read_document(&mut card, &atr, &request, &mut |_| {}).unwrap();
    chip_data::encode(&reading.chip_data())
}

async fn challenge(kit: &Kit, token: &str, id: &str) -> [u8; 8] {
    let (status, body) = kit
        .send_bytes(
            Method::PUT,
            token,
            &format!("/identity/api/v1/customers/{id}/document/chip/challenge"),
            "application/json",
            Vec::new(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    B64.decode(body["challenge"].as_str().unwrap()).unwrap().try_into().unwrap()
}

async fn upload(kit: &Kit, token: &str, id: &str, data: Vec<u8>) -> (StatusCode, Value) {
    kit.send_bytes(
        Method::PUT,
        token,
        &format!("/identity/api/v1/customers/{id}/document/chip/data"),
        "application/octet-stream",
        data,
    )
    .await
}

async fn inspect(kit: &Kit, token: &str, id: &str) -> (StatusCode, Value) {
    let resp = kit.post_json(token, &format!("/identity/api/v1/customers/{id}/document/inspect"), &json!({})).await;
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

/// A kit whose trust store holds the passport's CSCA.
async fn kit_trusting(passport: &TestPassport) -> Kit {
    let csca = tempfile::tempdir().unwrap();
    std::fs::write(csca.path().join("utopia.pem"), passport.csca_pem()).unwrap();
    let dir = csca.path().to_path_buf();
    let kit = Kit::start_with(move |cfg| cfg.csca_dir = Some(dir)).await;
    drop(csca); // loaded at start
    kit
}

#[tokio::test]
async fn chip_data_with_an_issued_challenge_is_authenticated_and_served_back() {
    let passport = passport();
    let kit = kit_trusting(&passport).await;
    let token = kit.oauth_token(&kit.integrator()).await;
    let id = kit.dis_customer(&token).await;

    let issued = challenge(&kit, &token, &id).await;
    let data = read(&passport, Some(issued));
    let (status, body) = upload(&kit, &token, &id, data.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["links"]["self"], format!("/api/v1/customers/{id}/document/chip/data"));
    assert!(body.get("errorCode").is_none(), "{body}");

    let (status, body) = inspect(&kit, &token, &id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["chipInspection"],
        json!({"dataAuthentication": "AUTHENTICATED", "chipAuthentication": "AUTHENTICATED",
               "chipAuthenticationType": "ACTIVE_AUTHENTICATION", "accessControlProtocolType": "PACE"})
    );
    assert_eq!(body["expired"], false);
    assert_eq!(body["mrzInspection"]["valid"], true);

    // The raw data comes back as uploaded; the portrait as a PNG of the chip's JPEG 2000.
    let got = kit.get(&token, &format!("/identity/api/v1/customers/{id}/document/chip/data")).await;
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(B64.decode(got.json::<Value>().await.unwrap()["data"].as_str().unwrap()).unwrap(), data);
    let portrait = kit.get(&token, &format!("/identity/api/v1/customers/{id}/document/chip/portrait")).await;
    assert_eq!(portrait.status(), StatusCode::OK);
    let png = B64.decode(portrait.json::<Value>().await.unwrap()["data"].as_str().unwrap()).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    let img = vouch_vision::image_io::decode(&png, vouch_vision::ImageLimits::default()).unwrap();
    assert_eq!((img.width(), img.height()), (300, 400));

    // The customer carries the chip's values, in DIS's shape.
    let customer = kit.get(&token, &format!("/identity/api/v1/customers/{id}")).await.json::<Value>().await.unwrap();
    let c = &customer["customer"];
    assert_eq!(c["surname"]["chip"], "ERIKSSON");
    assert_eq!(c["givenNames"]["chip"], "ANNA MARIA");
    assert_eq!(c["dateOfBirth"]["chip"], "1974-08-12");
    assert_eq!(c["nationality"]["chip"], "UTO");
    assert_eq!(c["document"]["documentNumber"]["chip"], "L898902C3");
    assert_eq!(c["document"]["dateOfExpiry"]["chip"], "2034-04-15");
    assert_eq!(c["document"]["links"]["chipPortrait"], format!("/api/v1/customers/{id}/document/chip/portrait"));

    // The same data again: the challenge was used up, so the signature proves nothing now.
    let (status, _) = upload(&kit, &token, &id, data).await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = inspect(&kit, &token, &id).await;
    assert_eq!(body["chipInspection"]["chipAuthentication"], "NOT_PERFORMED");
    assert_eq!(body["chipInspection"]["dataAuthentication"], "AUTHENTICATED");

    // A signature over another challenge is a cloned chip's answer.
    challenge(&kit, &token, &id).await;
    let (status, _) = upload(&kit, &token, &id, read(&passport, Some([9; 8]))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = inspect(&kit, &token, &id).await;
    assert_eq!(body["chipInspection"]["chipAuthentication"], "DENIED");

    // Deleting the document removes the chip data; deleting the customer leaves no blob behind.
    let resp = kit
        .http
        .delete(kit.url(&format!("/identity/api/v1/customers/{id}/document")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let gone = kit.get(&token, &format!("/identity/api/v1/customers/{id}/document/chip/data")).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    assert_eq!(gone.json::<Value>().await.unwrap()["errorCode"], "NOT_FOUND");
    assert_eq!(kit.count("dis_documents"), 0);
}

#[tokio::test]
async fn garbage_tampering_and_missing_trust_get_their_own_answers() {
    let passport = passport();
    let kit = Kit::start().await; // no CSCA configured
    let token = kit.oauth_token(&kit.integrator()).await;
    let id = kit.dis_customer(&token).await;

    let good = read(&passport, None);
    let (status, body) = upload(&kit, &token, &id, good.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = inspect(&kit, &token, &id).await;
    assert_eq!(body["chipInspection"]["dataAuthentication"], "AUTHORITY_CERTIFICATES_NOT_PROVIDED");
    assert_eq!(body["chipInspection"]["chipAuthentication"], "NOT_PERFORMED");

    // Garbage is LDS_PARSE_ERROR in a 200, and the earlier chip data stays.
    for garbage in
        [b"definitely not a passport".to_vec(), good[..good.len() / 2].to_vec(), vec![0x61, 0x03, 0x5F, 0x1F, 0x00]]
    {
        let (status, body) = upload(&kit, &token, &id, garbage).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["errorCode"], "LDS_PARSE_ERROR", "{body}");
    }
    let got = kit.get(&token, &format!("/identity/api/v1/customers/{id}/document/chip/data")).await;
    assert_eq!(B64.decode(got.json::<Value>().await.unwrap()["data"].as_str().unwrap()).unwrap(), good);

    // A changed byte in the portrait breaks its hash in the SOD.
    let mut data = chip_data::decode(&good).unwrap();
    let dg2 = data.files.groups.get_mut(&2).unwrap();
    let last = dg2.len() - 10;
    dg2[last] ^= 0x01;
    let (status, _) = upload(&kit, &token, &id, chip_data::encode(&data)).await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = inspect(&kit, &token, &id).await;
    assert_eq!(body["chipInspection"]["dataAuthentication"], "DENIED");

    // Bad requests in DIS's error format.
    let (status, body) = upload(&kit, &token, &id, Vec::new()).await;
    assert_eq!((status, body["errorCode"].as_str()), (StatusCode::BAD_REQUEST, Some("INVALID_REQUEST_BODY")));
    let (status, body) = kit
        .send_bytes(
            Method::PUT,
            &token,
            &format!("/identity/api/v1/customers/{id}/document/chip/data"),
            "image/png",
            good.clone(),
        )
        .await;
    assert_eq!(body["errorCode"], "INVALID_REQUEST_BODY", "{status} {body}");
    let (status, body) = upload(&kit, &token, "no-such-customer", good.clone()).await;
    assert_eq!((status, body["errorCode"].as_str()), (StatusCode::NOT_FOUND, Some("NOT_FOUND")));
    let (status, body) = upload(&kit, &token, &id, vec![0x61; 5 << 20]).await;
    assert_eq!(body["errorCode"], "INVALID_REQUEST_BODY", "{status} {body}");

    // Another client cannot see or replace this customer's document.
    let other = kit.oauth_token(&kit.client(vouch_core::Scope::Integrator, None, None)).await;
    let (status, _) = upload(&kit, &other, &id, good).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = inspect(&kit, &other, &id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Creating the document anew starts it empty: the chip data goes.
    let (status, body) = kit
        .send_bytes(
            Method::PUT,
            &token,
            &format!("/identity/api/v1/customers/{id}/document"),
            "application/json",
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let resp = kit.get(&token, &format!("/identity/api/v1/customers/{id}/document/chip/data")).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

/// A photographed page of another passport beside the chip: the customer shows both sources, the chip's
/// first, and the inspection names where the page's MRZ and the chip disagree.
#[tokio::test]
async fn a_page_and_a_chip_that_disagree_are_both_shown_and_the_mismatch_is_named() {
    use vouch_capture::synthetic_document::DocumentKind;
    let passport = passport();
    let kit = kit_trusting(&passport).await;
    let token = kit.oauth_token(&kit.integrator()).await;
    let id = kit.dis_customer(&token).await;
    let document = format!("/identity/api/v1/customers/{id}/document");
    let resp =
        kit.send_bytes(Method::PUT, &token, &document, "application/json", br#"{"sources":["MRZ"]}"#.to_vec()).await;
    assert_eq!(resp.0, StatusCode::OK);
    let (_, page) = crate::dis_pages::frame(DocumentKind::PassportDataPage, 0x7e57_00c1, true);
    let (status, body) =
        kit.send_bytes(Method::PUT, &token, &format!("{document}/pages"), "application/octet-stream", page).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let issued = challenge(&kit, &token, &id).await;
    let (status, body) = upload(&kit, &token, &id, read(&passport, Some(issued))).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let customer = kit.get(&token, &format!("/identity/api/v1/customers/{id}")).await.json::<Value>().await.unwrap();
    let c = &customer["customer"];
    assert_eq!(c["surname"]["chip"], "ERIKSSON");
    assert!(c["surname"]["mrz"].is_string() && c["surname"]["mrz"] != "ERIKSSON", "{c}");
    assert_eq!(c["document"]["documentNumber"]["chip"], "L898902C3");
    assert_eq!(c["document"]["pageTypes"], json!(["front"]));
    let (_, body) = inspect(&kit, &token, &id).await;
    let differ = body["mrzInspection"]["inconsistentWithChip"].as_array().unwrap();
    assert!(differ.contains(&json!("documentNumber")) && differ.contains(&json!("surname")), "{body}");
    assert_eq!(body["chipInspection"]["dataAuthentication"], "AUTHENTICATED", "the chip's verdict stands");
}
