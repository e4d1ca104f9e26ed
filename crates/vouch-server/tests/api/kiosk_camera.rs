//! The kiosk's camera steps over HTTP with the demo camera and the real models: the preview stream, the
//! guide, the selfie and liveness, decided by the server and stored as evidence.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use vouch_app::camera::CameraSource;
use vouch_core::Scope;

use vouch_testkit::server::Kit;

async fn kit_with_flow(steps: Value) -> (Kit, String) {
    let (kit, case_id, _, _) = kit_with_flow_and_token(steps).await;
    (kit, case_id)
}

/// The kit, the case, the integrator's bearer token for that case and an admin kiosk session.
async fn kit_with_flow_and_token(steps: Value) -> (Kit, String, String, String) {
    let demo = vouch_testkit::repo_path("assets/demo-camera");
    let kit = Kit::start_with(|c| c.camera = CameraSource::Demo(demo)).await;
    let admin = kit.kiosk_admin().await;
    kit.default_flow(&admin, "face", steps).await;
    let integrator = kit.client(Scope::Integrator, None, None);
    let token = kit.eeid_token(&integrator).await;
    let request = kit.create_ok(&token, None).await;
    let opened = kit.kiosk_ok(None, "case_open", json!({"code": request["link"]})).await;
    let case_id = opened["case_id"].as_str().unwrap().to_string();
    (kit, case_id, token, admin)
}

fn evidence_kinds(kit: &Kit) -> Vec<(String, String)> {
    let rows = kit.text_rows("SELECT kind, media_type FROM evidence ORDER BY seq");
    rows.into_iter().map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap())).collect()
}

#[tokio::test]
async fn selfie_and_passive_liveness_are_taken_from_the_demo_camera_and_kept_as_evidence() {
    let (kit, case_id) = kit_with_flow(
        json!([{"kind": "selfie"}, {"kind": "liveness", "liveness_type": "passive"}, {"kind": "result"}]),
    )
    .await;

    // The camera says it is a demo, and its preview needs the token it hands out.
    let status = kit.kiosk_ok(None, "camera_status", json!({})).await;
    assert_eq!((status["available"].as_bool(), status["demo"].as_bool()), (Some(true), Some(true)), "{status}");
    assert_eq!(status["source"]["kind"], "demo_file");
    let preview = status["preview_path"].as_str().unwrap();
    let denied = kit.http.get(kit.url("/vouch/v1/kiosk/camera/preview?t=guess")).send().await.unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    // Each camera_status hands out a new token; the document camera's token does not name this camera.
    let again = kit.kiosk_ok(None, "camera_status", json!({})).await;
    assert_ne!(again["preview_path"], status["preview_path"], "preview tokens are rotated");
    let mut stream = kit.http.get(kit.url(preview)).send().await.unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(stream.headers()["content-type"].to_str().unwrap().starts_with("multipart/x-mixed-replace"));
    let mut got = Vec::new();
    while got.len() < 20_000 {
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.chunk()).await.unwrap().unwrap().unwrap();
        got.extend_from_slice(&chunk);
    }
    assert!(got.starts_with(b"--vouchframe\r\nContent-Type: image/jpeg"));
    assert!(got.windows(3).any(|w| w == [0xFF, 0xD8, 0xFF]), "a JPEG in the stream");
    drop(stream);

    // The guide sees one well-placed face.
    let guide = kit.kiosk_ok(None, "camera_guide", json!({})).await;
    assert_eq!(guide["ready"], true, "{guide}");
    assert_eq!(guide["demo"], true);

    // The customer cannot claim the step; the kiosk takes it.
    let status = kit.claim_step(&case_id, 0, "selfie").await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = kit.kiosk(None, "liveness_begin", json!({"case_id": case_id, "index": 0})).await;
    assert_eq!(status, StatusCode::CONFLICT, "not the current step");
    let taken = kit.kiosk_ok(None, "selfie_capture", json!({"case_id": case_id, "index": 0})).await;
    assert_eq!(taken["captured"], true, "{taken}");
    assert_eq!(taken["session"]["next"]["step"]["kind"], "liveness");
    let step = &taken["session"]["done"][0];
    assert_eq!((step["outcome"].as_str(), step["detail"]["demo"].as_bool()), (Some("passed"), Some(true)));

    let plan = kit.kiosk_ok(None, "liveness_begin", json!({"case_id": case_id, "index": 1})).await;
    assert_eq!(plan["plan"], json!(["NONE"]));
    let done = kit.kiosk_ok(None, "liveness_frame", json!({"case_id": case_id, "index": 1})).await;
    assert_eq!((done["done"].as_bool(), done["passed"].as_bool()), (Some(true), Some(true)), "{done}");
    assert_eq!(done["session"]["next"]["state"], "awaiting_decision");

    let kinds = evidence_kinds(&kit);
    for want in ["selfie", "liveness_frames"] {
        assert!(kinds.iter().any(|(k, m)| k == want && m == "image/jpeg"), "{want} missing from {kinds:?}");
    }
}

#[tokio::test]
async fn a_photo_cannot_smile_so_smile_liveness_fails_after_its_attempts() {
    let (kit, case_id) =
        kit_with_flow(json!([{"kind": "liveness", "liveness_type": "smile"}, {"kind": "result"}])).await;
    let args = json!({"case_id": case_id, "index": 0});
    for attempt in 1..=3 {
        let plan = kit.kiosk_ok(None, "liveness_begin", args.clone()).await;
        assert_eq!(plan["plan"], json!(["NEUTRAL", "SMILE", "NEUTRAL"]));
        assert_eq!(plan["attempts_left"], 4 - attempt);
        let mut last = Value::Null;
        for _ in 0..3 {
            last = kit.kiosk_ok(None, "liveness_frame", args.clone()).await;
        }
        assert_eq!(last["passed"], false, "{last}");
        if attempt < 3 {
            assert_eq!(last["captured"], false);
        } else {
            assert_eq!(last["session"]["next"]["state"], "awaiting_decision");
            assert_eq!(last["session"]["done"][0]["outcome"], "failed");
        }
    }
    // The failed attempt's frames are evidence too.
    assert_eq!(evidence_kinds(&kit).iter().filter(|(k, _)| k == "liveness_frames").count(), 3);
}

#[tokio::test]
async fn an_admin_switches_the_camera_in_settings_and_a_missing_webcam_is_reported_not_faked() {
    let demo = vouch_testkit::repo_path("assets/demo-camera");
    let kit = Kit::start_with(|c| c.camera = CameraSource::Demo(demo)).await;
    let admin = kit.kiosk_admin().await;
    let status = kit.kiosk_ok(None, "camera_status", json!({})).await;
    assert!(status["configured"].as_str().unwrap().starts_with("demo:"), "{status}");
    let devices = kit.kiosk_ok(Some(&admin), "devices", json!({})).await;
    assert!(devices["startup_camera"].as_str().unwrap().starts_with("demo:"), "{devices}");

    // A webcam that is not plugged in: the kiosk says so and keeps looking, it never falls back to the demo.
    let mut settings = kit.kiosk_ok(Some(&admin), "settings_get", json!({})).await;
    settings["camera"] = json!("webcam:Imaginary Cam 3000");
    kit.kiosk_ok(Some(&admin), "settings_save", settings.clone()).await;
    let mut status = kit.kiosk_ok(None, "camera_status", json!({})).await;
    for _ in 0..50 {
        if status["error"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        status = kit.kiosk_ok(None, "camera_status", json!({})).await;
    }
    assert_eq!(status["configured"], "webcam:Imaginary Cam 3000");
    assert_eq!((status["connected"].as_bool(), status["demo"].as_bool()), (Some(false), Some(false)), "{status}");
    assert!(status["error"].as_str().unwrap().contains("Imaginary Cam 3000"), "{status}");
    let (code, body) = kit.kiosk(None, "camera_guide", json!({})).await;
    assert_eq!(code, StatusCode::CONFLICT, "{body}");
    assert!(body["message"].as_str().unwrap().contains("not found"), "{body}");

    // Demo sources cannot be chosen at the terminal, and nonsense is refused without changing anything.
    for bad in ["demo:/etc", "synthetic", "webcam:", "usb"] {
        let mut attempt = settings.clone();
        attempt["camera"] = json!(bad);
        let (code, _) = kit.kiosk(Some(&admin), "settings_save", attempt).await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    assert_eq!(kit.kiosk_ok(Some(&admin), "settings_get", json!({})).await["camera"], "webcam:Imaginary Cam 3000");

    // Back to the startup configuration: frames flow again.
    settings["camera"] = json!("");
    kit.kiosk_ok(Some(&admin), "settings_save", settings).await;
    let guide = kit.kiosk_ok(None, "camera_guide", json!({})).await;
    assert!(guide.get("hints").is_some(), "{guide}");
    let status = kit.kiosk_ok(None, "camera_status", json!({})).await;
    assert_eq!((status["connected"].as_bool(), status["demo"].as_bool()), (Some(true), Some(true)), "{status}");
}

async fn put_reference(kit: &Kit, token: &str, case_id: &str, photo: &str, content_type: &str) -> (StatusCode, Value) {
    let bytes = std::fs::read(vouch_testkit::repo_path("testdata/faces").join(photo))
        .unwrap_or_else(|_| photo.as_bytes().to_vec());
    let path = format!("/vouch/v1/cases/{case_id}/reference-photo");
    kit.send_bytes(reqwest::Method::PUT, token, &path, content_type, bytes).await
}

/// `faces` side by side on one grey canvas, as a JPEG.
fn photo_of(faces: &[&str]) -> Vec<u8> {
    use vouch_vision::image::{Rgb, RgbImage};
    let limits = vouch_vision::ImageLimits::default();
    let decoded: Vec<RgbImage> = faces
        .iter()
        .map(|f| {
            vouch_vision::decode(&std::fs::read(vouch_testkit::repo_path("testdata/faces").join(f)).unwrap(), limits)
                .unwrap()
        })
        .collect();
    let width = decoded.iter().map(|i| i.width()).sum::<u32>().max(320);
    let height = decoded.iter().map(|i| i.height()).max().unwrap_or(0).max(240);
    let mut canvas = RgbImage::from_pixel(width, height, Rgb([128, 128, 128]));
    let mut x0 = 0;
    for img in &decoded {
        for (x, y, p) in img.enumerate_pixels() {
            canvas.put_pixel(x0 + x, y, *p);
        }
        x0 += img.width();
    }
    vouch_vision::image_io::encode_jpeg(&canvas, 90).unwrap()
}

#[tokio::test]
async fn a_reference_photo_shows_exactly_one_face_of_a_case_the_client_owns() {
    let steps = json!([{"kind": "selfie"}, {"kind": "face_match", "threshold": 0.5}, {"kind": "result"}]);
    let (kit, case_id, token, _admin) = kit_with_flow_and_token(steps).await;
    let path = format!("/vouch/v1/cases/{case_id}/reference-photo");
    let put = |bytes: Vec<u8>, content_type: &'static str| {
        let (kit, token, path) = (&kit, token.clone(), path.clone());
        async move { kit.send_bytes(reqwest::Method::PUT, &token, &path, content_type, bytes).await }
    };
    let (code, body) = put(photo_of(&[]), "image/jpeg").await;
    assert_eq!((code, body["reason"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("NO_FACE_DETECTED")), "{body}");
    let (code, body) = put(photo_of(&["fr_obama.jpg", "fr_biden.jpg"]), "image/jpeg").await;
    assert_eq!(
        (code, body["reason"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("MULTIPLE_FACES_DETECTED")),
        "{body}"
    );
    let (code, _) = put(photo_of(&["fr_obama.jpg"]), "image/gif").await;
    assert_eq!(code, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Another integrator's case is missing to this one, whatever it sends.
    let other = kit.eeid_token(&kit.client(Scope::Integrator, None, None)).await;
    let (code, _) = kit.send_bytes(reqwest::Method::PUT, &other, &path, "image/gif", photo_of(&["fr_obama.jpg"])).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    // Nothing refused was kept; the one good photo is.
    assert!(!evidence_kinds(&kit).iter().any(|(kind, _)| kind == "reference_photo"));
    let (code, body) = put(photo_of(&["fr_obama.jpg"]), "image/jpeg").await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert!(evidence_kinds(&kit).iter().any(|(kind, _)| kind == "reference_photo"));
}

#[tokio::test]
async fn face_match_compares_the_selfie_with_the_uploaded_reference_photo() {
    let steps = json!([{"kind": "selfie"}, {"kind": "face_match", "threshold": 0.5}, {"kind": "result"}]);

    // The demo camera shows Obama; the integrator's photo on file is another picture of him.
    let (kit, case_id, token, admin) = kit_with_flow_and_token(steps.clone()).await;
    let (code, body) = put_reference(&kit, &token, &case_id, "fr_obama2.jpg", "image/jpeg").await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["sha256"].as_str().unwrap().len(), 64);
    let (code, _) = put_reference(&kit, &token, &case_id, "fr_biden.jpg", "image/jpeg").await;
    assert_eq!(code, StatusCode::CONFLICT, "one reference per case: a run match cannot be redone with another face");
    let args = json!({"case_id": case_id, "index": 0});
    let selfie = kit.kiosk_ok(None, "selfie_capture", args).await;
    assert_eq!(selfie["captured"], true, "{selfie}");
    // The customer cannot claim the match; the kiosk decides it.
    let (code, _) = kit
        .kiosk(None, "step_submit", json!({"case_id": case_id, "index": 1, "kind": "face_match", "outcome": "passed"}))
        .await;
    assert_eq!(code, StatusCode::CONFLICT);
    let matched = kit.kiosk_ok(None, "face_match_run", json!({"case_id": case_id, "index": 1})).await;
    let step = &matched["session"]["done"][1];
    assert_eq!(step["outcome"], "passed", "{matched}");
    let score = step["detail"]["score"].as_f64().unwrap();
    assert!(score > 0.5, "{step}");
    // The selfie kept the good frames of its probe window, best last, and the match was made of all of them.
    let frames = matched["session"]["done"][0]["detail"]["frames"].as_u64().unwrap();
    let selfies = kit.text_rows("SELECT sha256 FROM evidence WHERE kind = 'selfie' ORDER BY seq");
    assert!((1..=3).contains(&frames) && selfies.len() as u64 == frames, "{frames} frames, {selfies:?}");
    assert_eq!(step["detail"]["selfie_frames"].as_u64(), Some(frames), "{step}");
    assert_eq!(step["detail"]["selfie"].as_str(), selfies.last().unwrap()[0].as_deref(), "the best frame is cited");
    assert_eq!(matched["session"]["next"]["state"], "awaiting_decision");
    let kinds = evidence_kinds(&kit);
    assert!(kinds.contains(&("reference_photo".into(), "image/jpeg".into())), "{kinds:?}");

    // The clerk sees both photos; each view is audited, and only photos can be viewed.
    let detail = kit.kiosk_ok(Some(&admin), "case_detail", json!({"case_id": case_id})).await;
    let sha_of = |kind: &str| {
        detail["evidence"].as_array().unwrap().iter().find(|e| e["kind"] == kind).unwrap()["sha256"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for kind in ["selfie", "reference_photo"] {
        let args = json!({"case_id": case_id, "sha256": sha_of(kind)});
        let shown = kit.kiosk_ok(Some(&admin), "evidence_image", args.clone()).await;
        assert!(shown["src"].as_str().unwrap().starts_with("data:image/jpeg;base64,/9j/"), "{kind}");
        assert_eq!(kit.kiosk(None, "evidence_image", args).await.0, StatusCode::UNAUTHORIZED);
    }
    let outcome = json!({"case_id": case_id, "sha256": sha_of("step_outcome")});
    assert_eq!(kit.kiosk(Some(&admin), "evidence_image", outcome).await.0, StatusCode::NOT_FOUND);
    let detail = kit.kiosk_ok(Some(&admin), "case_detail", json!({"case_id": case_id})).await;
    let viewed = detail["audit"].as_array().unwrap().iter().filter(|a| a["action"] == "evidence_viewed").count();
    assert_eq!(viewed, 2);

    // Someone else's photo on file: the same selfie does not match.
    let (kit, case_id, token, _) = kit_with_flow_and_token(steps.clone()).await;
    assert_eq!(put_reference(&kit, &token, &case_id, "fr_biden.jpg", "image/jpeg").await.0, StatusCode::OK);
    kit.kiosk_ok(None, "selfie_capture", json!({"case_id": case_id, "index": 0})).await;
    let matched = kit.kiosk_ok(None, "face_match_run", json!({"case_id": case_id, "index": 1})).await;
    let step = &matched["session"]["done"][1];
    assert_eq!(step["outcome"], "failed", "{matched}");
    assert!(step["detail"]["score"].as_f64().unwrap() < 0.5, "{step}");

    // No photo on file when the customer gets there: failed, with the reason for the clerk.
    let (kit, case_id, token, _) = kit_with_flow_and_token(steps).await;
    let other_case = "0f0e0d0c-0b0a-4909-8807-060504030201";
    assert_eq!(put_reference(&kit, &token, other_case, "fr_obama.jpg", "image/jpeg").await.0, StatusCode::NOT_FOUND);
    for (photo, content_type, want) in [
        ("not an image", "image/jpeg", StatusCode::UNPROCESSABLE_ENTITY),
        ("fr_obama.jpg", "text/plain", StatusCode::UNSUPPORTED_MEDIA_TYPE),
    ] {
        let (code, body) = put_reference(&kit, &token, &case_id, photo, content_type).await;
        assert_eq!(code, want, "{photo}: {body}");
    }
    kit.kiosk_ok(None, "selfie_capture", json!({"case_id": case_id, "index": 0})).await;
    let matched = kit.kiosk_ok(None, "face_match_run", json!({"case_id": case_id, "index": 1})).await;
    let step = &matched["session"]["done"][1];
    assert_eq!(
        (step["outcome"].as_str(), step["detail"]["reason"].as_str()),
        (Some("failed"), Some("no_reference_photo"))
    );
}

#[tokio::test]
async fn a_duplicate_check_passes_a_new_face_and_fails_one_enrolled_already() {
    use base64::Engine;
    let steps = json!([{"kind": "selfie"}, {"kind": "duplicate_check", "threshold": 0.75}, {"kind": "result"}]);
    let (kit, case_id, token, _) = kit_with_flow_and_token(steps).await;
    kit.kiosk_ok(None, "selfie_capture", json!({"case_id": case_id, "index": 0})).await;
    let checked = kit.kiosk_ok(None, "duplicate_check_run", json!({"case_id": case_id, "index": 1})).await;
    let step = &checked["session"]["done"][1];
    assert_eq!((step["outcome"].as_str(), step["detail"]["duplicate_of"].as_str()), (Some("passed"), None), "{step}");

    // The same client enrols the man the demo camera shows (from another photo of him): the next case fails.
    let integrator = kit.store.list_clients().unwrap().into_iter().find(|c| c.scope == Scope::Integrator).unwrap();
    let jwt = kit.store.issue_jwt(&integrator.id, 600, "verifik", None).unwrap().token;
    let image = base64::engine::general_purpose::STANDARD.encode(vouch_testkit::fixture("faces/fr_obama2.jpg"));
    let (status, body) = kit
        .send_json(
            reqwest::Method::POST,
            &jwt,
            "/verifik/v2/face-recognition/persons",
            &json!({"name": "Barack Obama", "images": [image]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let obama = body["data"]["_id"].as_str().unwrap().to_string();
    let request = kit.create_ok(&token, None).await;
    let opened = kit.kiosk_ok(None, "case_open", json!({"code": request["link"]})).await;
    let second = opened["case_id"].as_str().unwrap().to_string();
    kit.kiosk_ok(None, "selfie_capture", json!({"case_id": second, "index": 0})).await;
    let checked = kit.kiosk_ok(None, "duplicate_check_run", json!({"case_id": second, "index": 1})).await;
    let step = &checked["session"]["done"][1];
    assert_eq!(
        (step["outcome"].as_str(), step["detail"]["duplicate_of"].as_str()),
        (Some("failed"), Some(obama.as_str()))
    );
    assert!(step["detail"]["best_score"].as_f64().unwrap() >= 0.75, "{step}");
    assert_eq!(checked["session"]["status"], "in_progress", "an eeID case still waits for its clerk");
}
