//! Verifik under /verifik over HTTP: its tokens, its envelope and error codes, the 1:1 face endpoints, and
//! collections, persons and 1:N search with the real models on the public-domain photos and labelled faces.

use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use vouch_testkit::api::Creds;
use vouch_testkit::server::Kit;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn photo(name: &str) -> String {
    b64(&vouch_testkit::fixture(&format!("faces/{name}")))
}

/// A person of the labelled set who is in none of the other photos.
fn stranger() -> String {
    b64(&vouch_testkit::read(&vouch_testkit::shared_testdata("face_dev/Abdullah_Gul/Abdullah_Gul_0001.jpg")))
}

pub(crate) async fn token(kit: &Kit, creds: &Creds) -> String {
    let resp =
        kit.http.post(kit.url("/verifik/v2/auth/session")).header("Authorization", creds.basic()).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["tokenType"], "bearer");
    body["accessToken"].as_str().unwrap().to_string()
}

async fn call(kit: &Kit, method: Method, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    kit.send_json(method, token, &format!("/verifik/v2/face-recognition{path}"), &body).await
}

async fn post(kit: &Kit, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    call(kit, Method::POST, token, path, body).await
}

async fn get(kit: &Kit, token: &str, path: &str) -> (StatusCode, Value) {
    let resp = kit.get(token, &format!("/verifik/v2/face-recognition{path}")).await;
    (resp.status(), resp.json().await.unwrap())
}

pub(crate) fn assert_envelope(body: &Value) {
    assert_eq!(body["id"].as_str().unwrap().len(), 5, "{body}");
    assert_eq!(body["signature"]["message"], "Certified by Vouch");
    assert!(body["signature"]["dateTime"].as_str().unwrap().contains(", 20"), "{body}");
}

pub(crate) fn assert_error(status: StatusCode, body: &Value, want_status: StatusCode, code: &str, message: &str) {
    assert_eq!(
        (status, body["code"].as_str(), body["message"].as_str()),
        (want_status, Some(code), Some(message)),
        "{body}"
    );
}

#[tokio::test]
async fn tokens_are_jwts_for_verifik_only_and_refused_in_its_words() {
    let kit = Kit::start().await;
    let creds = kit.integrator();
    let jwt = token(&kit, &creds).await;
    assert_eq!(jwt.split('.').count(), 3);

    let wrong = Creds { id: creds.id.clone(), secret: "wrong".into() };
    let resp =
        kit.http.post(kit.url("/verifik/v2/auth/session")).header("Authorization", wrong.basic()).send().await.unwrap();
    let status = resp.status();
    assert_error(
        status,
        &resp.json().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "Authentication required",
    );

    // Renewal with the token itself; a lifetime out of range is a bad parameter.
    let resp = kit.get(&jwt, "/verifik/v2/auth/session?origin=refresh&expiresIn=2").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let renewed: Value = resp.json().await.unwrap();
    assert_eq!(renewed["expiresIn"], 60 * 24 * 3600);
    let resp = kit.get(&jwt, "/verifik/v2/auth/session?expiresIn=13").await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_error(
        status,
        &body,
        StatusCode::CONFLICT,
        "MissingParameter",
        "\"expiresIn\" must be less than or equal to 12",
    );

    let (status, body) = get(&kit, "", "/collections").await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "Authentication required");
    let eeid = kit.eeid_token(&creds).await;
    let (status, body) = get(&kit, &eeid, "/collections").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("UNAUTHORIZED")),
        "another API's token"
    );
    let resp = kit.get(&jwt, "/eeid/api/ident/v1/identification_requests").await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "a Verifik token is for /verifik only");

    let expired = kit.store.issue_jwt(&creds.id, 0, "verifik", None).unwrap().token;
    let (status, body) = get(&kit, &expired, "/collections").await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "FORBIDDEN", "token_expired");
    let session = kit.store.issue_jwt(&creds.id, 600, "verifik", Some("a-liveness-session")).unwrap().token;
    let (status, _) = get(&kit, &session, "/collections").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a liveness session's token is not a client's");

    let (status, body) = get(&kit, &jwt, "/collections").await;
    assert_eq!(status, StatusCode::OK);
    assert_envelope(&body);

    // Renew and revoke: the new token works, the old one no longer does, and cannot be renewed twice.
    let renew =
        |token: &str| kit.http.post(kit.url("/verifik/v2/auth/renew-and-revoke")).bearer_auth(token.to_string()).send();
    let resp = renew(&jwt).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let fresh = resp.json::<Value>().await.unwrap()["accessToken"].as_str().unwrap().to_string();
    assert_eq!(get(&kit, &fresh, "/collections").await.0, StatusCode::OK);
    let (status, body) = get(&kit, &jwt, "/collections").await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "Authentication required");
    assert_eq!(renew(&jwt).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let jwt = fresh;

    let resp = kit.http.get(kit.url("/verifik/v2/credits")).bearer_auth(&jwt).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_IMPLEMENTED);
    assert_eq!(resp.json::<Value>().await.unwrap()["code"], "NotImplemented");
}

#[tokio::test]
async fn liveness_and_compares_answer_verifiks_fields_and_refuse_bad_ones() {
    let kit = Kit::start().await;
    let jwt = token(&kit, &kit.integrator()).await;

    let (status, body) = post(&kit, &jwt, "/liveness", json!({"image": photo("fr_obama.jpg")})).await;
    assert_error(status, &body, StatusCode::CONFLICT, "MissingParameter", "\"os\" is required");
    let (status, body) = post(&kit, &jwt, "/liveness", json!({"os": "DESKTOP", "image": "aGVsbG8="})).await;
    assert_error(status, &body, StatusCode::PRECONDITION_FAILED, "PreconditionFailed", "only_images_in_base64");
    let (status, body) =
        post(&kit, &jwt, "/liveness", json!({"os": "DESKTOP", "image": "https://example.com/face.jpg"})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::PRECONDITION_FAILED, Some("PreconditionFailed")),
        "{body}"
    );
    let (status, body) = post(
        &kit,
        &jwt,
        "/liveness",
        json!({"os": "DESKTOP", "image": photo("fr_obama.jpg"), "liveness_min_score": 0.3}),
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::CONFLICT,
        "MissingParameter",
        "\"liveness_min_score\" must be greater than or equal to 0.5",
    );
    for path in ["/liveness", "/liveness-score"] {
        let data_uri = format!("data:image/jpeg;base64,{}", photo("fr_obama.jpg"));
        let (status, body) = post(&kit, &jwt, path, json!({"os": "DESKTOP", "image": data_uri})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_envelope(&body);
        let data = &body["data"];
        assert_eq!(data["min_score"], 0.6);
        let score = data["liveness_score"].as_f64().unwrap();
        assert_eq!(data["passed"], score > 0.6, "{data}");
        assert!(score > 0.6, "a real photo of a person: {data}");
    }

    let (status, body) =
        post(&kit, &jwt, "/compare", json!({"probe": [photo("fr_obama.jpg")], "gallery": [photo("fr_obama2.jpg")]}))
            .await;
    assert_error(status, &body, StatusCode::CONFLICT, "MissingParameter", "\"search_mode\" is required");
    let same = json!({"probe": [photo("fr_obama.jpg")], "gallery": [photo("fr_obama2.jpg")], "search_mode": "FAST"});
    let (status, body) = post(&kit, &jwt, "/compare", same.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = &body["data"];
    let score = data["score"].as_f64().unwrap();
    assert!(score > 0.5, "the same man: {data}");
    assert_eq!(data["compare_min_score"], 0.85);
    assert_eq!((data["passed"].clone(), data["result"]["score"].clone()), (json!(score > 0.85), json!(score)));
    let other =
        json!({"probe": [photo("fr_obama.jpg")], "gallery": [photo("fr_biden.jpg")], "search_mode": "ACCURATE"});
    let (_, body) = post(&kit, &jwt, "/compare", other.clone()).await;
    assert!(body["data"]["score"].as_f64().unwrap() < 0.5 && body["data"]["result"]["passed"] == false, "{body}");
    let mut low = same.clone();
    low["compare_min_score"] = json!(0.5);
    let (status, body) = post(&kit, &jwt, "/compare", low).await;
    assert_error(
        status,
        &body,
        StatusCode::CONFLICT,
        "MissingParameter",
        "\"compare_min_score\" must be greater than or equal to 0.67",
    );

    let live = json!({"probe": photo("fr_obama.jpg"), "gallery": [photo("fr_obama2.jpg")], "os": "IOS", "search_mode": "FAST", "compare_min_score": 0.67});
    let (status, body) = post(&kit, &jwt, "/compare-live", live).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = &body["data"];
    assert_eq!(data["liveness_min_score"], 0.65);
    assert_eq!(data["result"]["liveness_score"], data["liveness"]["liveness_score"]);
    assert_eq!(data["passed"], true, "{data}");

    let mut sequential =
        json!({"probe": photo("fr_obama.jpg"), "gallery": [photo("fr_biden.jpg")], "search_mode": "FAST"});
    let (status, body) = post(&kit, &jwt, "/compare-with-liveness", sequential.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["data"]["liveness"].is_null(), "no liveness after a failed compare: {body}");
    sequential["gallery"] = json!([photo("fr_obama2.jpg")]);
    sequential["compare_min_score"] = json!(0.67);
    let (_, body) = post(&kit, &jwt, "/compare-with-liveness", sequential).await;
    assert_eq!(body["data"]["comparison"]["result"]["passed"], true, "{body}");
    assert_eq!(body["data"]["liveness"]["result"]["min_score"], 0.6, "{body}");
}

/// A `/search` body for one photo, in a collection or the whole gallery.
fn search(image: String, collection: Option<&str>, min_score: f64) -> Value {
    json!({"images": [image], "collection_id": collection, "min_score": min_score, "search_mode": "FAST"})
}

/// The first person a search answers, and their score.
fn first(body: &Value) -> (String, f64) {
    let hit = &body["data"][0];
    (hit["id"].as_str().unwrap_or_default().to_string(), hit["score"].as_f64().unwrap_or_default())
}

#[tokio::test]
async fn persons_are_enrolled_searched_verified_and_removed_per_collection_and_client() {
    let kit = Kit::start().await;
    let jwt = token(&kit, &kit.integrator()).await;

    let (status, body) = post(&kit, &jwt, "/collections", json!({"description": "no name"})).await;
    assert_error(status, &body, StatusCode::CONFLICT, "MissingParameter", "\"name\" is required");
    let (status, body) =
        post(&kit, &jwt, "/collections", json!({"name": "Branch 12", "description": "walk-ins"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (collection_id, code) =
        (body["data"]["_id"].as_str().unwrap().to_string(), body["data"]["code"].as_str().unwrap().to_string());
    assert_eq!(code.len(), 36, "a UUID");
    let (_, by_code) = get(&kit, &jwt, &format!("/collections/{code}")).await;
    assert_eq!(by_code["data"]["_id"], collection_id.as_str());
    let (_, listed) = get(&kit, &jwt, "/collections?like_name=branch").await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);

    let obama = json!({"name": "Barack Obama", "images": [photo("fr_obama.jpg")], "gender": "M",
        "date_of_birth": {"year": 1961, "month": 8, "day": 4}, "collections": [code], "nationality": "US"});
    let (status, body) = post(&kit, &jwt, "/persons", obama.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let obama_id = body["data"]["_id"].as_str().unwrap().to_string();
    assert_eq!(body["data"]["date_of_birth"], json!({"year": 1961, "month": 8, "day": 4}));
    assert_eq!(body["data"]["collections"], json!([collection_id]));
    let thumbnail = body["data"]["thumbnails"][0]["thumbnail"].as_str().unwrap().to_string();
    let mut again = obama.clone();
    again["date_of_birth"] = json!("1961-08-04");
    again["name"] = json!("BARACK OBAMA");
    let (status, body) = post(&kit, &jwt, "/persons", again).await;
    assert_error(status, &body, StatusCode::PRECONDITION_FAILED, "PreconditionFailed", "person_already_set");
    assert_eq!(body["data"]["_id"], obama_id.as_str());
    let biden = json!({"name": "Joe Biden", "images": [photo("fr_biden.jpg")], "collections": [collection_id]});
    let (status, body) = post(&kit, &jwt, "/persons", biden).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let biden_id = body["data"]["_id"].as_str().unwrap().to_string();
    let (status, body) = post(
        &kit,
        &jwt,
        "/persons",
        json!({"name": "Nobody", "images": [photo("fr_obama.jpg")], "collections": ["nope"]}),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("NotFound")), "{body}");

    // 1:N: the right person first, a stranger refused, by the collection's code or _id or the whole gallery.
    let (status, body) = post(&kit, &jwt, "/search", search(photo("fr_obama2.jpg"), Some(&code), 0.5)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (id, score) = first(&body);
    assert_eq!(id, obama_id);
    assert!(
        score > 0.5 && body["data"][0]["name"] == "Barack Obama" && body["data"].as_array().unwrap().len() == 1,
        "{body}"
    );
    let (_, body) = post(&kit, &jwt, "/search", search(photo("fr_biden.jpg"), Some(&collection_id), 0.5)).await;
    assert_eq!(first(&body).0, biden_id);
    let (_, body) = post(&kit, &jwt, "/search", search(stranger(), Some(&code), 0.5)).await;
    assert_eq!(body["data"], json!([]), "a stranger: {body}");
    let (status, body) = post(&kit, &jwt, "/search", search(photo("fr_obama2.jpg"), None, 0.1)).await;
    assert_error(
        status,
        &body,
        StatusCode::CONFLICT,
        "MissingParameter",
        "\"min_score\" must be greater than or equal to 0.2",
    );
    let (_, body) = post(
        &kit,
        &jwt,
        "/search-active-user",
        json!({"image": photo("fr_obama2.jpg"), "os": "DESKTOP", "min_score": 0.5, "search_mode": "FAST"}),
    )
    .await;
    assert_eq!(first(&body).0, obama_id, "{body}");
    let (_, body) = post(&kit, &jwt, "/search-live-face", json!({"image": photo("fr_obama2.jpg"), "os": "DESKTOP", "min_score": 0.5, "liveness_min_score": 0.5, "search_mode": "FAST", "collection_id": code})).await;
    assert_eq!(body["data"]["persons"][0]["id"], obama_id.as_str(), "{body}");
    assert!(body["data"]["liveness_score"].as_f64().unwrap() > 0.5);
    let (status, body) = post(&kit, &jwt, "/search-live-face", json!({"image": photo("fr_obama2.jpg"), "os": "DESKTOP", "min_score": 0.5, "liveness_min_score": 1, "search_mode": "FAST"})).await;
    assert_error(status, &body, StatusCode::CONFLICT, "Conflict", "liveness_failed");
    let crop = json!({"images": [thumbnail], "min_score": 0.5, "search_mode": "FAST", "collection_id": code});
    let (status, body) = post(&kit, &jwt, "/search/crops", crop).await;
    assert_eq!((status, first(&body).0), (StatusCode::OK, obama_id.clone()), "{body}");
    let (_, body) =
        post(&kit, &jwt, "/detect", json!({"image": photo("fr_obama2.jpg"), "collection_id": code, "min_score": 0.5}))
            .await;
    assert_eq!(body["data"]["faces"][0]["matches"][0]["id"], obama_id.as_str(), "{body}");

    // 1:1 against an enrolled person.
    let verify =
        |id: &str, image: String| json!({"id": id, "images": [image], "min_score": 0.5, "search_mode": "FAST"});
    let (_, body) = post(&kit, &jwt, "/verify", verify(&obama_id, photo("fr_obama2.jpg"))).await;
    assert_eq!(
        (body["data"]["passed"].clone(), body["data"]["match"]["id"].clone()),
        (json!(true), json!(obama_id)),
        "{body}"
    );
    let (_, body) = post(&kit, &jwt, "/verify", verify(&obama_id, photo("fr_biden.jpg"))).await;
    assert_eq!(body["data"]["passed"], false, "{body}");
    let (status, body) = post(&kit, &jwt, "/verify", verify("000000000000000000000000", photo("fr_biden.jpg"))).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "NotFound", "Record not found.");

    // Enrolment with a duplicate check.
    let live_enrol = |image: String| json!({"name": "B. Obama", "images": [image], "collection_id": collection_id, "search_mode": "FAST", "min_score": 0.5});
    let (status, body) = post(&kit, &jwt, "/persons/search-live-face", live_enrol(photo("fr_obama2.jpg"))).await;
    assert_error(status, &body, StatusCode::CONFLICT, "Conflict", "duplicated_person");
    assert_eq!(body["data"]["id"], obama_id.as_str());
    let (status, body) = post(&kit, &jwt, "/persons/search-live-face", live_enrol(stranger())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let stranger_id = body["data"]["_id"].as_str().unwrap().to_string();

    // Lists and lookups.
    let (_, body) = get(&kit, &jwt, &format!("/persons?page=1&limit=2&sort=-createdAt&collection={code}")).await;
    assert_eq!(body["data"]["pagination"], json!({"page": 1, "limit": 2, "total": 3, "pages": 2}), "{body}");
    assert_eq!(body["data"]["docs"][0]["_id"], stranger_id.as_str(), "newest first");
    let (_, body) = get(&kit, &jwt, "/persons/lookup?name=obama").await;
    assert_eq!(body["total"], 2, "{body}");
    assert_eq!(body["data"][0]["collections"][0]["code"], code.as_str());
    let resp = kit.get(&jwt, "/verifik/v2/face-recognition/persons/lookup?name=ob12").await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);

    // Out of the collection: not found there, still found in the whole gallery; then deleted.
    let (status, body) =
        call(&kit, Method::PUT, &jwt, &format!("/persons/{obama_id}"), json!({"collections": [], "notes": "moved"}))
            .await;
    assert_eq!((status, body["data"]["notes"].as_str()), (StatusCode::OK, Some("moved")), "{body}");
    let (_, body) = post(&kit, &jwt, "/search", search(photo("fr_obama2.jpg"), Some(&code), 0.5)).await;
    assert_eq!(body["data"], json!([]), "{body}");
    let whole = search(photo("fr_obama2.jpg"), None, 0.5);
    let (_, body) = post(&kit, &jwt, "/search", whole.clone()).await;
    assert_eq!(first(&body).0, obama_id);
    let (status, body) = call(&kit, Method::DELETE, &jwt, &format!("/persons/{obama_id}"), json!({})).await;
    assert_eq!((status, body["data"]["_id"].as_str()), (StatusCode::OK, Some(obama_id.as_str())), "{body}");
    let (_, body) = post(&kit, &jwt, "/search", whole).await;
    assert_eq!(body["data"], json!([]), "a deleted person is not found: {body}");
    let (status, _) = get(&kit, &jwt, &format!("/persons/{obama_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) =
        call(&kit, Method::DELETE, &jwt, &format!("/persons/{biden_id}?collection={code}"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = get(&kit, &jwt, &format!("/persons/{biden_id}")).await;
    assert_eq!(body["data"]["collections"], json!([]), "{body}");

    // Another client sees none of it.
    let other = token(&kit, &kit.integrator()).await;
    let (status, _) = get(&kit, &other, &format!("/collections/{code}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, body) = post(&kit, &other, "/search", search(photo("fr_biden.jpg"), None, 0.5)).await;
    assert_eq!(body["data"], json!([]));

    let (status, body) = call(&kit, Method::DELETE, &jwt, &format!("/collections/{code}"), json!({})).await;
    assert_eq!((status, body["data"]["deleted"].clone()), (StatusCode::OK, json!(true)), "{body}");
    let (status, _) = get(&kit, &jwt, &format!("/persons/{biden_id}")).await;
    assert_eq!(status, StatusCode::OK, "a person outlives their collection");
    assert!(kit.count("gallery_templates") > 0);
}

pub(crate) async fn record(kit: &Kit, method: Method, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    kit.send_json(method, token, &format!("/verifik/v2{path}"), &body).await
}

#[tokio::test]
async fn projects_flows_and_webhooks_are_kept_per_client_as_verifik_documents_them() {
    let kit = Kit::start().await;
    let jwt = token(&kit, &kit.integrator()).await;
    let project = json!({"name": "Onboarding", "allowedCountries": ["Colombia"], "contactEmail": "ops@example.com",
        "privacyUrl": "https://example.com/privacy", "termsAndConditionsUrl": "https://example.com/terms"});
    let mut bad = project.clone();
    bad.as_object_mut().unwrap().remove("allowedCountries");
    let (status, body) = record(&kit, Method::POST, &jwt, "/projects", bad).await;
    assert_error(status, &body, StatusCode::CONFLICT, "MissingParameter", "\"allowedCountries\" is required");
    let mut bad = project.clone();
    bad["contactEmail"] = json!("not-an-address");
    let (status, body) = record(&kit, Method::POST, &jwt, "/projects", bad).await;
    assert_error(status, &body, StatusCode::CONFLICT, "MissingParameter", "\"contactEmail\" must be a valid email");
    let (status, body) = record(&kit, Method::POST, &jwt, "/projects", project).await;
    assert_eq!((status, body["data"]["status"].as_str()), (StatusCode::OK, Some("active")), "{body}");
    assert_envelope(&body);
    let project_id = body["data"]["_id"].as_str().unwrap().to_string();

    let flow = |project: &str| {
        json!({"project": project, "type": "login", "name": "Face login",
        "configuration": {"biometricVerification": {"enabled": true}}, "steps": [{"stepType": "biometric", "order": 1}],
        "loginSettings": {"faceLiveness": true, "livenessMinScore": 0.6, "searchMinScore": 0.8}})
    };
    let (status, body) = record(&kit, Method::POST, &jwt, "/project-flows", flow("000000000000000000000000")).await;
    assert_error(status, &body, StatusCode::PRECONDITION_FAILED, "PreconditionFailed", "INVALID_PROJECT_ID");
    let (status, body) = record(&kit, Method::POST, &jwt, "/project-flows", flow(&project_id)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["data"]["status"].as_str(), body["data"]["version"].as_i64()), (Some("draft"), Some(1)));
    let flow_id = body["data"]["_id"].as_str().unwrap().to_string();
    let (_, body) =
        record(&kit, Method::PUT, &jwt, &format!("/project-flows/{flow_id}"), json!({"status": "active"})).await;
    assert_eq!((body["data"]["status"].as_str(), body["data"]["name"].as_str()), (Some("active"), Some("Face login")));
    let (status, body) =
        record(&kit, Method::PUT, &jwt, &format!("/project-flows/{flow_id}"), json!({"status": "gone"})).await;
    assert_error(
        status,
        &body,
        StatusCode::CONFLICT,
        "MissingParameter",
        "\"status\" must be one of [draft, active, paused]",
    );

    let (status, body) = record(&kit, Method::POST, &jwt, "/webhooks", json!({"name": "ops", "url": "ftp://x"})).await;
    assert_error(status, &body, StatusCode::CONFLICT, "MissingParameter", "\"url\" must be a valid uri");
    let hook = json!({"name": "ops", "url": "https://hooks.example.com/verifik", "link": [flow_id]});
    let (status, body) = record(&kit, Method::POST, &jwt, "/webhooks", hook).await;
    assert_eq!(
        (status, body["data"]["projectFlow"].clone(), body["data"]["isActive"].clone()),
        (StatusCode::OK, json!([flow_id]), json!(true)),
        "{body}"
    );
    let hook_id = body["data"]["_id"].as_str().unwrap().to_string();
    let (_, body) =
        record(&kit, Method::PUT, &jwt, &format!("/webhooks/{hook_id}"), json!({"unlink": [flow_id], "name": "ops 2"}))
            .await;
    assert_eq!((body["data"]["projectFlow"].clone(), body["data"]["name"].clone()), (json!([]), json!("ops 2")));

    let (_, body) = record(&kit, Method::GET, &jwt, "/project-flows?type=login&limit=5", json!({})).await;
    assert_eq!(body["data"]["pagination"], json!({"page": 1, "limit": 5, "total": 1, "pages": 1}), "{body}");
    let (_, body) = record(&kit, Method::GET, &jwt, "/project-flows?type=onboarding", json!({})).await;
    assert_eq!(body["data"]["docs"], json!([]));
    let other = token(&kit, &kit.integrator()).await;
    let (status, body) = record(&kit, Method::GET, &other, &format!("/projects/{project_id}"), json!({})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "NotFound", "Record not found.");
    let (status, body) = record(&kit, Method::DELETE, &jwt, &format!("/webhooks/{hook_id}"), json!({})).await;
    assert_eq!((status, body["data"]["_id"].as_str()), (StatusCode::OK, Some(hook_id.as_str())));
    let (status, _) = record(&kit, Method::GET, &jwt, &format!("/webhooks/{hook_id}"), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A project and a face-login project flow of the caller's; the flow's id.
pub(crate) async fn login_flow(kit: &Kit, jwt: &str) -> (String, String) {
    let project = json!({"name": "Branch", "allowedCountries": ["All"], "contactEmail": "ops@example.com",
        "privacyUrl": "https://example.com/privacy", "termsAndConditionsUrl": "https://example.com/terms"});
    let (_, body) = record(kit, Method::POST, jwt, "/projects", project).await;
    let project_id = body["data"]["_id"].as_str().unwrap().to_string();
    let flow = json!({"project": project_id, "type": "login", "name": "Face login", "configuration": {},
        "steps": [], "loginSettings": {"faceLiveness": true, "searchMinScore": 0.75}});
    let (status, body) = record(kit, Method::POST, jwt, "/project-flows", flow).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (project_id, body["data"]["_id"].as_str().unwrap().to_string())
}

async fn validate(kit: &Kit, session_token: &str, image: String) -> (StatusCode, Value) {
    kit.send_json(Method::POST, session_token, "/verifik/v2/biometric-validations/validate", &json!({"image": image}))
        .await
}

/// The events the receiver got, in order, with the validation each names.
fn events(receiver: &vouch_testkit::receiver::Receiver) -> Vec<(String, String)> {
    receiver
        .received
        .lock()
        .unwrap()
        .iter()
        .map(|(_, body)| {
            let v: Value = serde_json::from_slice(body).unwrap();
            (v["event"].as_str().unwrap().to_string(), v["data"]["_id"].as_str().unwrap().to_string())
        })
        .collect()
}

#[tokio::test]
async fn biometric_validations_run_as_cases_completed_at_the_kiosk_or_by_validate_and_announced() {
    use std::time::Duration;
    let demo = vouch_testkit::repo_path("assets/demo-camera");
    let kit = Kit::start_with(|c| c.camera = vouch_app::camera::CameraSource::Demo(demo)).await;
    let receiver = vouch_testkit::receiver::Receiver::start(&[]).await;
    let creds = kit.client(vouch_core::Scope::Integrator, Some(&receiver.url), None);
    let jwt = token(&kit, &creds).await;
    let (project, flow) = login_flow(&kit, &jwt).await;
    let create = |body: Value| {
        let (kit, jwt) = (&kit, jwt.clone());
        async move { record(kit, Method::POST, &jwt, "/biometric-validations", body).await }
    };

    // Refusals in Verifik's words, before anything is made.
    let (status, body) = create(json!({"project": project, "identifier": "x"})).await;
    assert_error(status, &body, StatusCode::CONFLICT, "MissingParameter", "\"projectFlow\" is required");
    let (status, body) =
        create(json!({"project": "000000000000000000000000", "projectFlow": flow, "identifier": "x"})).await;
    assert_error(status, &body, StatusCode::PRECONDITION_FAILED, "PreconditionFailed", "INVALID_PROJECT_ID");
    let elsewhere = json!({"project": project, "projectFlow": flow, "identifier": "x",
        "webhookUrl": "http://10.0.0.1/hook"});
    let (status, body) = create(elsewhere).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::PRECONDITION_FAILED, Some("PreconditionFailed")));
    assert!(body["message"].as_str().unwrap().starts_with("webhook_url_not_allowed"), "{body}");
    let (status, _) =
        create(json!({"project": project, "projectFlow": flow, "identifier": "x", "requires2FA": true})).await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(kit.count("cases"), 0);

    // Obama is enrolled; a login validation of him is opened at the kiosk, whose demo camera shows him.
    let (status, body) =
        post(&kit, &jwt, "/persons", json!({"name": "Barack Obama", "images": [photo("fr_obama2.jpg")]})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let obama = body["data"]["_id"].as_str().unwrap().to_string();
    let own_url = format!("{}?validation=kiosk", receiver.url);
    let (status, body) = create(json!({"project": project, "projectFlow": flow, "identifier": "obama@example.com",
        "type": "login", "person": obama, "webhookUrl": own_url, "language": "es"}))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_envelope(&body);
    let validation = &body["data"]["biometricValidation"];
    let kiosk_id = validation["_id"].as_str().unwrap().to_string();
    assert_eq!((validation["status"].as_str(), validation["type"].as_str()), (Some("new"), Some("login")));
    assert_eq!(body["data"]["livenessSession"]["status"], "new");
    assert!(validation["collectionCode"].as_str().unwrap().len() == 36, "{validation}");
    let kiosk_token = body["data"]["token"].as_str().unwrap().to_string();
    let (status, _) = get(&kit, &kiosk_token, "/collections").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a validation's token opens nothing else");
    // Both the client's URL and the validation's own (same origin) hear of it.
    assert!(vouch_testkit::eventually(Duration::from_secs(20), || receiver.hits() >= 2).await);

    let opened = kit.kiosk_ok(None, "case_open", json!({"code": validation["url"]})).await;
    assert_eq!(opened["case_id"].as_str(), Some(kiosk_id.as_str()));
    assert_eq!(opened["next"]["step"]["kind"], "liveness", "{opened}");
    kit.kiosk_ok(None, "liveness_begin", json!({"case_id": kiosk_id, "index": 0})).await;
    let live = kit.kiosk_ok(None, "liveness_frame", json!({"case_id": kiosk_id, "index": 0})).await;
    assert_eq!(live["passed"], true, "{live}");
    let matched = kit.kiosk_ok(None, "face_match_run", json!({"case_id": kiosk_id, "index": 1})).await;
    let step = &matched["session"]["done"][1];
    assert_eq!(
        (step["outcome"].as_str(), step["detail"]["person_id"].as_str()),
        (Some("passed"), Some(obama.as_str()))
    );
    assert_eq!(matched["session"]["status"], "completed", "decided by its steps: {matched}");
    let (status, body) =
        record(&kit, Method::GET, &jwt, &format!("/biometric-validations/{kiosk_id}"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let done = &body["data"];
    assert_eq!((done["status"].as_str(), done["person"].as_str()), (Some("completed"), Some(obama.as_str())), "{done}");
    assert_eq!(done["verificationResults"]["faceMatch"]["passed"], true);
    assert!(done["completedAt"].is_string());
    let (status, _) = validate(&kit, &kiosk_token, photo("fr_obama.jpg")).await;
    assert_eq!(status, StatusCode::CONFLICT, "a decided validation takes no more photos");

    // Onboarding from another device: the photo enrols a new person in the flow's collection...
    let onboard = json!({"project": project, "projectFlow": flow, "identifier": "barack@example.com",
        "type": "onboarding", "name": "Barack H. Obama"});
    let (_, body) = create(onboard.clone()).await;
    let (onboard_id, onboard_token) = (
        body["data"]["biometricValidation"]["_id"].as_str().unwrap().to_string(),
        body["data"]["token"].as_str().unwrap().to_string(),
    );
    let (status, body) = validate(&kit, "not-a-token", photo("fr_obama.jpg")).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "Authentication required");
    let (status, body) = validate(&kit, &onboard_token, photo("fr_obama.jpg")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["status"], "completed", "{body}");
    let onboarded = body["data"]["person"].as_str().unwrap().to_string();
    assert_ne!(onboarded, obama, "a new person, in the flow's collection");
    let collection = body["data"]["assignedCollection"].as_str().unwrap().to_string();
    let (_, found) = get(&kit, &jwt, &format!("/persons/{onboarded}")).await;
    assert_eq!(found["data"]["name"], "Barack H. Obama");
    assert_eq!(found["data"]["collections"], json!([collection]));

    // ...and the same face cannot onboard again under another name.
    let mut again = onboard.clone();
    again["name"] = json!("Not Obama");
    let (_, body) = create(again).await;
    let again_token = body["data"]["token"].as_str().unwrap().to_string();
    let again_id = body["data"]["biometricValidation"]["_id"].as_str().unwrap().to_string();
    let (status, body) = validate(&kit, &again_token, photo("fr_obama2.jpg")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["status"], "failed", "{body}");
    assert_eq!(body["data"]["verificationResults"]["duplicateCheck"]["passed"], false);

    // A login by a stranger fails; one by the enrolled person, found in the collection, passes.
    let login = json!({"project": project, "projectFlow": flow, "identifier": "who@example.com", "type": "login"});
    let (_, body) = create(login.clone()).await;
    let stranger_id = body["data"]["biometricValidation"]["_id"].as_str().unwrap().to_string();
    let (_, body) = validate(&kit, body["data"]["token"].as_str().unwrap(), stranger()).await;
    assert_eq!(body["data"]["status"], "failed", "{body}");
    let (_, body) = create(login).await;
    let (_, body) = validate(&kit, body["data"]["token"].as_str().unwrap(), photo("fr_obama2.jpg")).await;
    let found = (body["data"]["status"].as_str(), body["data"]["person"].as_str());
    assert_eq!(found, (Some("completed"), Some(onboarded.as_str())), "{body}");

    // The login answered the person's app login token; with it they open their next login validation, of
    // themselves, and pass it. Another kind of token is not the right one.
    let app_login = body["data"]["token"].as_str().unwrap().to_string();
    let again = |token: String| {
        let kit = &kit;
        async move { kit.send_json(Method::POST, &token, "/verifik/v2/biometric-validations/app-login", &json!({})).await }
    };
    let (status, body) = again(onboard_token.clone()).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "FORBIDDEN", "token_not_right");
    let (status, body) = again(app_login).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["biometricValidation"]["person"].as_str(), Some(onboarded.as_str()), "verified 1:1");
    let (_, body) = validate(&kit, body["data"]["token"].as_str().unwrap(), photo("fr_obama2.jpg")).await;
    assert_eq!(body["data"]["status"], "completed", "{body}");

    // Every event arrived, signed.
    let want = [
        ("biometric_validation_validated", &kiosk_id),
        ("biometric_validation_validated", &onboard_id),
        ("biometric_validation_created_person", &onboard_id),
        ("biometric_validation_failed", &again_id),
        ("biometric_validation_failed", &stranger_id),
    ];
    let arrived = || {
        let got = events(&receiver);
        want.iter().all(|(e, id)| got.iter().any(|(ge, gid)| ge == e && gid == *id))
    };
    assert!(vouch_testkit::eventually(Duration::from_secs(30), arrived).await, "{:?}", events(&receiver));
    let kiosk_events = events(&receiver).iter().filter(|(_, id)| *id == kiosk_id).count();
    assert_eq!(kiosk_events, 4, "new and validated, to the client's URL and the validation's own");
    let secret = kit.store.client_webhook_secret(&creds.id).unwrap();
    for (headers, _) in receiver.received.lock().unwrap().iter() {
        assert!(headers["webhook-signature"].to_str().unwrap().starts_with("v1,"), "{headers:?}");
    }
    assert!(secret.starts_with("whsec_"));

    let (_, body) = record(&kit, Method::GET, &jwt, "/biometric-validations?perPage=2", json!({})).await;
    assert_eq!(body["pagination"]["total"], 6, "{body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 2);

    // Each login that passed made an app login, in its decision's transaction; the stranger's made none.
    let (_, body) = record(&kit, Method::GET, &jwt, "/app-logins?type=faceLiveness", json!({})).await;
    let logins = body["data"]["docs"].as_array().unwrap().clone();
    let persons: Vec<&str> = logins.iter().map(|l| l["person"].as_str().unwrap_or_else(|| panic!("{body}"))).collect();
    assert_eq!(persons, [obama.as_str(), onboarded.as_str(), onboarded.as_str()], "{body}");
    assert_eq!(logins[0]["biometricValidation"].as_str(), Some(kiosk_id.as_str()));
    let first = logins[0]["_id"].as_str().unwrap();
    let (status, body) = record(&kit, Method::GET, &jwt, &format!("/app-logins/{first}"), json!({})).await;
    assert_eq!((status, body["data"]["type"].as_str()), (StatusCode::OK, Some("faceLiveness")));
    let other = token(&kit, &kit.integrator()).await;
    let (status, body) =
        record(&kit, Method::GET, &other, &format!("/biometric-validations/{kiosk_id}"), json!({})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "NotFound", "Record not found.");
}

#[tokio::test]
async fn v3_projects_are_verifiks_projects_in_v3_shapes_and_errors() {
    let kit = Kit::start().await;
    let jwt = token(&kit, &kit.integrator()).await;
    let v3 = |method: Method, path: &str, body: Value| {
        let (kit, jwt, path) = (&kit, jwt.clone(), format!("/verifik/v3/projects{path}"));
        async move { kit.send_json(method, &jwt, &path, &body).await }
    };
    let project = json!({"name": "KYC", "allowedCountries": ["All"], "contactEmail": "ops@example.com",
        "privacyUrl": "https://example.com/privacy", "termsAndConditionsUrl": "https://example.com/terms",
        "dataProtection": {"name": "Ana Díaz", "email": "dpo@example.com", "address": "Calle 1", "city": "Bogotá",
            "country": "Colombia", "postalCode": "110111"}});

    // v3's error body: the status and a timestamp beside v2's message and code.
    let mut bad = project.clone();
    bad["dataProtection"]["postalCode"] = json!("!");
    let (status, body) = v3(Method::POST, "", bad).await;
    assert_eq!(
        (status, body["code"].as_str(), body["status"].as_u64()),
        (StatusCode::CONFLICT, Some("MissingParameter"), Some(409))
    );
    assert!(body["message"].as_str().unwrap().contains("postalCode"), "{body}");
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'), "{body}");
    let mut bad = project.clone();
    bad.as_object_mut().unwrap().remove("dataProtection");
    let (_, body) = v3(Method::POST, "", bad).await;
    assert_eq!(body["message"], "\"dataProtection\" is required");
    let mut bad = project.clone();
    bad["projectFlow"] = json!({"target": "personal", "type": "onboarding", "liveness": {"minScore": 0.95}});
    bad["projectFlowType"] = json!("onboarding");
    let (status, body) = v3(Method::POST, "", bad).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["message"].as_str().unwrap().contains("minScore"), "{body}");
    let resp = kit.http.get(kit.url("/verifik/v3/projects")).send().await.unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        (status, body["code"].as_str(), body["status"].as_u64()),
        (StatusCode::UNAUTHORIZED, Some("Forbidden"), Some(401))
    );

    // Created: 201, a draft of version 2 in `{data}`; demo mode gets a six-digit OTP.
    let mut demo = project.clone();
    demo["demoMode"] = json!(true);
    let (status, body) = v3(Method::POST, "", demo).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let created = &body["data"];
    assert_eq!((created["status"].as_str(), created["version"].as_i64()), (Some("draft"), Some(2)));
    assert_eq!(created["dataProtection"]["address2"], "");
    assert_eq!(created["demoOTP"].as_str().unwrap().len(), 6);
    assert_eq!(created["defaultLanguage"], "en");
    let id = created["_id"].as_str().unwrap().to_string();
    assert!(body.get("signature").is_none(), "v3 answers without v2's envelope");

    // Read, listed, updated, deleted; the same project is v2's too, so a v2 project flow can name it.
    let (status, body) = v3(Method::GET, &format!("/{id}"), json!({})).await;
    assert_eq!((status, body["data"]["name"].as_str()), (StatusCode::OK, Some("KYC")));
    let (_, body) = v3(Method::GET, "?status=draft", json!({})).await;
    assert_eq!(body["data"]["pagination"]["total"], 1, "{body}");
    let (status, body) = v3(Method::PUT, &format!("/{id}"), json!({"name": "KYC 2", "defaultLanguage": "es"})).await;
    assert_eq!(
        (status, body["data"]["name"].as_str(), body["data"]["defaultLanguage"].as_str()),
        (StatusCode::OK, Some("KYC 2"), Some("es"))
    );
    let flow = json!({"project": id, "type": "login", "name": "Face login", "configuration": {}, "steps": []});
    let (status, _) = record(&kit, Method::POST, &jwt, "/project-flows", flow).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = v3(Method::DELETE, &format!("/{id}"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = v3(Method::GET, &format!("/{id}"), json!({})).await;
    assert_eq!(
        (status, body["code"].as_str(), body["status"].as_u64()),
        (StatusCode::NOT_FOUND, Some("NotFound"), Some(404))
    );
}

#[tokio::test]
async fn an_app_registration_enrols_its_registrant_by_a_photo_once() {
    let kit = Kit::start().await;
    let jwt = token(&kit, &kit.integrator()).await;
    let (project, flow) = login_flow(&kit, &jwt).await;
    let register = |body: Value| {
        let (kit, jwt) = (&kit, jwt.clone());
        async move { record(kit, Method::POST, &jwt, "/app-registrations", body).await }
    };
    let (status, body) = register(json!({"project": project, "projectFlow": flow, "fullName": "Nobody"})).await;
    assert_error(status, &body, StatusCode::CONFLICT, "MissingParameter", "Needs an email or a phone at least");
    let (status, body) = register(json!({"project": project, "projectFlow": flow, "phone": "3001234567"})).await;
    assert_error(status, &body, StatusCode::CONFLICT, "MissingParameter", "missing countryCode");
    let who =
        json!({"project": project, "projectFlow": flow, "email": "barack@example.com", "fullName": "Barack Obama"});
    let (status, body) = register(who.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let registration = body["data"]["appRegistration"].clone();
    assert_eq!(
        (registration["status"].as_str(), body["data"]["informationValidation"]["fullName"].as_str()),
        (Some("STARTED"), Some("Barack Obama"))
    );
    let token = body["data"]["token"].as_str().unwrap().to_string();
    assert_eq!(
        get(&kit, &token, "/collections").await.0,
        StatusCode::UNAUTHORIZED,
        "the registrant's token opens nothing else"
    );

    // The photo enrols the registrant; registering again answers the same registration.
    let face = |token: &str, image: String| {
        let (kit, token) = (&kit, token.to_string());
        async move {
            let body = json!({"image": image, "os": "DESKTOP"});
            kit.send_json(Method::POST, &token, "/verifik/v2/biometric-validations/app-registration", &body).await
        }
    };
    let (status, body) = face(&token, photo("fr_obama.jpg")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["status"], "ONGOING");
    let person = body["data"]["person"].as_str().unwrap().to_string();
    let (_, found) = get(&kit, &jwt, &format!("/persons/{person}")).await;
    assert_eq!(found["data"]["name"], "Barack Obama");
    let (status, body) = face(&token, photo("fr_obama2.jpg")).await;
    assert_error(status, &body, StatusCode::CONFLICT, "Conflict", "person_already_set");
    let (_, body) = register(who).await;
    assert_eq!(body["data"]["appRegistration"]["_id"], registration["_id"]);

    // Someone else registering with the same face is refused as a duplicate.
    let other = json!({"project": project, "projectFlow": flow, "phone": "3001234567", "countryCode": "+57", "firstName": "Not", "lastName": "Obama"});
    let (_, body) = register(other).await;
    let other_token = body["data"]["token"].as_str().unwrap().to_string();
    let other_id = body["data"]["appRegistration"]["_id"].as_str().unwrap().to_string();
    let (status, body) = face(&other_token, photo("fr_obama2.jpg")).await;
    assert_error(status, &body, StatusCode::CONFLICT, "Conflict", "person_already_set");
    let (_, body) = record(&kit, Method::GET, &jwt, "/app-registrations?status=ONGOING", json!({})).await;
    assert_eq!(body["data"]["pagination"]["total"], 1, "{body}");

    // Sync: the registrant moves their own registration, and cannot complete what the flow requires undone.
    let sync = |token: &str, id: &str, step: &str, status: &str| {
        let (kit, token, path) = (&kit, token.to_string(), format!("/verifik/v2/app-registrations/{id}/sync"));
        let body = json!({"step": step, "status": status});
        async move { kit.send_json(Method::PUT, &token, &path, &body).await }
    };
    let obama = registration["_id"].as_str().unwrap().to_string();
    assert_eq!(sync(&jwt, &obama, "end", "COMPLETED").await.0, StatusCode::UNAUTHORIZED);
    let (status, body) = sync(&other_token, &obama, "end", "COMPLETED").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "NotFound", "AppRegistration_not_found");
    for (step, state, word) in [
        ("end", "COMPLETED", "liveness_validation_not_passed"),
        ("skipKYC", "COMPLETED_WITHOUT_KYC", "kyc_steps_mandatory"),
        ("teleport", "ONGOING", "step_not_supported"),
        ("document", "COMPLETED", "status_not_allowed_for_document"),
    ] {
        let (status, body) = sync(&other_token, &other_id, step, state).await;
        assert_error(status, &body, StatusCode::CONFLICT, "Conflict", word);
    }
    let (status, body) = sync(&other_token, &other_id, "instructions", "ONGOING").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = &body["data"];
    assert_eq!((data["status"].as_str(), data["steps"]["liveness"].as_str()), (Some("ONGOING"), Some("mandatory")));
    assert_eq!(
        (data["appRegistrationId"].as_str(), data["lastName"].as_str()),
        (Some(other_id.as_str()), Some("Obama"))
    );
    assert!(data["token"].as_str().unwrap().len() > 20);
    // The integrator resumes an unfinished registration with a new token; not a finished one, and sends no e-mail.
    let resend = |id: &str, body: Value| {
        let (kit, jwt, path) = (&kit, jwt.clone(), format!("/verifik/v2/app-registrations/{id}/resend-link"));
        async move { kit.send_json(Method::POST, &jwt, &path, &body).await }
    };
    let (status, body) = resend(&other_id, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = &body["data"];
    assert_eq!(
        (data["status"].as_str(), data["link"].clone(), data["emailSent"].clone()),
        (Some("ONGOING"), Value::Null, Value::Null)
    );
    let resumed = data["token"].as_str().unwrap().to_string();
    assert_eq!(sync(&resumed, &other_id, "form", "ONGOING").await.0, StatusCode::OK);
    assert_eq!(resend(&other_id, json!({"sendEmail": true})).await.0, StatusCode::NOT_IMPLEMENTED);
    let resp = kit
        .send_json(Method::POST, &resumed, &format!("/verifik/v2/app-registrations/{other_id}/resend-link"), &json!({}))
        .await;
    assert_eq!(resp.0, StatusCode::UNAUTHORIZED, "a registrant cannot mint their own tokens");

    let (status, body) = sync(&token, &obama, "end", "COMPLETED").await;
    assert_eq!((status, body["data"]["status"].as_str()), (StatusCode::OK, Some("COMPLETED")), "{body}");
    let (status, body) = resend(&obama, json!({})).await;
    assert_error(status, &body, StatusCode::CONFLICT, "Conflict", "cannot_resend_link_for_this_status");
    let (_, shown) = record(&kit, Method::GET, &jwt, &format!("/app-registrations/{obama}"), json!({})).await;
    assert_eq!((shown["data"]["status"].as_str(), shown["data"]["step"].as_str()), (Some("COMPLETED"), Some("end")));
    let (status, body) = sync(&token, &obama, "end", "FAILED").await;
    assert_error(status, &body, StatusCode::CONFLICT, "Conflict", "appRegistration_not_active");

    // A flow whose KYC steps are all skipped lets its registrants skip KYC.
    let flow = json!({"project": project, "type": "onboarding", "name": "Newsletter", "configuration": {},
        "steps": [], "onboardSettings": {"steps": {"liveness": "skip", "document": "skip"}}});
    let (_, body) = record(&kit, Method::POST, &jwt, "/project-flows", flow).await;
    let light = body["data"]["_id"].as_str().unwrap().to_string();
    let (_, body) = register(json!({"project": project, "projectFlow": light, "email": "reader@example.com"})).await;
    let (reader, reader_token) = (
        body["data"]["appRegistration"]["_id"].as_str().unwrap().to_string(),
        body["data"]["token"].as_str().unwrap().to_string(),
    );
    let (status, body) = sync(&reader_token, &reader, "skipKYC", "COMPLETED_WITHOUT_KYC").await;
    assert_eq!((status, body["data"]["status"].as_str()), (StatusCode::OK, Some("COMPLETED_WITHOUT_KYC")), "{body}");
}

#[tokio::test]
async fn email_and_phone_validations_check_a_code_the_integrator_sends_and_a_login_makes_an_app_login() {
    let kit = Kit::start().await;
    let receiver = vouch_testkit::receiver::Receiver::start(&[]).await;
    let creds = kit.client(vouch_core::Scope::Integrator, Some(&receiver.url), None);
    let jwt = token(&kit, &creds).await;
    let (project, flow) = login_flow(&kit, &jwt).await;
    let create = |path: &'static str, body: Value| {
        let (kit, jwt) = (&kit, jwt.clone());
        async move { record(kit, Method::POST, &jwt, path, body).await }
    };

    // Refusals, each in Verifik's words, and none of them writes a validation.
    let email = |extra: Value| {
        let mut body = json!({"project": project, "projectFlow": flow, "validationMethod": "verificationCode",
            "email": " Ann.Lee@Example.COM ", "type": "login"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    let (status, body) =
        create("/email-validations", json!({"project": project, "validationMethod": "verificationCode"})).await;
    assert_error(status, &body, StatusCode::CONFLICT, "MissingParameter", "\"email\" is required");
    let (status, body) = create("/email-validations", email(json!({"project": "nope"}))).await;
    assert_error(status, &body, StatusCode::PRECONDITION_FAILED, "PreconditionFailed", "INVALID_PROJECT_ID");
    let (status, body) = create("/email-validations", email(json!({"validationMethod": "magicLink"}))).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_IMPLEMENTED, Some("NotImplemented")), "{body}");
    let (status, body) = create(
        "/phone-validations",
        json!({"project": project, "validationMethod": "verificationCode",
        "phone": "3001234567"}),
    )
    .await;
    assert_error(status, &body, StatusCode::CONFLICT, "MissingParameter", "\"countryCode\" is required");
    let (_, body) = record(&kit, Method::GET, &jwt, "/email-validations", json!({})).await;
    assert_eq!(body["data"]["pagination"]["total"], 0, "{body}");

    let registration =
        json!({"project": project, "projectFlow": flow, "email": "ann.lee@example.com", "fullName": "Ann Lee"});
    let (_, body) = record(&kit, Method::POST, &jwt, "/app-registrations", registration).await;
    let registered = body["data"]["appRegistration"]["_id"].as_str().unwrap().to_string();

    // A login by e-mail: the code is answered once, to the integrator; the address is kept as Verifik keeps it.
    let (status, body) = create("/email-validations", email(json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_envelope(&body);
    let created = &body["data"];
    let (id, code) =
        (created["_id"].as_str().unwrap().to_string(), created["verificationCode"].as_str().unwrap().to_string());
    assert_eq!((created["email"].as_str(), created["status"].as_str()), (Some("ann.lee@example.com"), Some("new")));
    assert_eq!((created["attempts"].as_i64(), created["maxAttempts"].as_i64()), (Some(0), Some(3)));
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()));
    let (_, shown) = record(&kit, Method::GET, &jwt, &format!("/email-validations/{id}"), json!({})).await;
    assert!(shown["data"].get("verificationCode").is_none(), "the code is answered once: {shown}");
    assert!(!shown.to_string().contains("argon2"), "{shown}");

    // A wrong code is counted; the right one, sent as the official client sends it, validates and logs in.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, body) = record(
        &kit,
        Method::POST,
        &jwt,
        &format!("/email-validations/{id}/validate"),
        json!({"verificationCode": wrong}),
    )
    .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "INVALID_CODE", "Invalid verification code");
    let by_contact = json!({"otp": code, "email": "ann.lee@example.com", "project": project, "projectFlow": flow,
        "type": "login", "validationMethod": "verificationCode"});
    let (status, body) = record(&kit, Method::POST, &jwt, "/email-validations/validate", by_contact.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = &body["data"];
    assert_eq!(
        (data["status"].as_str(), data["type"].as_str(), data["attempts"].as_i64()),
        (Some("validated"), Some("login"), Some(2))
    );
    assert!(data["validatedAt"].is_string());
    assert_eq!(
        (data["appLogin"]["type"].as_str(), data["appLogin"]["emailValidation"].as_str()),
        (Some("email"), Some(id.as_str()))
    );
    // Its token is the person's own: it opens a biometric login, and is no client's token.
    let login_token = data["token"].as_str().unwrap().to_string();
    let (status, body) =
        kit.send_json(Method::POST, &login_token, "/verifik/v2/biometric-validations/app-login", &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["biometricValidation"]["type"], "login", "{body}");
    let (status, _) = record(&kit, Method::GET, &login_token, "/email-validations", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Project login, as the official client does after an e-mail login: a fresh token of the same app login, and
    // the person's registration in the project.
    let project_login = |token: &str| {
        let (kit, token) = (&kit, token.to_string());
        async move { kit.send_json(Method::POST, &token, "/verifik/v2/auth/project-login", &json!({})).await }
    };
    let (status, body) = project_login(&login_token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["data"]["tokenType"].as_str(), body["data"]["appRegistration"]["_id"].as_str()),
        (Some("bearer"), Some(registered.as_str()))
    );
    let session = body["data"]["accessToken"].as_str().unwrap().to_string();
    assert_eq!(
        kit.send_json(Method::POST, &session, "/verifik/v2/biometric-validations/app-login", &json!({})).await.0,
        StatusCode::OK
    );
    let (status, body) = project_login(&jwt).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "FORBIDDEN", "token_not_right");
    assert_eq!(project_login("garbage").await.0, StatusCode::UNAUTHORIZED);
    // Spent: the same code again finds no open validation, and by id it is refused.
    let (status, _) = record(&kit, Method::POST, &jwt, "/email-validations/validate", by_contact).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = record(
        &kit,
        Method::POST,
        &jwt,
        &format!("/email-validations/{id}/validate"),
        json!({"verificationCode": code}),
    )
    .await;
    assert_error(status, &body, StatusCode::CONFLICT, "Conflict", "already_validated");
    let (_, logins) = record(&kit, Method::GET, &jwt, "/app-logins?type=email", json!({})).await;
    assert_eq!(logins["data"]["pagination"]["total"], 1, "{logins}");

    // A phone validation: three wrong codes spend it, and then even the right one is refused.
    let (status, body) = create(
        "/phone-validations",
        json!({"project": project, "validationMethod": "verificationCode",
        "phone": "3001234567", "countryCode": "+57", "type": "validation"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (id, code) = (
        body["data"]["_id"].as_str().unwrap().to_string(),
        body["data"]["verificationCode"].as_str().unwrap().to_string(),
    );
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let path = format!("/phone-validations/{id}/validate");
    for expected in [StatusCode::BAD_REQUEST, StatusCode::BAD_REQUEST, StatusCode::GONE] {
        let (status, body) = record(&kit, Method::POST, &jwt, &path, json!({"otp": wrong})).await;
        assert_eq!(status, expected, "{body}");
    }
    let (status, body) = record(&kit, Method::POST, &jwt, &path, json!({"otp": code})).await;
    assert_error(status, &body, StatusCode::GONE, "MAX_ATTEMPTS_EXCEEDED", "Maximum attempts exceeded");
    let (_, shown) = record(&kit, Method::GET, &jwt, &format!("/phone-validations/{id}"), json!({})).await;
    assert_eq!(
        (shown["data"]["status"].as_str(), shown["data"]["attempts"].as_i64()),
        (Some("failed"), Some(3)),
        "{shown}"
    );

    // An expired code is refused and the validation says so; another client sees none of these.
    let soon = (time::OffsetDateTime::now_utc() + time::Duration::seconds(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (_, body) = create(
        "/phone-validations",
        json!({"project": project, "validationMethod": "verificationCode",
        "phone": "3001234567", "countryCode": "+57", "expiresAt": soon}),
    )
    .await;
    let (id, code) = (
        body["data"]["_id"].as_str().unwrap().to_string(),
        body["data"]["verificationCode"].as_str().unwrap().to_string(),
    );
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let (_, shown) = record(&kit, Method::GET, &jwt, &format!("/phone-validations/{id}"), json!({})).await;
    assert_eq!(shown["data"]["status"], "expired", "expired before anyone tried it: {shown}");
    let (status, body) =
        record(&kit, Method::POST, &jwt, &format!("/phone-validations/{id}/validate"), json!({"otp": code})).await;
    assert_error(status, &body, StatusCode::CONFLICT, "CODE_EXPIRED", "Verification code expired");
    let (_, shown) = record(&kit, Method::GET, &jwt, &format!("/phone-validations/{id}"), json!({})).await;
    assert_eq!(shown["data"]["status"], "expired");
    let other = token(&kit, &kit.integrator()).await;
    let (status, _) = record(&kit, Method::GET, &other, &format!("/phone-validations/{id}"), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Each change was announced through the outbox, signed, and no event carries a code.
    let want = [
        ("app_registration_created", 1),
        ("email_validation_created", 1),
        ("email_validation_otp_incorect", 1),
        ("email_validation_status", 1),
        ("phone_validation_created", 2),
        ("phone_validation_otp_incorect", 3),
        ("phone_validation_status", 1),
        ("phone_validation_expired", 1),
    ];
    let count = |event: &str| events(&receiver).iter().filter(|(e, _)| e == event).count();
    let arrived = || want.iter().all(|(event, n)| count(event) == *n);
    let waited = vouch_testkit::eventually(std::time::Duration::from_secs(30), arrived).await;
    assert!(waited, "{:?}", events(&receiver));
    for (headers, body) in receiver.received.lock().unwrap().iter() {
        assert!(headers["webhook-signature"].to_str().unwrap().starts_with("v1,"), "{headers:?}");
        let event: Value = serde_json::from_slice(body).unwrap();
        assert!(event["data"].get("verificationCode").is_none() && event["data"].get("otp").is_none(), "{event}");
    }
    let statuses: Vec<String> = receiver
        .received
        .lock()
        .unwrap()
        .iter()
        .filter_map(|(_, body)| {
            let v: Value = serde_json::from_slice(body).ok()?;
            v["event"]
                .as_str()
                .is_some_and(|e| e.ends_with("_validation_status"))
                .then(|| v["data"]["status"].as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(statuses.len(), 2);
    assert!(statuses.contains(&"validated".to_string()) && statuses.contains(&"failed".to_string()), "{statuses:?}");
}

#[tokio::test]
async fn an_app_registration_reads_its_registrants_document_and_keeps_only_the_outcome() {
    let kit = Kit::start().await;
    let hooks = vouch_testkit::receiver::Receiver::start(&[]).await;
    let jwt = token(&kit, &kit.client(vouch_core::Scope::Integrator, Some(&hooks.url), None)).await;
    let (project, flow) = login_flow(&kit, &jwt).await;
    let register = |who: Value| {
        let (kit, jwt) = (&kit, jwt.clone());
        let body = json!({"project": project, "projectFlow": flow}).as_object().unwrap().clone();
        async move {
            let mut body = body;
            body.extend(who.as_object().unwrap().clone());
            let (_, body) = record(kit, Method::POST, &jwt, "/app-registrations", Value::Object(body)).await;
            let data = &body["data"];
            (data["appRegistration"]["_id"].as_str().unwrap().to_string(), data["token"].as_str().unwrap().to_string())
        }
    };
    let document = |name: &str| {
        b64(&vouch_testkit::read(&vouch_testkit::shared_testdata(&format!("documents_dev/fastmrz/{name}"))))
    };
    let read = |token: &str, body: Value| {
        let (kit, token) = (&kit, token.to_string());
        async move { kit.send_json(Method::POST, &token, "/verifik/v2/document-validations/app-registration", &body).await }
    };
    let (anna, anna_token) =
        register(json!({"email": "anna@example.com", "firstName": "Anna María", "lastName": "Eriksson"})).await;
    let (status, body) = read(&anna_token, json!({})).await;
    assert_error(status, &body, StatusCode::CONFLICT, "MissingParameter", "Either image or backImage must be provided");
    assert_eq!(read(&jwt, json!({"image": document("td3.jpg")})).await.0, StatusCode::UNAUTHORIZED);

    // The ICAO specimen passport of Anna Maria Eriksson: read, its checks hold, its names are hers.
    let (status, body) = read(&anna_token, json!({"image": document("td3.jpg")})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let found = &body["data"]["documentValidation"];
    assert_eq!(
        (
            found["status"].as_str(),
            found["documentType"].as_str(),
            found["country"].as_str(),
            found["namesMatch"].as_bool()
        ),
        (Some("VALIDATED"), Some("Passport"), Some("UTO"), Some(true)),
        "{found}"
    );
    assert_eq!(
        (found["lastNameMatchPercentage"].as_f64(), found["appRegistration"].as_str()),
        (Some(100.0), Some(anna.as_str()))
    );
    assert!(
        !body.to_string().contains("L898902C3") && !body.to_string().contains("740812"),
        "no document number or birth date kept: {body}"
    );
    let (_, shown) = record(&kit, Method::GET, &jwt, &format!("/app-registrations/{anna}"), json!({})).await;
    assert_eq!(
        (shown["data"]["documentValidation"].as_str(), shown["data"]["step"].as_str()),
        (found["_id"].as_str(), Some("document"))
    );
    let announced = || {
        events(&hooks)
            .into_iter()
            .any(|(event, id)| event == "document_validation_created" && Some(id.as_str()) == found["_id"].as_str())
    };
    assert!(vouch_testkit::eventually(std::time::Duration::from_secs(20), announced).await, "{:?}", events(&hooks));
    assert!(hooks.received.lock().unwrap().iter().all(|(_, b)| !String::from_utf8_lossy(b).contains("L898902C3")));

    // Once read, again only with force; a card without an MRZ fails.
    let (status, body) = read(&anna_token, json!({"image": document("nomrz.jpg")})).await;
    assert_error(status, &body, StatusCode::CONFLICT, "Conflict", "already_exists");
    let (status, body) = read(&anna_token, json!({"image": document("nomrz.jpg"), "force": true})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let failed = &body["data"]["documentValidation"];
    assert_eq!((failed["status"].as_str(), failed["failureReason"].as_str()), (Some("FAILED"), Some("no_mrz_found")));

    // The integrator reads them (by status, by registration), and may delete one.
    let (_, listed) = record(&kit, Method::GET, &jwt, "/document-validations?where_status=VALIDATED", json!({})).await;
    assert_eq!(listed["data"]["pagination"]["total"], 1, "{listed}");
    let first = found["_id"].as_str().unwrap();
    let (status, gone) = record(&kit, Method::DELETE, &jwt, &format!("/document-validations/{first}"), json!({})).await;
    assert_eq!((status, gone["data"]["_id"].as_str()), (StatusCode::OK, Some(first)));
    let (status, _) = record(&kit, Method::GET, &jwt, &format!("/document-validations/{first}"), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, listed) =
        record(&kit, Method::GET, &jwt, &format!("/document-validations?appRegistration={anna}"), json!({})).await;
    assert_eq!(listed["data"]["pagination"]["total"], 1, "the forced one is left: {listed}");

    // Someone else's passport: read and valid, but not their names.
    let (_, john_token) = register(json!({"email": "john@example.com", "fullName": "John Smith"})).await;
    let (_, body) = read(&john_token, json!({"backImage": document("td3.jpg")})).await;
    let other = &body["data"]["documentValidation"];
    assert_eq!((other["status"].as_str(), other["namesMatch"].as_bool()), (Some("VALIDATED"), Some(false)), "{other}");
}
