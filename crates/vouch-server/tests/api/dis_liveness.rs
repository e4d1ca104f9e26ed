//! DIS customer liveness over HTTP: selfies and Vouch liveness records in, evaluations out, on the real models.

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};
use vouch_server::liveness_record::{encode, LivenessRecord, RecordFrame};
use vouch_vision::active::{Assertion, LivenessType};

use vouch_testkit::server::Kit;

fn photo(name: &str) -> Vec<u8> {
    vouch_testkit::fixture(&format!("faces/{name}"))
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

struct Customer<'a> {
    kit: &'a Kit,
    token: String,
    base: String,
}

impl Customer<'_> {
    async fn new(kit: &Kit) -> Customer<'_> {
        let token = kit.oauth_token(&kit.integrator()).await;
        let created: Value =
            kit.post_json(&token, "/identity/api/v1/customers", &json!({})).await.json().await.unwrap();
        let base = format!("/identity/api/v1/customers/{}", created["id"].as_str().unwrap());
        Customer { kit, token, base }
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let resp = self.kit.post_json(&self.token, &format!("{}{path}", self.base), &body).await;
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let resp = self
            .kit
            .http
            .put(self.kit.url(&format!("{}{path}", self.base)))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn record(&self, bytes: Vec<u8>) -> (StatusCode, Value) {
        let path = format!("{}/liveness/records", self.base);
        self.kit.send_bytes(reqwest::Method::POST, &self.token, &path, "application/octet-stream", bytes).await
    }

    async fn selfie(&self, name: &str, assertion: &str) -> Value {
        let (status, body) =
            self.post("/liveness/selfies", json!({"image": {"data": b64(&photo(name))}, "assertion": assertion})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn evaluate(&self, kind: &str) -> Value {
        let (status, body) = self.post("/liveness/evaluation", json!({"type": kind})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

#[tokio::test]
async fn passive_and_smile_liveness_from_selfies() {
    let kit = Kit::start().await;
    let c = Customer::new(&kit).await;
    // No liveness yet.
    let (status, body) = c.post("/liveness/evaluation", json!({"type": "PASSIVE_LIVENESS"})).await;
    assert_eq!((status, body["errorCode"].as_str()), (StatusCode::NOT_FOUND, Some("NOT_FOUND")), "{body}");
    let (status, body) = c.put("/liveness", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["links"]["self"], format!("{}/liveness", c.base.trim_start_matches("/identity")));

    assert_eq!(c.evaluate("PASSIVE_LIVENESS").await["errorCode"], "NOT_ENOUGH_DATA");
    let body = c.selfie("fr_obama.jpg", "NONE").await;
    assert!(body.get("errorCode").is_none(), "{body}");
    let passive = c.evaluate("PASSIVE_LIVENESS").await["score"].as_f64().unwrap();
    assert!(passive > 0.5, "passive {passive}");

    // A frame without a face is not kept; an unknown assertion is a 400.
    let blank = {
        let img = vouch_vision::image::RgbImage::from_pixel(320, 240, vouch_vision::image::Rgb([128, 128, 128]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, vouch_vision::image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    let (_, body) = c.post("/liveness/selfies", json!({"image": {"data": b64(&blank)}, "assertion": "SMILE"})).await;
    assert_eq!(body["errorCode"], "NO_FACE_DETECTED");
    let (status, _) = c.post("/liveness/selfies", json!({"image": {"data": b64(&blank)}, "assertion": "WINK"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // fr_obama smiles broadly, fr_obama2 much less.
    assert_eq!(c.evaluate("SMILE_LIVENESS").await["errorCode"], "NOT_ENOUGH_DATA");
    c.selfie("fr_obama2.jpg", "NEUTRAL").await;
    c.selfie("fr_obama.jpg", "SMILE").await;
    let smile = c.evaluate("SMILE_LIVENESS").await["score"].as_f64().unwrap();
    assert!(smile > 0.5, "smile {smile}");

    let (_, got) = c.post("/liveness/selfies/retrieve", json!({"type": "SMILE_LIVENESS"})).await;
    let assertions: Vec<&str> =
        got["selfies"].as_array().unwrap().iter().map(|s| s["assertion"].as_str().unwrap()).collect();
    assert_eq!(assertions, ["NEUTRAL", "SMILE"]);
    assert_eq!(got["selfies"][1]["data"], b64(&photo("fr_obama.jpg")));

    // Someone else's face in the middle invalidates the smile.
    c.selfie("fr_biden.jpg", "NEUTRAL").await;
    assert_eq!(c.evaluate("SMILE_LIVENESS").await["errorCode"], "INVALID_DATA");

    // Deleting the liveness removes it all.
    let resp = kit.http.delete(kit.url(&format!("{}/liveness", c.base))).bearer_auth(&c.token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(kit.count("dis_liveness_frames"), 0);
    let (status, _) = c.post("/liveness/evaluation", json!({"type": "SMILE_LIVENESS"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

fn frames(kind: LivenessType, frames: &[(Assertion, &str)]) -> Vec<u8> {
    encode(&LivenessRecord {
        liveness_type: kind,
        frames: frames
            .iter()
            .enumerate()
            .map(|(i, (assertion, name))| RecordFrame { assertion: *assertion, ms: i as u64 * 800, image: photo(name) })
            .collect(),
    })
}

#[tokio::test]
async fn eye_gaze_records_must_follow_their_challenge_and_a_still_photo_fails() {
    let kit = Kit::start().await;
    let c = Customer::new(&kit).await;
    c.put("/liveness", json!({})).await;

    let (_, body) =
        c.record(frames(LivenessType::EyeGazeLiveness, &[(Assertion::EyeGazeTopLeft, "fr_obama.jpg")])).await;
    assert_eq!(body["errorCode"], "INVALID_DATA", "no challenge was issued: {body}");

    // Another type has no corners, and says so as the swagger's schema wants it: `corners` is required.
    let (status, passive) = c.put("/liveness/records/challenge", json!({"type": "PASSIVE_LIVENESS"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(passive, json!({"details": {"corners": []}}));
    let (status, challenge) = c.put("/liveness/records/challenge", json!({"type": "EYE_GAZE_LIVENESS"})).await;
    assert_eq!(status, StatusCode::OK);
    let corners: Vec<String> =
        challenge["details"]["corners"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    assert_eq!(corners.len(), 4);
    assert!(corners.windows(2).all(|w| w[0] != w[1]), "{corners:?}");
    let follow: Vec<Assertion> = corners.iter().map(|c| Assertion::parse(&format!("EYE_GAZE_{c}")).unwrap()).collect();

    // The corners in another order: refused.
    let mut wrong = follow.clone();
    wrong.reverse();
    let (_, body) = c
        .record(frames(LivenessType::EyeGazeLiveness, &wrong.iter().map(|a| (*a, "fr_obama2.jpg")).collect::<Vec<_>>()))
        .await;
    assert_eq!(body["errorCode"], "INVALID_DATA");

    // The same photo held at every corner follows the order but never moves.
    let mut held: Vec<(Assertion, &str)> = vec![(Assertion::None, "fr_obama2.jpg")];
    held.extend(follow.iter().map(|a| (*a, "fr_obama2.jpg")));
    let (status, body) = c.record(frames(LivenessType::EyeGazeLiveness, &held)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["selfie"]["detection"]["confidence"].as_f64().unwrap() > 0.9, "{body}");
    let selfie_link = body["links"]["selfie"].as_str().unwrap().to_string();
    let score = c.evaluate("EYE_GAZE_LIVENESS").await["score"].as_f64().unwrap();
    assert!(score < 0.5, "a still photo scored {score}");
    // The NONE frame that came with the record serves passive liveness.
    assert!(c.evaluate("PASSIVE_LIVENESS").await["score"].as_f64().unwrap() > 0.5);

    // The record's selfie can be fetched and reused as the customer's selfie.
    let crop: Value = kit.get(&c.token, &format!("/identity{selfie_link}")).await.json().await.unwrap();
    assert!(crop["data"].as_str().unwrap().len() > 1000);
    // At the size asked, as the swagger's width and height say.
    let sized: Value =
        kit.get(&c.token, &format!("/identity{selfie_link}?width=40&height=50")).await.json().await.unwrap();
    let png = base64::engine::general_purpose::STANDARD.decode(sized["data"].as_str().unwrap()).unwrap();
    let png = vouch_vision::image::load_from_memory(&png).unwrap();
    assert_eq!((png.width(), png.height()), (40, 50));
    let (status, body) = c.put("/selfie", json!({"selfieOrigin": {"link": selfie_link}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (_, got) = c.post("/liveness/selfies/retrieve", json!({"type": "EYE_GAZE_LIVENESS"})).await;
    assert_eq!(got["recordSelfies"].as_array().unwrap().len(), 4);
    assert_eq!(got["selfies"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn foreign_or_broken_records_are_invalid_data_and_store_nothing() {
    let kit = Kit::start().await;
    let c = Customer::new(&kit).await;
    c.put("/liveness", json!({})).await;
    let good = frames(LivenessType::MagnifeyeLiveness, &[(Assertion::Magnifeye, "fr_obama.jpg")]);
    for bad in [b"\x02DOT-SDK binary".to_vec(), good[..good.len() - 10].to_vec(), [good.clone(), vec![0]].concat()] {
        let (status, body) = c.record(bad).await;
        assert_eq!((status, body["errorCode"].as_str()), (StatusCode::OK, Some("INVALID_DATA")), "{body}");
    }
    assert_eq!(kit.count("dis_liveness_frames"), 0);
    // JSON is not a record.
    let (status, _) = c.post("/liveness/records", json!({})).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // A whole photo at arm's length is no MagnifEye close-up.
    let (status, _) = c.record(good).await;
    assert_eq!(status, StatusCode::OK);
    let score = c.evaluate("MAGNIFEYE_LIVENESS").await["score"].as_f64().unwrap();
    assert!(score < 0.5, "{score}");
    // Another client cannot see or evaluate this customer's liveness.
    let other = kit.oauth_token(&kit.integrator()).await;
    let resp =
        kit.post_json(&other, &format!("{}/liveness/evaluation", c.base), &json!({"type": "MAGNIFEYE_LIVENESS"})).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}
