//! The kiosk's camera steps over HTTP with the demo camera and the real models: the preview stream, the
//! guide, the selfie and liveness, decided by the server and stored as evidence.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use vouch_core::Scope;
use vouch_server::camera::CameraSource;

use crate::kit::Kit;

async fn kit_with_flow(steps: Value) -> (Kit, String) {
    let demo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets/demo-camera");
    let kit = Kit::start_with(|c| c.camera = CameraSource::Demo(demo)).await;
    let admin = kit.kiosk_admin().await;
    kit.kiosk_ok(Some(&admin), "flow_save", json!({"flow_id": "face", "name": "Face", "create": true, "steps": steps}))
        .await;
    kit.kiosk_ok(Some(&admin), "flow_set_default", json!({"flow_id": "face"})).await;
    let integrator = kit.client(Scope::Integrator, None, None);
    let token = kit.eeid_token(&integrator).await;
    let request = kit.create_ok(&token, None).await;
    let opened = kit.kiosk_ok(None, "case_open", json!({"code": request["link"]})).await;
    let case_id = opened["case_id"].as_str().unwrap().to_string();
    (kit, case_id)
}

fn evidence_kinds(kit: &Kit) -> Vec<(String, String)> {
    let db = kit.db();
    let mut stmt = db.prepare("SELECT kind, media_type FROM evidence ORDER BY seq").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
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
    let (status, _) = kit
        .kiosk(None, "step_submit", json!({"case_id": case_id, "index": 0, "kind": "selfie", "outcome": "passed"}))
        .await;
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
