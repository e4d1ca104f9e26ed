//! The DIS document pages API over HTTP with the real models: synthetic SPECIMEN frames (a passport data page,
//! an ID card's front and back, a bare backdrop) uploaded as JSON and as octet-stream, read, stored, returned
//! flattened with their quality and portrait, inspected, and deleted.

use base64::Engine;
use rand::rngs::StdRng;
use rand::SeedableRng;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use vouch_capture::synthetic_document::{self, DocumentKind, Font, SceneOptions, Synthetic};

use vouch_vision::image;

use vouch_testkit::server::Kit;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

pub(crate) fn frame(kind: DocumentKind, seed: u64, with_document: bool) -> (Synthetic, Vec<u8>) {
    let font = Font::from_bytes(std::fs::read(vouch_testkit::repo_root().join("models/OCRB.otf")).unwrap()).unwrap();
    let face = image::open(vouch_testkit::repo_root().join("testdata/faces/fr_obama.jpg")).unwrap().to_rgb8();
    let mut rng = StdRng::seed_from_u64(seed);
    let options = SceneOptions { with_document, ..SceneOptions::varied(&mut rng) };
    let shot = synthetic_document::render(&font, kind, Some(&face), &options, &mut rng).unwrap();
    let jpeg = synthetic_document::encode_jpeg(&shot.image, 92).unwrap();
    (shot, jpeg)
}

#[tokio::test]
async fn pages_are_read_stored_returned_inspected_and_deleted() {
    let kit = Kit::start().await;
    let token = kit.oauth_token(&kit.integrator()).await;
    let id = kit.dis_customer(&token).await;
    let base = format!("/identity/api/v1/customers/{id}/document");
    let (passport, jpeg) = frame(DocumentKind::PassportDataPage, 0x7e57_0001, true);

    // Pages need a document first.
    let (status, body) =
        kit.send_bytes(Method::PUT, &token, &format!("{base}/pages"), "application/octet-stream", jpeg.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    let (status, body) =
        kit.send_json(Method::PUT, &token, &base, &json!({"sources": ["MRZ", "DOCUMENT_PORTRAIT", "VIZ"]})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["links"]["self"], format!("/api/v1/customers/{id}/document"));
    assert_eq!(body["unsupportedSources"][0]["source"], "VIZ", "{body}");
    let (status, body) = kit.send_json(Method::PUT, &token, &base, &json!({"sources": ["SMELL"]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    kit.send_json(Method::PUT, &token, &base, &json!({"sources": ["MRZ"]})).await;

    // A passport page as JSON base64.
    let (status, body) = kit
        .send_json(Method::PUT, &token, &format!("{base}/pages"), &json!({"image": {"data": B64.encode(&jpeg)}}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("errorCode").is_none(), "{body}");
    assert_eq!(body["pageType"], "front");
    assert_eq!(body["documentType"]["type"], "passport");
    assert_eq!(body["documentType"]["machineReadableTravelDocument"], "TD3");
    assert_eq!(body["documentType"]["supportLevel"], "MRZ_EXTRACTION_ONLY");
    let tl = &body["detection"]["coordinates"]["topLeftCorner"];
    let (x, y) = (tl["x"].as_f64().unwrap() as f32, tl["y"].as_f64().unwrap() as f32);
    assert!((x - passport.corners[0][0]).abs() < 3.0 && (y - passport.corners[0][1]).abs() < 3.0, "{body}");
    assert_eq!(body["detection"]["cornerOutOfImage"], false);
    assert_eq!(body["links"]["self"], format!("/api/v1/customers/{id}/document/pages/front"));

    // The flattened page at 8 px/mm, resizable; its quality; its portrait.
    let page: Value = kit.get(&token, &format!("{base}/pages/front")).await.json().await.unwrap();
    let png = image::load_from_memory(&B64.decode(page["data"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!((png.width(), png.height()), (1000, 704));
    let small: Value = kit.get(&token, &format!("{base}/pages/front?width=250")).await.json().await.unwrap();
    let small = image::load_from_memory(&B64.decode(small["data"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!((small.width(), small.height()), (250, 176));
    let resp = kit.get(&token, &format!("{base}/pages/front?width=0")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let quality: Value = kit.get(&token, &format!("{base}/pages/front/quality")).await.json().await.unwrap();
    assert!(quality["fine"].is_boolean() && quality["details"]["sharpness"]["level"].is_string(), "{quality}");
    let resp = kit.get(&token, &format!("{base}/portrait")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let portrait: Value = resp.json().await.unwrap();
    let portrait = image::load_from_memory(&B64.decode(portrait["data"].as_str().unwrap()).unwrap()).unwrap();
    assert!(
        portrait.height() > 100 && portrait.height() > portrait.width(),
        "{}x{}",
        portrait.width(),
        portrait.height()
    );
    assert_eq!(kit.get(&token, &format!("{base}/pages/back")).await.status(), StatusCode::NOT_FOUND);
    for crop in ["ghost-portrait", "signature", "fingerprint"] {
        assert_eq!(kit.get(&token, &format!("{base}/{crop}")).await.status(), StatusCode::NOT_IMPLEMENTED, "{crop}");
    }

    // Inspection: the page MRZ's check digits, and expiry from it (the generator's dates lie ahead).
    let resp = kit.post_json(&token, &format!("{base}/inspect"), &json!({})).await;
    let inspect: Value = resp.json().await.unwrap();
    assert_eq!(inspect["mrzInspection"]["valid"], true, "{inspect}");
    assert!(inspect["expired"].is_boolean(), "{inspect}");
    assert!(inspect.get("chipInspection").is_none());
    assert!(inspect["mrzInspection"].get("inconsistentWithChip").is_none(), "no chip to compare with");

    // The customer is filled from the page's MRZ, as DIS does.
    let want = vouch_core::mrz::parse(passport.mrz.as_deref().unwrap()).unwrap();
    let c: Value = kit.get(&token, &format!("/identity/api/v1/customers/{id}")).await.json().await.unwrap();
    let c = &c["customer"];
    assert_eq!(c["surname"]["mrz"], want.primary_identifier.as_str(), "{c}");
    assert_eq!(c["givenNames"]["mrz"], want.secondary_identifier.as_str());
    assert_eq!(c["nationality"]["mrz"], want.nationality.as_str());
    assert_eq!(c["document"]["documentNumber"]["mrz"], want.document_number.as_str());
    let year = time::OffsetDateTime::now_utc().year();
    let birth = vouch_core::mrz::iso_date(&want.date_of_birth, true, year).unwrap();
    assert_eq!(c["dateOfBirth"]["mrz"], birth.as_str());
    assert_eq!(c["document"]["pageTypes"], json!(["front"]));
    assert!(c["surname"].get("chip").is_none(), "no chip was read: {c}");

    // An ID card back (TD1) does not belong to a passport.
    let (_, back) = frame(DocumentKind::IdCardBack, 0x7e57_0002, true);
    let (status, body) =
        kit.send_bytes(Method::PUT, &token, &format!("{base}/pages"), "application/octet-stream", back.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["errorCode"], "PAGE_DOESNT_MATCH_DOCUMENT_TYPE_OF_PREVIOUS_PAGE", "{body}");
    assert_eq!(kit.get(&token, &format!("{base}/pages/back")).await.status(), StatusCode::NOT_FOUND);

    // A new document: the ID card back alone is stored, with the missing front said.
    kit.send_json(Method::PUT, &token, &base, &json!({})).await;
    assert_eq!(kit.get(&token, &format!("{base}/pages/front")).await.status(), StatusCode::NOT_FOUND);
    let (status, body) =
        kit.send_bytes(Method::PUT, &token, &format!("{base}/pages"), "application/octet-stream", back).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["pageType"], "back", "{body}");
    assert_eq!(body["documentType"]["type"], "identity-card");
    assert_eq!(body["documentType"]["machineReadableTravelDocument"], "TD1");
    assert!(body["warnings"].as_array().unwrap().contains(&json!("MISSING_FRONT_PAGE")), "{body}");
    // Its front has no MRZ: stored as the front, type not recognised from it alone.
    let (_, front) = frame(DocumentKind::IdCardFront, 0x7e57_0003, true);
    let (status, body) =
        kit.send_bytes(Method::PUT, &token, &format!("{base}/pages"), "application/octet-stream", front).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["pageType"], "front", "{body}");
    assert!(body["warnings"].as_array().unwrap().contains(&json!("DOCUMENT_TYPE_NOT_RECOGNIZED")), "{body}");

    // No document in the frame.
    let (_, bare) = frame(DocumentKind::PassportDataPage, 0x7e57_0004, false);
    let (status, body) =
        kit.send_bytes(Method::PUT, &token, &format!("{base}/pages"), "application/octet-stream", bare).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["errorCode"], "NO_CARD_CORNERS_DETECTED", "{body}");

    // Not an image; another client; delete.
    let (status, body) = kit
        .send_bytes(Method::PUT, &token, &format!("{base}/pages"), "application/octet-stream", b"not an image".to_vec())
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errorCode"], "INVALID_IMAGE", "{body}");
    let other = kit.oauth_token(&kit.integrator()).await;
    assert_eq!(kit.get(&other, &format!("{base}/pages/back")).await.status(), StatusCode::NOT_FOUND);
    let resp = kit.http.delete(kit.url(&base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(kit.get(&token, &format!("{base}/pages/back")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(kit.count("dis_document_pages"), 0);

    let meta: Value = kit.get(&token, "/identity/api/v1/metadata").await.json().await.unwrap();
    let types: Vec<&str> =
        meta["documents"].as_array().unwrap().iter().map(|d| d["documentType"]["type"].as_str().unwrap()).collect();
    assert!(types.contains(&"passport") && types.contains(&"identity-card"), "{meta}");
}

#[tokio::test]
async fn the_customer_inspection_matches_the_selfie_with_the_page_portrait_and_a_grey_copy_is_flagged() {
    let kit = Kit::start().await;
    let token = kit.oauth_token(&kit.integrator()).await;
    let id = kit.dis_customer(&token).await;
    let inspect = format!("/identity/api/v1/customers/{id}/inspect");
    let doc_inspect = format!("/identity/api/v1/customers/{id}/document/inspect");

    // Nothing to compare yet: no selfie inspection, only the link to the document's.
    let body: Value = kit.post_json(&token, &inspect, &json!({})).await.json().await.unwrap();
    assert!(body.get("selfieInspection").is_none(), "{body}");
    assert_eq!(body["links"]["documentInspection"], format!("/api/v1/customers/{id}/document/inspect"));
    // Video injection is not looked for, and the answer says so in the field the schema requires.
    assert_eq!(body["security"], json!({"videoInjection": {"evaluated": false}}), "{body}");

    // The page prints fr_obama; the selfie is fr_obama2, the same man.
    let base = format!("/identity/api/v1/customers/{id}/document");
    kit.send_json(Method::PUT, &token, &base, &json!({"sources": ["MRZ", "DOCUMENT_PORTRAIT"]})).await;
    let (_, jpeg) = frame(DocumentKind::PassportDataPage, 0x7e57_0001, true);
    let (status, body) =
        kit.send_bytes(Method::PUT, &token, &format!("{base}/pages"), "application/octet-stream", jpeg).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let selfie = vouch_testkit::fixture("faces/fr_obama2.jpg");
    let (status, body) = kit
        .send_json(
            Method::PUT,
            &token,
            &format!("/identity/api/v1/customers/{id}/selfie"),
            &json!({"image": {"data": B64.encode(&selfie)}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let body: Value = kit.post_json(&token, &inspect, &json!({})).await.json().await.unwrap();
    assert_eq!(body["selfieInspection"]["similarityWith"]["documentPortrait"], true, "{body}");
    assert!(body["selfieInspection"]["similarityWith"].get("chipPortrait").is_none(), "no chip: {body}");
    let disclosed: Value =
        kit.post_json(&token, &format!("{inspect}/disclose"), &json!({})).await.json().await.unwrap();
    let score = disclosed["selfieInspection"]["similarityWith"]["documentPortrait"]["score"].as_f64().unwrap();
    assert!(score >= 0.5, "{disclosed}");

    // Another person's selfie does not match the page.
    let other = vouch_testkit::fixture("faces/fr_biden.jpg");
    kit.send_json(
        Method::PUT,
        &token,
        &format!("/identity/api/v1/customers/{id}/selfie"),
        &json!({"image": {"data": B64.encode(&other)}}),
    )
    .await;
    let body: Value = kit.post_json(&token, &inspect, &json!({})).await.json().await.unwrap();
    assert_eq!(body["selfieInspection"]["similarityWith"]["documentPortrait"], false, "{body}");

    // The colour page is not flagged; the same page photocopied in grey is.
    let body: Value = kit.post_json(&token, &doc_inspect, &json!({})).await.json().await.unwrap();
    assert_eq!(body["pageTampering"]["front"]["colorProfileChangeDetected"], false, "{body}");
    let (shot, _) = frame(DocumentKind::PassportDataPage, 0x7e57_0001, true);
    let grey = image::DynamicImage::ImageLuma8(image::imageops::grayscale(&shot.image)).to_rgb8();
    let grey = synthetic_document::encode_jpeg(&grey, 92).unwrap();
    let (status, body) =
        kit.send_bytes(Method::PUT, &token, &format!("{base}/pages"), "application/octet-stream", grey).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let body: Value = kit.post_json(&token, &doc_inspect, &json!({})).await.json().await.unwrap();
    assert_eq!(body["pageTampering"]["front"]["colorProfileChangeDetected"], true, "{body}");
    let disclosed: Value =
        kit.post_json(&token, &format!("{doc_inspect}/disclose"), &json!({})).await.json().await.unwrap();
    let score = disclosed["pageTampering"]["front"]["colorProfileChangeDetected"]["score"].as_f64().unwrap();
    assert!(score < 0.3, "{disclosed}");
}
