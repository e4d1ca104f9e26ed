//! The kiosk's document_scan step over HTTP, with the document camera playing a synthetic SPECIMEN clip (an
//! empty desk, the page arriving, glare, then held still) and the real page reader: the hints, the automatic
//! capture on agreeing reads, the MRZ opening the DEMO chip, the printed portrait matched with the selfie, and
//! the clerk's typed fallback.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use vouch_app::camera::CameraSource;
use vouch_capture::synthetic_document::{self, ClipPhase, DocumentKind, Font, Holder};
use vouch_core::Scope;
use vouch_server::chip::ChipSource;

use vouch_testkit::server::Kit;

/// The DEMO chip passport's holder, so the scanned MRZ opens that chip.
fn demo_holder() -> Holder {
    Holder {
        surname: "ERIKSSON".into(),
        given_names: "ANNA<MARIA".into(),
        document_number: "L898902C3".into(),
        nationality: "UTO".into(),
        date_of_birth: "740812".into(),
        sex: "F".into(),
        date_of_expiry: "340415".into(),
    }
}

/// The DEMO holder's passport shown to the document camera, as `vouch doc clip` draws it.
fn clip_frames() -> Vec<synthetic_document::ClipFrame> {
    let font = Font::from_bytes(std::fs::read(vouch_testkit::repo_root().join("models/OCRB.otf")).unwrap()).unwrap();
    let portrait =
        vouch_vision::image::open(vouch_testkit::repo_root().join("testdata/faces/fr_obama2.jpg")).unwrap().to_rgb8();
    synthetic_document::clip(&font, DocumentKind::PassportDataPage, &demo_holder(), Some(&portrait), (1280, 720), 7)
        .unwrap()
}

/// The clip as an MJPEG file, as `vouch doc clip` writes it, with the frames of the phases `keep` keeps; the
/// phases in frame order.
pub(crate) fn write_clip(dir: &Path, keep: impl Fn(ClipPhase) -> bool) -> (PathBuf, Vec<ClipPhase>) {
    let frames: Vec<_> = clip_frames().into_iter().filter(|f| keep(f.phase)).collect();
    let mut mjpeg = Vec::new();
    for f in &frames {
        mjpeg.extend_from_slice(&synthetic_document::encode_jpeg(&f.shot.image, 88).unwrap());
    }
    let path = dir.join("page.mjpeg");
    std::fs::write(&path, mjpeg).unwrap();
    (path, frames.iter().map(|f| f.phase).collect())
}

fn hints(v: &Value) -> Vec<String> {
    v["hints"].as_array().unwrap().iter().map(|h| h.as_str().unwrap().to_string()).collect()
}

/// Each frame is judged for what it shows: the empty desk asks for the document, the glare for a tilt, the
/// moving page for stillness; a read counts only on a fine, still page.
fn assert_hints_fit(phase: ClipPhase, v: &Value) {
    match phase {
        ClipPhase::Empty => {
            assert_eq!(hints(v), ["show_document"], "{v}");
            assert!(v["outline"].is_null(), "{v}");
        }
        ClipPhase::Glare => assert!(hints(v).contains(&"tilt_for_glare".to_string()), "{v}"),
        ClipPhase::Arriving => assert!(!hints(v).is_empty(), "{v}"),
        ClipPhase::Steady => {}
    }
    assert_eq!(v["agreeing"] == 0, !hints(v).is_empty(), "{v}");
}

/// A case on a flow of `steps`, and the admin's kiosk session (the admin PIN can be set once per kit).
async fn case_with(kit: &Kit, steps: Value) -> (String, String) {
    let admin = kit.kiosk_admin().await;
    kit.default_flow(&admin, "doc", steps).await;
    let token = kit.eeid_token(&kit.client(Scope::Integrator, None, None)).await;
    let request = kit.create_ok(&token, None).await;
    let opened = kit.kiosk_ok(None, "case_open", json!({"code": request["link"]})).await;
    (opened["case_id"].as_str().unwrap().to_string(), admin)
}

/// Polls the scan as the UI does until it captures; returns every view seen.
pub(crate) async fn scan_until_captured(kit: &Kit, case_id: &str, index: u32) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut views = Vec::new();
    loop {
        let view = kit.kiosk_ok(None, "document_scan_frame", json!({"case_id": case_id, "index": index})).await;
        let captured = view["captured"] == true;
        views.push(view);
        if captured {
            return views;
        }
        assert!(
            Instant::now() < deadline,
            "no capture in 60 s; last views: {:?}",
            &views[views.len().saturating_sub(5)..]
        );
    }
}

fn evidence(kit: &Kit) -> Vec<(String, String, String)> {
    let rows = kit.text_rows("SELECT kind, media_type, sha256 FROM evidence ORDER BY seq");
    rows.into_iter().map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap(), r[2].clone().unwrap())).collect()
}

pub(crate) async fn chip_done(kit: &Kit, case_id: &str, index: u32) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let view = kit.kiosk_ok(None, "chip_read_progress", json!({"case_id": case_id, "index": index})).await;
        if view["state"] == "done" || view["state"] == "failed" {
            return view;
        }
        assert!(Instant::now() < deadline, "the chip read did not finish: {view}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_shown_page_is_guided_captured_on_agreeing_reads_and_its_mrz_opens_the_chip_and_its_portrait_matches() {
    let dir = tempfile::tempdir().unwrap();
    let (clip, phases) = write_clip(dir.path(), |_| true);
    assert_eq!(phases.first(), Some(&ClipPhase::Empty));
    let faces = vouch_testkit::repo_root().join("assets/demo-camera");
    let kit = Kit::start_with(|c| {
        c.camera = CameraSource::Demo(faces);
        c.document_camera = Some(CameraSource::Demo(clip));
        c.chip = ChipSource::Demo;
    })
    .await;
    let steps = json!([
        {"kind": "document_scan"}, {"kind": "document_chip"}, {"kind": "selfie"},
        {"kind": "face_match", "threshold": 0.5, "reference": "document"}, {"kind": "result"}
    ]);
    let (case_id, _) = case_with(&kit, steps).await;

    // The document camera is its own camera, labelled DEMO, with its own preview token.
    let document = kit.kiosk_ok(None, "camera_status", json!({"document": true})).await;
    let face = kit.kiosk_ok(None, "camera_status", json!({})).await;
    assert_eq!((document["available"].as_bool(), document["demo"].as_bool()), (Some(true), Some(true)), "{document}");
    assert_eq!(document["source"]["width"], 1280);
    assert_eq!(face["source"]["width"], 640);
    assert_ne!(document["preview_path"], face["preview_path"]);
    let preview = kit.http.get(kit.url(document["preview_path"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(preview.status(), StatusCode::OK);
    drop(preview);

    // The customer cannot claim the step, nor type the MRZ: that is the clerk's fallback.
    let status = kit.claim_step(&case_id, 0, "document_scan").await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) =
        kit.kiosk(None, "document_scan_manual", json!({"case_id": case_id, "index": 0, "can": "123456"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let views = scan_until_captured(&kit, &case_id, 0).await;
    let phase = |v: &Value| phases[(v["seq"].as_u64().unwrap() % phases.len() as u64) as usize];
    for v in &views {
        assert_hints_fit(phase(v), v);
    }
    let last = views.last().unwrap();
    assert_eq!(phase(last), ClipPhase::Steady);
    assert_eq!((last["agreeing"].as_u64(), last["needed"].as_u64()), (Some(3), Some(3)), "{last}");
    assert_eq!(last["outcome"], "passed");
    assert_eq!(last["demo"], true);
    let outline = last["outline"].as_array().unwrap();
    assert_eq!(outline.len(), 4);
    assert!(outline.iter().all(|p| (0.0..=1.0).contains(&p[0].as_f64().unwrap())));
    // Agreement counts up frame by frame: the capture came after reads 1, 2 and 3 of the same MRZ.
    let counts: Vec<u64> = views.iter().map(|v| v["agreeing"].as_u64().unwrap()).collect();
    assert!(counts.windows(3).any(|w| w == [1, 2, 3]), "{counts:?}");

    let session = &last["session"];
    let scan = &session["done"][0];
    assert_eq!((scan["kind"].as_str(), scan["outcome"].as_str()), (Some("document_scan"), Some("passed")), "{scan}");
    let detail = &scan["detail"];
    assert_eq!(detail["method"], "camera");
    assert_eq!(detail["document_type"], "passport");
    assert_eq!(detail["mrz_format"], "TD3");
    assert_eq!(detail["holder"]["surname"], "ERIKSSON");
    assert_eq!(detail["holder"]["document_number"], "L898902C3");
    assert_eq!(detail["holder"]["date_of_expiry"], "2034-04-15");
    assert_eq!(detail["quality"]["fine"], true);
    assert!(!detail.to_string().contains("L898902C36UTO"), "the MRZ itself stays out of the step detail");
    assert_eq!(session["next"]["step"]["kind"], "document_chip");

    // The flattened page and the reading are evidence; the reading is encrypted at rest.
    let kept = evidence(&kit);
    let page = kept.iter().find(|(k, m, _)| k == "document_page" && m == "image/jpeg").expect("the page");
    let reading = kept.iter().find(|(k, _, _)| k == "document_reading").expect("the reading");
    assert_eq!(reading.1, "application/vnd.vouch.document-reading+json");
    let raw = std::fs::read(kit.store.blobs().raw_path(&reading.2).unwrap()).unwrap();
    assert!(raw.windows(9).all(|w| w != b"L898902C3"));
    let jpeg = kit.store.blobs().get(&page.2).unwrap();
    let flat = vouch_vision::image::load_from_memory(&jpeg).unwrap();
    assert_eq!((flat.width(), flat.height()), (1000, 704), "ID-3 at 8 px/mm");

    // The chip step needs no typing: the scanned MRZ opens the DEMO chip (BAC/PACE with the MRZ key).
    kit.kiosk_ok(None, "chip_read_begin", json!({"case_id": case_id, "index": 1})).await;
    let chip = chip_done(&kit, &case_id, 1).await;
    assert_eq!((chip["state"].as_str(), chip["outcome"].as_str()), (Some("done"), Some("passed")), "{chip}");

    // The selfie, then the face match takes the chip's portrait (a chip was read).
    let selfie = kit.kiosk_ok(None, "selfie_capture", json!({"case_id": case_id, "index": 2})).await;
    assert_eq!(selfie["captured"], true, "{selfie}");
    let matched = kit.kiosk_ok(None, "face_match_run", json!({"case_id": case_id, "index": 3})).await;
    let detail = &matched["session"]["done"][3]["detail"];
    assert_eq!(detail["reference"], "document_chip", "{detail}");
    assert_eq!(matched["session"]["done"][3]["outcome"], "passed", "{detail}");
}

#[tokio::test]
async fn every_phase_of_a_page_that_never_settles_gets_its_hint_and_nothing_is_captured() {
    // The clip without its held-still frames: the scan must keep asking, never capture.
    let dir = tempfile::tempdir().unwrap();
    let (clip, phases) = write_clip(dir.path(), |p| p != ClipPhase::Steady);
    let kit = Kit::start_with(|c| c.document_camera = Some(CameraSource::Demo(clip))).await;
    let (case_id, _) = case_with(&kit, json!([{"kind": "document_scan"}, {"kind": "result"}])).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = std::collections::HashSet::new();
    while seen.len() < 3 {
        assert!(Instant::now() < deadline, "phases seen: {seen:?}");
        let v = kit.kiosk_ok(None, "document_scan_frame", json!({"case_id": case_id, "index": 0})).await;
        let phase = phases[(v["seq"].as_u64().unwrap() % phases.len() as u64) as usize];
        assert_hints_fit(phase, &v);
        assert_eq!(v["captured"], false, "{v}");
        seen.insert(format!("{phase:?}"));
    }
    assert!(evidence(&kit).is_empty());
}

#[tokio::test]
async fn without_a_chip_the_face_match_uses_the_portrait_printed_on_the_scanned_page() {
    let dir = tempfile::tempdir().unwrap();
    let (clip, _) = write_clip(dir.path(), |_| true);
    let faces = vouch_testkit::repo_root().join("assets/demo-camera");
    let kit = Kit::start_with(|c| {
        c.camera = CameraSource::Demo(faces);
        c.document_camera = Some(CameraSource::Demo(clip));
    })
    .await;
    let steps = json!([
        {"kind": "document_scan"}, {"kind": "selfie"},
        {"kind": "face_match", "threshold": 0.5, "reference": "document"}, {"kind": "result"}
    ]);
    let (case_id, _) = case_with(&kit, steps).await;
    scan_until_captured(&kit, &case_id, 0).await;
    let selfie = kit.kiosk_ok(None, "selfie_capture", json!({"case_id": case_id, "index": 1})).await;
    assert_eq!(selfie["captured"], true, "{selfie}");
    let matched = kit.kiosk_ok(None, "face_match_run", json!({"case_id": case_id, "index": 2})).await;
    let step = &matched["session"]["done"][2];
    assert_eq!(step["detail"]["reference"], "document_page", "{step}");
    // fr_obama2 printed on the page against the demo camera's fr_obama: the same man.
    assert_eq!(step["outcome"], "passed", "{step}");
    assert!(step["detail"]["score"].as_f64().unwrap() >= 0.5);
}

#[tokio::test]
async fn a_clerk_types_the_mrz_or_the_can_when_the_page_will_not_scan_and_the_chip_opens_with_it() {
    // No document camera at all: the typed fallback is all there is.
    let kit = Kit::start_with(|c| c.chip = ChipSource::Demo).await;
    let steps = json!([{"kind": "document_scan"}, {"kind": "document_chip"}, {"kind": "result"}]);
    let (case_id, clerk) = case_with(&kit, steps).await;
    let (status, body) = kit.kiosk(None, "document_scan_frame", json!({"case_id": case_id, "index": 0})).await;
    assert_eq!(status, StatusCode::CONFLICT, "no camera: {body}");

    let specimen = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F3404159<<<<<<<<<<<<<<04";
    // A mistyped MRZ is refused with the reason, and nothing is recorded.
    let typo = specimen.replace("7408122", "7408123");
    let (status, body) =
        kit.kiosk(Some(&clerk), "document_scan_manual", json!({"case_id": case_id, "index": 0, "mrz": typo})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["message"].as_str().unwrap().contains("check digits"), "{body}");
    let (status, _) =
        kit.kiosk(Some(&clerk), "document_scan_manual", json!({"case_id": case_id, "index": 0, "can": "12345"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a CAN has six digits");
    assert!(evidence(&kit).is_empty());

    let typed = kit
        .kiosk_ok(Some(&clerk), "document_scan_manual", json!({"case_id": case_id, "index": 0, "mrz": specimen}))
        .await;
    let step = &typed["session"]["done"][0];
    assert_eq!((step["outcome"].as_str(), step["detail"]["method"].as_str()), (Some("passed"), Some("manual")));
    assert_eq!(step["detail"]["typed"], "mrz");
    assert_eq!(step["detail"]["entered_by"], "admin:kiosk");
    assert_eq!(step["detail"]["holder"]["surname"], "ERIKSSON");
    let kinds: Vec<String> = evidence(&kit).into_iter().map(|e| e.0).filter(|k| k != "step_outcome").collect();
    assert_eq!(kinds, ["document_reading"], "typed, so no page image");

    kit.kiosk_ok(None, "chip_read_begin", json!({"case_id": case_id, "index": 1})).await;
    let chip = chip_done(&kit, &case_id, 1).await;
    assert_eq!(chip["outcome"], "passed", "{chip}");

    // The CAN, typed for another case, opens the chip by PACE-CAN.
    let case_id = case_with_default(&kit).await;
    kit.kiosk_ok(Some(&clerk), "document_scan_manual", json!({"case_id": case_id, "index": 0, "can": "123456"})).await;
    kit.kiosk_ok(None, "chip_read_begin", json!({"case_id": case_id, "index": 1})).await;
    let chip = chip_done(&kit, &case_id, 1).await;
    assert_eq!(chip["outcome"], "passed", "{chip}");
    let case = kit.kiosk_ok(Some(&clerk), "case_detail", json!({"case_id": case_id})).await;
    assert_eq!(case["session"]["done"][1]["detail"]["access_control"]["password"], "CAN", "{}", case["session"]);
}

async fn case_with_default(kit: &Kit) -> String {
    let token = kit.eeid_token(&kit.client(Scope::Integrator, None, None)).await;
    let request = kit.create_ok(&token, None).await;
    let opened = kit.kiosk_ok(None, "case_open", json!({"code": request["link"]})).await;
    opened["case_id"].as_str().unwrap().to_string()
}

/// A page under an overhead camera held so close that its edges are out of view: no corners to find, and the
/// MRZ alone is read, captured and recorded as a passed scan.
#[tokio::test]
async fn a_page_whose_edges_are_out_of_view_is_read_from_its_mrz() {
    use vouch_vision::image::imageops;
    let dir = tempfile::tempdir().unwrap();
    let mut mjpeg = Vec::new();
    for f in clip_frames().iter().filter(|f| f.phase == ClipPhase::Steady) {
        // A 16:9 window a little wider than the MRZ, around it: the page's sides and top are outside.
        let xs = f.shot.mrz_corners.iter().map(|p| p[0]);
        let ys = f.shot.mrz_corners.iter().map(|p| p[1]);
        let (x0, x1) = (xs.clone().fold(f32::MAX, f32::min), xs.fold(0.0, f32::max));
        let (y0, y1) = (ys.clone().fold(f32::MAX, f32::min), ys.fold(0.0, f32::max));
        let width = (x1 - x0) * 1.04;
        let height = width * 9.0 / 16.0;
        let left = ((x0 + x1) / 2.0 - width / 2.0).max(0.0);
        let top = (y1 + (y1 - y0) * 0.4 - height).max(0.0);
        let crop = imageops::crop_imm(&f.shot.image, left as u32, top as u32, width as u32, height as u32).to_image();
        let frame = imageops::resize(&crop, 1280, 720, imageops::FilterType::Triangle);
        mjpeg.extend_from_slice(&synthetic_document::encode_jpeg(&frame, 90).unwrap());
    }
    assert!(!mjpeg.is_empty());
    let clip = dir.path().join("close.mjpeg");
    std::fs::write(&clip, mjpeg).unwrap();
    let kit = Kit::start_with(|c| c.document_camera = Some(CameraSource::Demo(clip))).await;
    let (case_id, _) = case_with(&kit, json!([{"kind": "document_scan"}, {"kind": "result"}])).await;
    let views = scan_until_captured(&kit, &case_id, 0).await;
    let last = views.last().unwrap();
    assert_eq!(last["outcome"], "passed", "{last}");
    let detail = &last["session"]["done"][0]["detail"];
    assert_eq!(detail["holder"]["document_number"], "L898902C3", "{detail}");
    assert_eq!(detail["mrz_format"], "TD3");
}
