//! The served surface: OpenAPI covers every route, docs, metrics, DIS actuator, and 501 for what is not built.

use reqwest::StatusCode;
use serde_json::Value;

use vouch_testkit::server::Kit;

#[tokio::test]
async fn openapi_documents_every_route_and_docs_render_it() {
    let kit = Kit::start().await;
    let spec: Value = kit.http.get(kit.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let paths = spec["paths"].as_object().unwrap();
    let expected = [
        ("/oauth/token", "post"),
        ("/danaconnect/oauth2/token", "post"),
        ("/eeid/api/auth/v1/token", "post"),
        ("/eeid/api/ident/v1/identification_requests", "get"),
        ("/eeid/api/ident/v1/identification_requests", "post"),
        ("/eeid/api/ident/v1/identification_requests/{id}", "get"),
        ("/eeid/api/ident/v1/identification_requests/{id}/proof_of_identity", "get"),
        ("/identity/api/v1/health", "get"),
        ("/identity/api/v1/info", "get"),
        ("/identity/api/v1/faces", "post"),
        ("/identity/api/v1/faces/{id}", "delete"),
        ("/identity/api/v1/faces/{probe_face_id}/similarity", "post"),
        ("/identity/api/v1/faces/{id}/quality", "get"),
        ("/identity/api/v1/faces/{id}/aspects", "get"),
        ("/identity/api/v1/faces/{id}/face-template", "get"),
        ("/identity/api/v1/faces/{id}/crop", "get"),
        ("/identity/api/v1/sessions", "post"),
        ("/identity/api/v1/sessions", "delete"),
        ("/identity/api/v1/customers/{id}/store", "post"),
        ("/identity/api/v1/faces/{id}/crop/coordinates", "get"),
        ("/identity/api/v1/faces/{id}/glasses", "get"),
        ("/identity/api/v1/faces/{id}/face-mask", "get"),
        ("/identity/api/v1/faces/{id}/crop/removed-background", "get"),
        ("/identity/api/v1/customers", "post"),
        ("/identity/api/v1/customers/{id}", "get"),
        ("/identity/api/v1/customers/{id}", "post"),
        ("/identity/api/v1/customers/{id}", "delete"),
        ("/identity/api/v1/customers/{id}/selfie", "put"),
        ("/identity/api/v1/customers/{id}/selfie", "get"),
        ("/identity/api/v1/customers/{id}/selfie", "delete"),
        ("/identity/api/v1/customers/{id}/document", "put"),
        ("/identity/api/v1/customers/{id}/document", "delete"),
        ("/identity/api/v1/customers/{id}/document/chip/challenge", "put"),
        ("/identity/api/v1/customers/{id}/document/chip/data", "put"),
        ("/identity/api/v1/customers/{id}/document/chip/data", "get"),
        ("/identity/api/v1/customers/{id}/document/chip/portrait", "get"),
        ("/identity/api/v1/customers/{id}/document/inspect", "post"),
        ("/identity/api/v1/customers/{id}/document/inspect/disclose", "post"),
        ("/identity/api/v1/customers/{id}/inspect", "post"),
        ("/identity/api/v1/customers/{id}/inspect/disclose", "post"),
        ("/identity/api/v1/customers/{id}/document/pages", "put"),
        ("/identity/api/v1/customers/{id}/document/pages/{page-type}", "get"),
        ("/identity/api/v1/customers/{id}/document/pages/{page-type}/quality", "get"),
        ("/identity/api/v1/customers/{id}/document/portrait", "get"),
        ("/identity/api/v1/customers/{id}/document/ghost-portrait", "get"),
        ("/identity/api/v1/customers/{id}/document/signature", "get"),
        ("/identity/api/v1/customers/{id}/document/fingerprint", "get"),
        ("/identity/api/v1/metadata", "get"),
        ("/identity/api/v1/customers/{id}/liveness", "put"),
        ("/identity/api/v1/customers/{id}/liveness", "delete"),
        ("/identity/api/v1/customers/{id}/liveness/records/challenge", "put"),
        ("/identity/api/v1/customers/{id}/liveness/selfies", "post"),
        ("/identity/api/v1/customers/{id}/liveness/selfies/retrieve", "post"),
        ("/identity/api/v1/customers/{id}/liveness/records", "post"),
        ("/identity/api/v1/customers/{id}/liveness/records/{record_id}/selfie", "get"),
        ("/identity/api/v1/customers/{id}/liveness/evaluation", "post"),
        ("/danaconnect/api/biometric/start_circuit/{channel}", "post"),
        ("/danaconnect/api/biometric/circuits/{circuitId}", "get"),
        ("/danaconnect/api/biometric/circuits/{circuitId}/evidence", "get"),
        ("/verifik/v2/auth/session", "get"),
        ("/verifik/v2/auth/session", "post"),
        ("/verifik/v2/face-recognition/liveness", "post"),
        ("/verifik/v2/face-recognition/liveness-score", "post"),
        ("/verifik/v2/face-recognition/compare", "post"),
        ("/verifik/v2/face-recognition/compare-live", "post"),
        ("/verifik/v2/face-recognition/compare-with-liveness", "post"),
        ("/verifik/v2/face-recognition/detect", "post"),
        ("/verifik/v2/face-recognition/verify", "post"),
        ("/verifik/v2/face-recognition/search", "post"),
        ("/verifik/v2/face-recognition/search-live-face", "post"),
        ("/verifik/v2/face-recognition/search-active-user", "post"),
        ("/verifik/v2/face-recognition/search/crops", "post"),
        ("/verifik/v2/face-recognition/collections", "post"),
        ("/verifik/v2/face-recognition/persons", "post"),
        ("/verifik/v2/face-recognition/persons/search-live-face", "post"),
        ("/verifik/v2/face-recognition/collections", "get"),
        ("/verifik/v2/face-recognition/collections/{id}", "get"),
        ("/verifik/v2/face-recognition/collections/{id}", "put"),
        ("/verifik/v2/face-recognition/collections/{id}", "delete"),
        ("/verifik/v2/face-recognition/persons", "get"),
        ("/verifik/v2/face-recognition/persons/lookup", "get"),
        ("/verifik/v2/face-recognition/persons/{id}", "get"),
        ("/verifik/v2/face-recognition/persons/{id}", "put"),
        ("/verifik/v2/face-recognition/persons/{id}", "delete"),
        ("/verifik/v2/projects", "post"),
        ("/verifik/v2/projects", "get"),
        ("/verifik/v2/projects/{id}", "get"),
        ("/verifik/v2/projects/{id}", "put"),
        ("/verifik/v2/projects/{id}", "delete"),
        ("/verifik/v2/project-flows", "post"),
        ("/verifik/v2/project-flows", "get"),
        ("/verifik/v2/project-flows/{id}", "get"),
        ("/verifik/v2/project-flows/{id}", "put"),
        ("/verifik/v2/project-flows/{id}", "delete"),
        ("/verifik/v2/webhooks", "post"),
        ("/verifik/v2/webhooks", "get"),
        ("/verifik/v2/webhooks/{id}", "get"),
        ("/verifik/v2/webhooks/{id}", "put"),
        ("/verifik/v2/webhooks/{id}", "delete"),
        ("/verifik/v2/biometric-validations", "post"),
        ("/verifik/v2/biometric-validations", "get"),
        ("/verifik/v2/biometric-validations/{id}", "get"),
        ("/verifik/v2/biometric-validations/validate", "post"),
        ("/verifik/v2/auth/renew-and-revoke", "post"),
        ("/verifik/v2/app-registrations", "post"),
        ("/verifik/v2/app-registrations", "get"),
        ("/verifik/v2/app-registrations/{id}", "get"),
        ("/verifik/v2/biometric-validations/app-registration", "post"),
        ("/verifik/v2/app-registrations/{id}/sync", "put"),
        ("/verifik/v2/document-validations/app-registration", "post"),
        ("/verifik/v2/document-validations", "get"),
        ("/verifik/v2/document-validations/{id}", "get"),
        ("/verifik/v2/document-validations/{id}", "delete"),
        ("/verifik/v2/app-registrations/{id}/resend-link", "post"),
        ("/verifik/v2/auth/project-login", "post"),
        ("/verifik/v2/app-logins", "get"),
        ("/verifik/v2/biometric-validations/app-login", "post"),
        ("/verifik/v2/app-logins/{id}", "get"),
        ("/verifik/v2/email-validations", "post"),
        ("/verifik/v2/email-validations", "get"),
        ("/verifik/v2/email-validations/{id}", "get"),
        ("/verifik/v2/email-validations/validate", "post"),
        ("/verifik/v2/email-validations/{id}/validate", "post"),
        ("/verifik/v2/phone-validations", "post"),
        ("/verifik/v2/phone-validations", "get"),
        ("/verifik/v2/phone-validations/{id}", "get"),
        ("/verifik/v2/phone-validations/validate", "post"),
        ("/verifik/v2/phone-validations/{id}/validate", "post"),
        ("/verifik/v2/email-validations/app-registration", "post"),
        ("/verifik/v2/email-validations/app-registration/validate", "post"),
        ("/verifik/v2/email-validations/{id}", "put"),
        ("/verifik/v2/phone-validations/app-registration", "post"),
        ("/verifik/v2/phone-validations/app-registration/validate", "post"),
        ("/verifik/v2/phone-validations/{id}", "put"),
        ("/verifik/links/{id}", "get"),
        ("/verifik/links/{id}", "post"),
        ("/verifik/v3/projects", "post"),
        ("/verifik/v3/projects", "get"),
        ("/verifik/v3/projects/{id}", "get"),
        ("/verifik/v3/projects/{id}", "put"),
        ("/verifik/v3/projects/{id}", "delete"),
        ("/masstack/v1/orgs/{org_id}/sign_process", "post"),
        ("/masstack/v1/orgs/{org_id}/sign_process/{process_id}", "get"),
        ("/masstack/v1/orgs/{org_id}/biometric_signs/{sign_id}", "get"),
        ("/masstack/v1/orgs/{org_id}/biometric_signs/{sign_id}/preview", "post"),
        ("/masstack/v1/orgs/{org_id}/biometric_signs/{sign_id}/sign", "post"),
        ("/masstack/v1/orgs/{org_id}/simple_signs/{sign_id}", "get"),
        ("/masstack/v1/orgs/{org_id}/simple_signs/{sign_id}/preview", "post"),
        ("/masstack/v1/orgs/{org_id}/simple_signs/{sign_id}/sign", "post"),
        ("/vouch/v1/cases/{id}/complete", "post"),
        ("/vouch/v1/cases/{id}", "get"),
        ("/vouch/v1/webhooks/deliveries", "get"),
        ("/vouch/v1/webhooks/deliveries/{id}/retry", "post"),
        ("/vouch/v1/audit/verify", "get"),
        ("/vouch/v1/trust-records", "get"),
        ("/vouch/v1/trust-records/{id}", "get"),
        ("/vouch/v1/proofs/{id}", "get"),
        ("/vouch/v1/flows", "get"),
        ("/vouch/v1/flows", "post"),
        ("/vouch/v1/flows/{id}", "get"),
        ("/vouch/v1/flows/{id}", "put"),
        ("/vouch/v1/flows/{id}/versions/{version}", "get"),
        ("/vouch/v1/flows/{id}/default", "post"),
        ("/vouch/v1/cases/{id}/flow", "get"),
        ("/vouch/v1/cases/{id}/steps/{index}", "post"),
        ("/vouch/v1/cases/{id}/reference-photo", "put"),
        ("/vouch/v1/kiosk/pair", "post"),
        ("/vouch/v1/kiosk/{command}", "post"),
        ("/vouch/v1/kiosks/pairing-codes", "post"),
        ("/vouch/v1/kiosks", "get"),
        ("/vouch/v1/kiosks/pair", "post"),
        ("/vouch/v1/sync/cases", "get"),
        ("/vouch/v1/sync/cases/{id}/claim", "post"),
        ("/vouch/v1/sync/cases/{id}/reference-photo", "get"),
        ("/vouch/v1/sync/cases/{id}/documents/{position}", "get"),
        ("/vouch/v1/sync/cases/{id}/steps", "post"),
        ("/vouch/v1/sync/cases/{id}/steps/{index}/run", "post"),
        ("/vouch/v1/sync/cases/{id}/decision", "post"),
        ("/vouch/v1/sync/walk-in-flow", "get"),
        ("/vouch/v1/sync/walk-ins", "post"),
        ("/vouch/v1/kiosks/{id}/walk-ins", "put"),
        ("/vouch/v1/kiosks/{id}/walk-ins", "delete"),
        ("/vouch/v1/kiosk/camera/preview", "get"),
        ("/kiosk/requests/{id}", "get"),
        ("/healthz", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
        ("/docs", "get"),
    ];
    for (path, method) in expected {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} is not documented");
    }
    assert_eq!(
        paths.values().map(|p| p.as_object().unwrap().len()).sum::<usize>(),
        expected.len(),
        "an undocumented or unexpected operation"
    );
    // Every documented operation is actually served: none falls through to the 501/404 fallbacks.
    for (path, method) in expected {
        let url = kit.url(
            &path
                .replace("{id}", "1")
                .replace("{probe_face_id}", "1")
                .replace("{record_id}", "1")
                .replace("{version}", "1")
                .replace("{index}", "0")
                .replace("{page-type}", "front")
                .replace("{channel}", "x")
                .replace("{circuitId}", "1")
                .replace("{org_id}", "1")
                .replace("{sign_id}", "1")
                .replace("{process_id}", "1"),
        );
        let resp = match method {
            "get" => kit.http.get(&url).send().await.unwrap(),
            "put" => kit.http.put(&url).send().await.unwrap(),
            "delete" => kit.http.delete(&url).send().await.unwrap(),
            _ => kit.http.post(&url).send().await.unwrap(),
        };
        assert_ne!(resp.status(), StatusCode::NOT_IMPLEMENTED, "{method} {path}");
        let text = resp.text().await.unwrap();
        assert!(!text.contains("not built in Vouch") && !text.contains("does not exist"), "{method} {path}: {text}");
    }
    let docs = kit.http.get(kit.url("/docs")).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("/openapi.json"));
}

#[tokio::test]
async fn health_info_and_unbuilt_endpoints() {
    let kit = Kit::start().await;
    let health: Value = kit.http.get(kit.url("/identity/api/v1/health")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health, serde_json::json!({"status": "UP"}));
    let info: Value = kit.http.get(kit.url("/identity/api/v1/info")).send().await.unwrap().json().await.unwrap();
    for field in ["artifact", "name", "group", "version"] {
        assert!(info["build"][field].is_string(), "{info}");
    }
    assert!(info["iface"]["license"]["year"].is_string());
    assert!(info["sam"]["version"].is_string());
    assert_eq!(kit.http.get(kit.url("/healthz")).send().await.unwrap().text().await.unwrap(), "ok");

    let resp = kit.http.post(kit.url("/identity/api/v1/palms")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_IMPLEMENTED);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["errorCode"], "UNEXPECTED_ERROR");
    assert!(body["errorMessage"].as_str().unwrap().contains("not built"));
    for path in ["/verifik/v2/credits", "/danaconnect/api/biometric/templates", "/masstack/v1/orgs/1/templates"] {
        let resp = kit.http.get(kit.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_IMPLEMENTED, "{path}");
    }
    let resp = kit.http.get(kit.url("/nothing/here")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn metrics_count_requests_per_route_and_report_the_outbox() {
    let kit = Kit::start().await;
    let token = kit.eeid_token(&kit.integrator()).await;
    kit.create_ok(&token, None).await;
    kit.create_ok(&token, None).await;
    let resp = kit.http.get(kit.url("/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = resp.text().await.unwrap();
    assert!(text.contains(
        "vouch_http_requests_total{method=\"POST\",route=\"/eeid/api/ident/v1/identification_requests\",status=\"201\"} 2"
    ), "{text}");
    assert!(
        text.contains("vouch_http_request_duration_seconds_count{method=\"POST\",route=\"/eeid/api/auth/v1/token\"} 1")
    );
    assert!(text.contains("vouch_webhook_outbox_backlog 0"));
}

#[tokio::test]
async fn the_admin_audit_check_sees_tampering() {
    let kit = Kit::sqlite().await;
    let token = kit.eeid_token(&kit.integrator()).await;
    let id = kit.create_ok(&token, None).await["id"].as_str().unwrap().to_string();
    let admin = kit.oauth_token(&kit.admin()).await;
    let report: Value = kit.get(&admin, "/vouch/v1/audit/verify").await.json().await.unwrap();
    assert_eq!(report["breaks"], serde_json::json!([]));
    kit.db().execute("UPDATE audit_events SET detail = '{}' WHERE chain = ?1", [&id]).unwrap();
    let report: Value = kit.get(&admin, "/vouch/v1/audit/verify").await.json().await.unwrap();
    assert_eq!(report["breaks"][0]["chain"], id);
    let integrator = kit.oauth_token(&kit.integrator()).await;
    assert_eq!(kit.get(&integrator, "/vouch/v1/audit/verify").await.status(), StatusCode::FORBIDDEN);
}
