//! Pairing a kiosk with a central service over HTTP: an admin makes a one-time code, the kiosk exchanges it for
//! credentials of its own, and those reach no vendor API and no admin call.

use reqwest::StatusCode;
use serde_json::{json, Value};
use vouch_testkit::server::Kit;

#[tokio::test]
async fn a_kiosk_pairs_once_with_an_admins_code_and_its_token_reaches_nothing_else() {
    let kit = Kit::start().await;
    let admin = kit.oauth_token(&kit.admin()).await;
    let integrator = kit.oauth_token(&kit.integrator()).await;
    let request = json!({"name": "Desk 1", "branch": "Tallinn"});
    let refused = kit.post_json(&integrator, "/vouch/v1/kiosks/pairing-codes", &request).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "an integrator makes no pairing code");
    let made = kit.post_json(&admin, "/vouch/v1/kiosks/pairing-codes", &request).await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let code = made.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_string();

    let pair = |code: String| {
        let http = kit.http.clone();
        let url = kit.url("/vouch/v1/kiosks/pair");
        async move { http.post(url).json(&json!({"code": code})).send().await.unwrap() }
    };
    let wrong = pair("ABCD-EFGH-JKMN".into()).await;
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
    assert!(wrong.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("unknown, used or expired"));
    let paired = pair(code.to_lowercase()).await;
    assert_eq!(paired.status(), StatusCode::OK);
    let paired: Value = paired.json().await.unwrap();
    assert_eq!((paired["name"].as_str(), paired["branch"].as_str()), (Some("Desk 1"), Some("Tallinn")));
    assert_eq!(pair(code).await.status(), StatusCode::NOT_FOUND, "a code pairs once");

    let kiosk = vouch_testkit::api::Creds {
        id: paired["client_id"].as_str().unwrap().into(),
        secret: paired["client_secret"].as_str().unwrap().into(),
    };
    let token = kit.oauth_token(&kiosk).await;
    for path in ["/vouch/v1/kiosks", "/vouch/v1/webhooks/deliveries", "/eeid/api/ident/v1/identification_requests"] {
        assert_eq!(kit.get(&token, path).await.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let eeid = kit
        .http
        .post(kit.url("/eeid/api/auth/v1/token"))
        .basic_auth(&kiosk.id, Some(&kiosk.secret))
        .send()
        .await
        .unwrap();
    assert_eq!(eeid.status(), StatusCode::UNAUTHORIZED, "a vendor's token endpoint refuses a kiosk");

    let listed: Value = kit.get(&admin, "/vouch/v1/kiosks").await.json().await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], paired["kiosk_id"]);
}
