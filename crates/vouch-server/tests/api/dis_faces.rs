//! DIS faces, customers and selfies over HTTP, with the real models on the public-domain photos.

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};

use vouch_testkit::server::Kit;

fn photo_b64(name: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(vouch_testkit::fixture(&format!("faces/{name}")))
}

async fn create_face(kit: &Kit, token: &str, body: Value) -> (StatusCode, Value) {
    let resp = kit.post_json(token, "/identity/api/v1/faces", &body).await;
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

pub(crate) async fn face_id(kit: &Kit, token: &str, photo: &str) -> String {
    let (status, body) = create_face(kit, token, json!({"image": {"data": photo_b64(photo)}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn faces_are_detected_matched_measured_and_deleted() {
    let kit = Kit::start().await;
    let token = kit.oauth_token(&kit.integrator()).await;

    let (status, body) = create_face(&kit, &token, json!({"image": {"data": photo_b64("fr_obama.jpg")}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let obama = body["id"].as_str().unwrap().to_string();
    assert_eq!(body["links"]["self"], format!("/api/v1/faces/{obama}"));
    assert!(body["detection"]["confidence"].as_f64().unwrap() > 0.9);
    let roi = &body["detection"]["faceRectangle"];
    assert!(roi["topLeft"]["x"].as_i64().unwrap() < roi["bottomRight"]["x"].as_i64().unwrap());
    assert!(body.get("errorCode").is_none() && body.get("warnings").is_none(), "{body}");
    let obama2 = face_id(&kit, &token, "fr_obama2.jpg").await;
    let biden = face_id(&kit, &token, "fr_biden.jpg").await;

    let score = |body: Value| body["score"].as_f64().unwrap();
    let same = kit
        .post_json(
            &token,
            &format!("/identity/api/v1/faces/{obama}/similarity"),
            &json!({"referenceFace": format!("/api/v1/faces/{obama2}")}),
        )
        .await;
    assert_eq!(same.status(), StatusCode::OK);
    let same = score(same.json().await.unwrap());
    let other = score(
        kit.post_json(
            &token,
            &format!("/identity/api/v1/faces/{obama}/similarity"),
            &json!({"referenceFace": format!("/api/v1/faces/{biden}")}),
        )
        .await
        .json()
        .await
        .unwrap(),
    );
    assert!(same > 0.5 && other < 0.5, "same {same}, other {other}");

    // By template: the same score as by face.
    let template: Value =
        kit.get(&token, &format!("/identity/api/v1/faces/{obama2}/face-template")).await.json().await.unwrap();
    assert_eq!(template["version"], "vouch-1");
    let by_template = score(
        kit.post_json(
            &token,
            &format!("/identity/api/v1/faces/{obama}/similarity"),
            &json!({"referenceFaceTemplate": template["data"]}),
        )
        .await
        .json()
        .await
        .unwrap(),
    );
    assert!((by_template - same).abs() < 1e-9);

    let quality: Value =
        kit.get(&token, &format!("/identity/api/v1/faces/{obama}/quality")).await.json().await.unwrap();
    for field in [
        "sharpness",
        "brightness",
        "contrast",
        "uniqueIntensityLevels",
        "shadow",
        "specularity",
        "backgroundUniformity",
        "eyeDistance",
        "eyeGaze",
        "rightEye",
        "leftEye",
        "mouth",
        "faceSize",
        "faceRelativeArea",
        "faceRelativeAreaInImage",
    ] {
        let s = quality[field]["score"].as_f64().unwrap_or(-1.0);
        assert!((0.0..=1.0).contains(&s), "{field}: {quality}");
        assert!(quality[field]["preconditionsMet"].is_boolean(), "{field}");
    }
    assert!(quality["rightEye"]["score"].as_f64().unwrap() > 0.5, "{quality}");
    // fr_obama looks at the camera: the eyes are measurable and near straight.
    assert_eq!(quality["eyeGaze"]["preconditionsMet"], true, "{quality}");
    assert!(quality["eyeGaze"]["score"].as_f64().unwrap() > 0.6, "{quality}");
    assert!(quality["yaw"]["angle"].is_i64() && quality["roll"]["angle"].is_i64());

    let aspects: Value =
        kit.get(&token, &format!("/identity/api/v1/faces/{obama}/aspects")).await.json().await.unwrap();
    assert!((20..80).contains(&aspects["age"].as_i64().unwrap()), "{aspects}");

    let crop: Value = kit.get(&token, &format!("/identity/api/v1/faces/{obama}/crop")).await.json().await.unwrap();
    let png = base64::engine::general_purpose::STANDARD.decode(crop["data"].as_str().unwrap()).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    let coords: Value =
        kit.get(&token, &format!("/identity/api/v1/faces/{obama}/crop/coordinates")).await.json().await.unwrap();
    assert_eq!(coords["fullyCaptured"], true);

    // The same crop with the background removed: the person opaque, the flags and curtains behind transparent.
    let cut: Value =
        kit.get(&token, &format!("/identity/api/v1/faces/{obama}/crop/removed-background")).await.json().await.unwrap();
    let cut = base64::engine::general_purpose::STANDARD.decode(cut["data"].as_str().unwrap()).unwrap();
    let cut = vouch_vision::image::load_from_memory(&cut).unwrap();
    assert!(cut.color().has_alpha(), "a PNG with an alpha channel");
    let (cut, plain) = (cut.to_rgba8(), vouch_vision::image::load_from_memory(&png).unwrap().to_rgb8());
    assert_eq!(cut.dimensions(), plain.dimensions(), "the same crop as /crop");
    let (w, h) = cut.dimensions();
    assert!(cut.get_pixel(w / 2, h / 3).0[3] > 240, "the face is kept");
    assert!(cut.get_pixel(3, 3).0[3] < 15 && cut.get_pixel(w - 4, 3).0[3] < 15, "the top corners are background");
    assert_eq!(&cut.get_pixel(w / 2, h / 3).0[..3], &plain.get_pixel(w / 2, h / 3).0, "colours untouched");
    let sized: Value = kit
        .get(&token, &format!("/identity/api/v1/faces/{obama}/crop/removed-background?width=120&height=150"))
        .await
        .json()
        .await
        .unwrap();
    let sized = base64::engine::general_purpose::STANDARD.decode(sized["data"].as_str().unwrap()).unwrap();
    assert_eq!(vouch_vision::image::load_from_memory(&sized).unwrap().to_rgba8().dimensions(), (120, 150));
    let resp = kit.get(&token, &format!("/identity/api/v1/faces/{obama}/crop/removed-background?width=-3")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    for path in ["glasses", "face-mask"] {
        let resp = kit.get(&token, &format!("/identity/api/v1/faces/{obama}/{path}")).await;
        assert_eq!(resp.status(), StatusCode::NOT_IMPLEMENTED, "{path}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["errorCode"], "UNEXPECTED_ERROR");
        assert!(body["errorMessage"].as_str().unwrap().contains("model"), "{body}");
    }

    // Another client cannot see the face.
    let other_token = kit.oauth_token(&kit.integrator()).await;
    let resp = kit.get(&other_token, &format!("/identity/api/v1/faces/{obama}/quality")).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(resp.json::<Value>().await.unwrap()["errorCode"], "NOT_FOUND");

    let blobs_before = std::fs::read_dir(kit.dir.path().join("data/blobs")).map(|d| d.count()).unwrap_or(0);
    let resp =
        kit.http.delete(kit.url(&format!("/identity/api/v1/faces/{biden}"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        kit.get(&token, &format!("/identity/api/v1/faces/{biden}/aspects")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(kit.count("dis_faces"), 2);
    let _ = blobs_before;
}

#[tokio::test]
async fn a_face_is_created_from_a_raw_image_body_as_the_swagger_allows() {
    let kit = Kit::start().await;
    let token = kit.oauth_token(&kit.integrator()).await;
    let raw = |content_type: &'static str, body: Vec<u8>| {
        let req = kit.http.post(kit.url("/identity/api/v1/faces")).bearer_auth(&token);
        async move { req.header("content-type", content_type).body(body).send().await.unwrap() }
    };
    let made = raw("application/octet-stream", vouch_testkit::fixture("faces/fr_obama.jpg")).await;
    assert_eq!(made.status(), StatusCode::OK);
    let made: Value = made.json().await.unwrap();
    assert!(made["id"].is_string() && made["detection"]["confidence"].as_f64().unwrap() > 0.5, "{made}");
    let from_json = face_id(&kit, &token, "fr_obama.jpg").await;
    let score: Value = kit
        .post_json(
            &token,
            &format!("/identity/api/v1/faces/{from_json}/similarity"),
            &json!({"referenceFace": format!("/api/v1/faces/{}", made["id"].as_str().unwrap())}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(score["score"].as_f64().unwrap() > 0.9, "the same photo either way: {score}");

    let empty = raw("application/octet-stream", Vec::new()).await;
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    assert_eq!(empty.json::<Value>().await.unwrap()["errorCode"], "INVALID_IMAGE");
    let text = raw("text/plain", b"hello".to_vec()).await;
    assert_eq!(text.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(kit.count("dis_faces"), 2);
}

/// The size of a crop's PNG.
fn png_size(crop: &Value) -> (u32, u32) {
    let png = base64::engine::general_purpose::STANDARD.decode(crop["data"].as_str().unwrap()).unwrap();
    let image = vouch_vision::image::load_from_memory(&png).unwrap();
    (image.width(), image.height())
}

#[tokio::test]
async fn a_face_crop_comes_at_the_size_asked() {
    let kit = Kit::start().await;
    let token = kit.oauth_token(&kit.integrator()).await;
    let id = face_id(&kit, &token, "fr_obama.jpg").await;
    let crop = |query: &'static str| {
        let req = kit.http.get(kit.url(&format!("/identity/api/v1/faces/{id}/crop{query}"))).bearer_auth(&token);
        async move {
            let resp = req.send().await.unwrap();
            (resp.status(), resp.json::<Value>().await.unwrap())
        }
    };
    let (status, plain) = crop("").await;
    assert_eq!(status, StatusCode::OK);
    let (w, h) = png_size(&plain);
    assert_eq!(png_size(&crop("?width=100").await.1), (100, (100.0 * h as f32 / w as f32).round() as u32));
    assert_eq!(png_size(&crop("?height=64").await.1).1, 64);
    assert_eq!(png_size(&crop("?width=50&height=60").await.1), (50, 60));
    let (status, refused) = crop("?width=0").await;
    assert_eq!((status, refused["errorCode"].as_str()), (StatusCode::BAD_REQUEST, Some("INVALID_REQUEST_PARAMETER")));
}

#[tokio::test]
async fn detection_outcomes_come_back_as_dis_result_codes() {
    let kit = Kit::start().await;
    let token = kit.oauth_token(&kit.integrator()).await;
    // No face: the lower right of the astronaut photo.
    let img = vouch_vision::decode(&vouch_testkit::fixture("faces/skimage_astronaut.png"), Default::default()).unwrap();
    let corner = vouch_vision::image::imageops::crop_imm(&img, 256, 256, 256, 256).to_image();
    let png = vouch_vision::image_io::encode_png(&corner).unwrap();
    let (status, body) =
        create_face(&kit, &token, json!({"image": {"data": base64::engine::general_purpose::STANDARD.encode(png)}}))
            .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["errorCode"], "NO_FACE_DETECTED", "{body}");
    assert!(body.get("id").is_none());

    // Two faces: FREE takes the biggest and warns, STRICT refuses.
    let astronaut =
        vouch_vision::image::imageops::resize(&img, 256, 256, vouch_vision::image::imageops::FilterType::Triangle);
    let mut two = vouch_vision::image::RgbImage::from_pixel(512, 256, vouch_vision::image::Rgb([200, 200, 200]));
    vouch_vision::image::imageops::replace(&mut two, &astronaut, 0, 0);
    vouch_vision::image::imageops::replace(&mut two, &astronaut, 256, 0);
    let data = base64::engine::general_purpose::STANDARD.encode(vouch_vision::image_io::encode_png(&two).unwrap());
    let (_, free) = create_face(&kit, &token, json!({"image": {"data": data}, "detection": {"mode": "FREE"}})).await;
    assert_eq!(free["warnings"], json!(["MULTIPLE_FACES_DETECTED"]), "{free}");
    assert!(free["id"].is_string());
    let (_, strict) =
        create_face(&kit, &token, json!({"image": {"data": data}, "detection": {"mode": "STRICT"}})).await;
    assert_eq!(strict["errorCode"], "MULTIPLE_FACES_DETECTED", "{strict}");
    assert_eq!(kit.count("dis_faces"), 1);
}

#[tokio::test]
async fn bad_images_and_templates_are_refused_with_dis_codes_and_store_nothing() {
    let kit = Kit::start().await;
    let token = kit.oauth_token(&kit.integrator()).await;
    let cases = [
        (json!({"image": {"data": "%%% not base64 %%%"}}), "INVALID_IMAGE"),
        (
            json!({"image": {"data": base64::engine::general_purpose::STANDARD.encode(b"just some text, not an image")}}),
            "INVALID_IMAGE",
        ),
        (json!({"image": {"url": "ftp://example.com/a.png"}}), "MALFORMED_URL"),
        (json!({"image": {}}), "INVALID_REQUEST_BODY"),
        (json!({"image": {"data": "aGk="}, "detection": {"mode": "SIDEWAYS"}}), "INVALID_REQUEST_BODY"),
    ];
    for (body, code) in cases {
        let (status, answer) = create_face(&kit, &token, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(answer["errorCode"], code, "{body}: {answer}");
    }
    // A decode bomb: a valid PNG header claiming 20000×20000 pixels. Refused from the header.
    let mut chunk = b"IHDR".to_vec();
    chunk.extend_from_slice(&20000u32.to_be_bytes());
    chunk.extend_from_slice(&20000u32.to_be_bytes());
    chunk.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&chunk);
    png.extend_from_slice(&[0, 0, 0, 0]);
    let (status, answer) =
        create_face(&kit, &token, json!({"image": {"data": base64::engine::general_purpose::STANDARD.encode(&png)}}))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["errorCode"], "INVALID_IMAGE");
    assert!(answer["errorMessage"].as_str().unwrap().contains("20000"), "{answer}");
    // Not JSON at all.
    let resp = kit
        .http
        .post(kit.url("/identity/api/v1/faces"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(resp.json::<Value>().await.unwrap()["errorCode"], "INVALID_REQUEST_BODY");

    let face = face_id(&kit, &token, "skimage_astronaut.png").await;
    let similarity = |body: Value| {
        let (kit, token, face) = (&kit, &token, &face);
        async move {
            let resp = kit.post_json(token, &format!("/identity/api/v1/faces/{face}/similarity"), &body).await;
            (resp.status(), resp.json::<Value>().await.unwrap())
        }
    };
    let (status, answer) =
        similarity(json!({"referenceFaceTemplate": base64::engine::general_purpose::STANDARD.encode(b"VFTxxxx")}))
            .await;
    assert_eq!(
        (status, answer["errorCode"].as_str()),
        (StatusCode::BAD_REQUEST, Some("CORRUPTED_TEMPLATE")),
        "{answer}"
    );
    let template: Value =
        kit.get(&token, &format!("/identity/api/v1/faces/{face}/face-template")).await.json().await.unwrap();
    let mut bytes = base64::engine::general_purpose::STANDARD.decode(template["data"].as_str().unwrap()).unwrap();
    bytes[3] = 7;
    let (status, answer) =
        similarity(json!({"referenceFaceTemplate": base64::engine::general_purpose::STANDARD.encode(&bytes)})).await;
    assert_eq!((status, answer["errorCode"].as_str()), (StatusCode::BAD_REQUEST, Some("UNSUPPORTED_VERSION_TEMPLATE")));
    bytes[3] = 1;
    bytes[4] ^= 0xFF;
    let (status, answer) =
        similarity(json!({"referenceFaceTemplate": base64::engine::general_purpose::STANDARD.encode(&bytes)})).await;
    assert_eq!((status, answer["errorCode"].as_str()), (StatusCode::BAD_REQUEST, Some("INCOMPATIBLE_TEMPLATE")));
    let (status, _) = similarity(json!({"referenceFace": "/api/v1/faces/nope"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(kit.count("dis_faces"), 1);
}

#[tokio::test]
async fn a_missing_model_file_is_named_and_nothing_is_stored() {
    let models = tempfile::tempdir().unwrap();
    let shipped = vouch_testkit::models_dir();
    for entry in std::fs::read_dir(&shipped).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() != "face_embed512.onnx" {
            std::os::unix::fs::symlink(&path, models.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    let dir = models.path().to_path_buf();
    let kit = Kit::start_with(move |cfg| cfg.models_dir = Some(dir)).await;
    let token = kit.oauth_token(&kit.integrator()).await;
    let (status, body) = create_face(&kit, &token, json!({"image": {"data": photo_b64("fr_obama.jpg")}})).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["errorCode"], "UNEXPECTED_ERROR");
    assert!(body["errorMessage"].as_str().unwrap().contains("face_embed512.onnx"), "{body}");
    assert_eq!(kit.count("dis_faces"), 0);
}

async fn put_selfie_json(kit: &Kit, token: &str, customer: &str, photo: &str) -> reqwest::Response {
    kit.http
        .put(kit.url(&format!("/identity/api/v1/customers/{customer}/selfie")))
        .bearer_auth(token)
        .json(&json!({"image": {"data": photo_b64(photo)}}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn customers_get_a_selfie_as_json_or_raw_bytes() {
    let kit = Kit::start().await;
    let token = kit.oauth_token(&kit.integrator()).await;
    let created: Value = kit.post_json(&token, "/identity/api/v1/customers", &json!({})).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["links"]["self"], format!("/api/v1/customers/{id}"));

    let resp = put_selfie_json(&kit, &token, &id, "fr_obama.jpg").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let selfie: Value = resp.json().await.unwrap();
    assert_eq!(selfie["links"]["self"], format!("/api/v1/customers/{id}/selfie"));
    assert!(selfie["detection"]["confidence"].as_f64().unwrap() > 0.9);

    // A raw JPEG replaces it; the old selfie face goes in the same transaction.
    let raw = vouch_testkit::fixture("faces/fr_obama2.jpg");
    let resp = kit
        .http
        .put(kit.url(&format!("/identity/api/v1/customers/{id}/selfie")))
        .bearer_auth(&token)
        .header("content-type", "application/octet-stream")
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(kit.count("dis_faces"), 1);

    let customer: Value = kit.get(&token, &format!("/identity/api/v1/customers/{id}")).await.json().await.unwrap();
    assert!(customer["customer"]["age"]["selfie"].is_string(), "{customer}");
    let crop: Value = kit.get(&token, &format!("/identity/api/v1/customers/{id}/selfie")).await.json().await.unwrap();
    assert!(crop["data"].as_str().unwrap().len() > 1000);

    // A face made from the customer's selfie matches a new photo of the same person.
    let (status, from_selfie) =
        create_face(&kit, &token, json!({"faceOrigin": {"link": format!("/api/v1/customers/{id}/selfie")}})).await;
    assert_eq!(status, StatusCode::OK, "{from_selfie}");
    let probe = face_id(&kit, &token, "fr_obama.jpg").await;
    let score: Value = kit
        .post_json(
            &token,
            &format!("/identity/api/v1/faces/{probe}/similarity"),
            &json!({"referenceFace": format!("/api/v1/faces/{}", from_selfie["id"].as_str().unwrap())}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(score["score"].as_f64().unwrap() > 0.5, "{score}");

    // Custom UUIDv4 ids; a second create with the same id conflicts.
    let custom = uuid::Uuid::new_v4().to_string();
    let resp = kit.post_json(&token, &format!("/identity/api/v1/customers/{custom}"), &json!({})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = kit.post_json(&token, &format!("/identity/api/v1/customers/{custom}"), &json!({})).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "DIS answers a taken id 422");
    assert_eq!(resp.json::<Value>().await.unwrap()["errorCode"], "ALREADY_EXISTS");
    let resp = kit.post_json(&token, "/identity/api/v1/customers/not-a-uuid", &json!({})).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(resp.json::<Value>().await.unwrap()["errorCode"], "INVALID_ID");

    let resp = kit
        .http
        .delete(kit.url(&format!("/identity/api/v1/customers/{id}/selfie")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        kit.get(&token, &format!("/identity/api/v1/customers/{id}/selfie")).await.status(),
        StatusCode::NOT_FOUND
    );
    let resp =
        kit.http.delete(kit.url(&format!("/identity/api/v1/customers/{id}"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(kit.get(&token, &format!("/identity/api/v1/customers/{id}")).await.status(), StatusCode::NOT_FOUND);
    let resp = put_selfie_json(&kit, &token, &id, "fr_obama.jpg").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

/// SSRF: `image.url` is off by default; turned on, it still never reaches loopback, private, link-local or
/// metadata addresses, by IP or by a name that resolves to one, nor plain http.
#[tokio::test]
async fn image_urls_never_reach_internal_addresses() {
    // A server on loopback that would answer with an image if anything reached it.
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().fallback(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async { "internal secret" }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let off = Kit::start().await;
    let token = off.oauth_token(&off.integrator()).await;
    let (status, answer) =
        create_face(&off, &token, json!({"image": {"url": format!("https://localhost:{port}/a.png")}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer["errorMessage"].as_str().unwrap().contains("off"), "{answer}");

    let hosts = ["127.0.0.1", "10.0.0.1", "169.254.169.254", "localhost", "[::1]"];
    let on = Kit::start_with(|cfg| {
        cfg.image_url.enabled = true;
        cfg.image_url.allowed_hosts = hosts.iter().map(|h| h.trim_matches(['[', ']']).to_string()).collect();
    })
    .await;
    let token = on.oauth_token(&on.integrator()).await;
    for host in hosts {
        for scheme in ["https", "http"] {
            let url = format!("{scheme}://{host}:{port}/a.png");
            let (status, answer) = create_face(&on, &token, json!({"image": {"url": url}})).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {answer}");
            assert_eq!(answer["errorCode"], "DATA_DOWNLOAD_ERROR", "{url}: {answer}");
            assert!(!answer.to_string().contains("internal secret"));
        }
    }
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "nothing internal was reached");
    assert_eq!(on.count("dis_faces"), 0);
}
