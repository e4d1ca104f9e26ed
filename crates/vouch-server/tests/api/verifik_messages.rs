//! Verifik's messages to people through the operator's message relay: an app registration's e-mail and phone
//! codes go to the registrant (never back to their token), sealed at rest until the relay has them, and the
//! registrant proves they received them.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use vouch_testkit::receiver::Receiver;
use vouch_testkit::server::Kit;

use super::verifik::{assert_envelope, assert_error, login_flow, record, token};

const RELAY_SECRET: &str = "whsec_cmVsYXktc2lnbmluZy1zZWNyZXQtZm9yLXRlc3Rz";

/// The messages the relay received so far, each checked against the relay's signature.
fn messages(relay: &Receiver) -> Vec<Value> {
    relay
        .received
        .lock()
        .unwrap()
        .iter()
        .map(|(headers, body)| {
            let header = |name: &str| headers[name].to_str().unwrap().to_string();
            let timestamp: i64 = header("webhook-timestamp").parse().unwrap();
            let signature =
                vouch_app::webhooks::standard_signature(RELAY_SECRET, &header("webhook-id"), timestamp, body).unwrap();
            assert_eq!(header("webhook-signature"), signature, "signed with the relay's secret");
            serde_json::from_slice(body).unwrap()
        })
        .collect()
}

async fn registrant(kit: &Kit, jwt: &str, who: Value) -> (String, String) {
    let (status, body) = record(kit, Method::POST, jwt, "/app-registrations", who).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = &body["data"];
    (data["appRegistration"]["_id"].as_str().unwrap().to_string(), data["token"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn an_app_registrations_codes_reach_the_registrant_through_the_relay_and_prove_their_contact() {
    // The relay is down for the first try, then queues what it gets with its gateway (202).
    let relay = Receiver::start(&[503]).await;
    relay.answer_from_now(202);
    let relay_url = relay.url.clone();
    let kit = Kit::sqlite_with(|cfg| {
        cfg.message_relay =
            Some(vouch_app::webhooks::MessageRelay { url: relay_url, secret: RELAY_SECRET.to_string() });
    })
    .await;
    let hooks = Receiver::start(&[]).await;
    let creds = kit.client(vouch_core::Scope::Integrator, Some(&hooks.url), None);
    let jwt = token(&kit, &creds).await;
    let (project, flow) = login_flow(&kit, &jwt).await;
    let (registration, ann) = registrant(
        &kit,
        &jwt,
        json!({"project": project, "projectFlow": flow, "email": "ann.lee@example.com", "fullName": "Ann Lee"}),
    )
    .await;
    let ask = |token: &str, path: &'static str, body: Value| {
        let (kit, token) = (&kit, token.to_string());
        async move { kit.send_json(Method::POST, &token, path, &body).await }
    };
    let email_asked = json!({"project": project, "validationMethod": "verificationCode", "email": "Ann.Lee@example.com", "type": "onboarding"});

    // Refusals first: another address than the registration's, a method Vouch does not run, no token.
    let mut other = email_asked.clone();
    other["email"] = json!("someone@example.com");
    let (status, body) = ask(&ann, "/verifik/v2/email-validations/app-registration", other).await;
    assert_error(
        status,
        &body,
        StatusCode::CONFLICT,
        "MissingParameter",
        "\"email\" is not the one this registration was made with",
    );
    let mut manual = email_asked.clone();
    manual["validationMethod"] = json!("manual");
    let (status, _) = ask(&ann, "/verifik/v2/email-validations/app-registration", manual).await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
    let (status, _) = ask(&jwt, "/verifik/v2/email-validations/app-registration", email_asked.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the integrator's token is not a registrant's");

    // The code goes to the registrant's address through the relay, never back to the token that asked.
    let (status, body) = ask(&ann, "/verifik/v2/email-validations/app-registration", email_asked.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_envelope(&body);
    let created = body["data"].clone();
    let id = created["_id"].as_str().unwrap().to_string();
    assert_eq!(
        (created["status"].as_str(), created["sent"].as_bool(), created["appRegistration"].as_str()),
        (Some("sent"), Some(true), Some(registration.as_str()))
    );
    assert!(created.get("verificationCode").is_none() && created.get("otp").is_none(), "{created}");
    assert!(vouch_testkit::eventually(Duration::from_secs(20), || relay.successes() >= 1).await);
    let tries = messages(&relay);
    assert_eq!(tries.len(), 2, "retried after the 503, then taken");
    assert_eq!(tries[0], tries[1], "the same message on each try");
    let sent = tries[1].clone();
    assert_eq!(
        (sent["channel"].as_str(), sent["to"].as_str(), sent["template"].as_str(), sent["language"].as_str()),
        (Some("email"), Some("ann.lee@example.com"), Some("verification_code"), Some("en"))
    );
    let code = sent["data"]["code"].as_str().unwrap().to_string();
    assert!(code.len() == 6 && sent["text"].as_str().unwrap().contains(&code), "{sent}");
    assert_eq!(sent["subject"], "Your verification code (Branch)", "from the registration's project");

    // Nothing at rest holds the code: the delivered message was emptied, the integrator's events never had it.
    // The relay answers before the dispatcher records its answer, so the emptying is waited for.
    let db = kit.db();
    let emptied = || {
        let n: i64 = db
            .query_row("SELECT count(*) FROM webhook_deliveries WHERE message = 1 AND length(body) = 0", [], |r| {
                r.get(0)
            })
            .unwrap();
        n == 1
    };
    assert!(vouch_testkit::eventually(Duration::from_secs(20), emptied).await);
    let bodies: Vec<Vec<u8>> = db
        .prepare("SELECT body FROM webhook_deliveries")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(bodies.iter().all(|b| !b.windows(6).any(|w| w == code.as_bytes())));

    // A wrong code, a missing one, someone else's validation; then the right code proves the address.
    let check = |token: &str, body: Value| {
        let (kit, token, path) = (&kit, token.to_string(), format!("/verifik/v2/email-validations/{id}"));
        async move { kit.send_json(Method::PUT, &token, &path, &body).await }
    };
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, body) = check(&ann, json!({"email": "ann.lee@example.com", "otp": wrong})).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "otp_does_not_match", "403:otp_does_not_match");
    let (status, body) = check(&ann, json!({"email": "ann.lee@example.com"})).await;
    assert_error(status, &body, StatusCode::CONFLICT, "MissingParameter", "missing_email_and_otp");
    let (_, bob) = registrant(
        &kit,
        &jwt,
        json!({"project": project, "projectFlow": flow, "phone": "3001234567", "countryCode": "+57", "fullName": "Bob Ray"}),
    )
    .await;
    let (status, body) = check(&bob, json!({"email": "ann.lee@example.com", "otp": code})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "email_validation_not_found", "404:email_validation_not_found");
    let (status, body) = check(&ann, json!({"email": "ann.lee@example.com", "otp": code})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"],
        json!({"_id": id, "status": "validated", "email": "ann.lee@example.com", "type": "onboarding",
            "showFaceLivenessRecommendation": true})
    );
    let (status, body) = check(&ann, json!({"email": "ann.lee@example.com", "otp": code})).await;
    assert_error(status, &body, StatusCode::CONFLICT, "Conflict", "already_validated");
    let (_, shown) = record(&kit, Method::GET, &jwt, &format!("/app-registrations/{registration}"), json!({})).await;
    assert_eq!(
        (shown["data"]["emailValidation"].as_str(), shown["data"]["status"].as_str()),
        (Some(id.as_str()), Some("ONGOING"))
    );
    let (status, shown) = record(&kit, Method::GET, &jwt, &format!("/email-validations/{id}"), json!({})).await;
    assert_eq!((status, shown["data"]["status"].as_str()), (StatusCode::OK, Some("validated")), "{shown}");

    // A phone's code goes by SMS, without a subject, in the registrant's language; validated by their newest one.
    let phone_asked = json!({"validationMethod": "verificationCode", "phone": "3001234567", "countryCode": "+57", "type": "onboarding"});
    let (status, body) = ask(&bob, "/verifik/v2/phone-validations/app-registration", phone_asked.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(vouch_testkit::eventually(Duration::from_secs(20), || relay.successes() >= 2).await);
    let sms = messages(&relay).remove(2);
    assert_eq!(
        (sms["channel"].as_str(), sms["to"].as_str(), &sms["subject"]),
        (Some("sms"), Some("+57 3001234567"), &Value::Null)
    );
    let by_newest = json!({"phone": "3001234567", "countryCode": "+57", "otp": sms["data"]["code"]});
    let (status, body) = ask(&bob, "/verifik/v2/phone-validations/app-registration/validate", by_newest).await;
    assert_eq!((status, body["data"]["status"].as_str()), (StatusCode::OK, Some("validated")), "{body}");

    // Asking again while a code waits sends a fresh one to the same validation; the old code no longer opens it.
    let (_, body) = ask(&bob, "/verifik/v2/phone-validations/app-registration", phone_asked.clone()).await;
    let waiting = body["data"]["_id"].as_str().unwrap().to_string();
    assert_eq!(body["data"]["existing"], false);
    let (status, body) = ask(&bob, "/verifik/v2/phone-validations/app-registration", phone_asked.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["data"]["_id"].as_str(), body["data"]["existing"].as_bool(), body["data"]["sends"].as_i64()),
        (Some(waiting.as_str()), Some(true), Some(2))
    );
    assert!(vouch_testkit::eventually(Duration::from_secs(20), || relay.successes() >= 4).await);
    let sent = messages(&relay);
    let (old, new) = (sent[3]["data"]["code"].clone(), sent[4]["data"]["code"].clone());
    assert_ne!(old, new);
    let by_id = |code: Value| {
        let (kit, token, path) = (&kit, bob.clone(), format!("/verifik/v2/phone-validations/{waiting}"));
        async move {
            kit.send_json(
                Method::PUT,
                &token,
                &path,
                &json!({"phone": "3001234567", "countryCode": "+57", "otp": code}),
            )
            .await
        }
    };
    assert_eq!(by_id(old).await.0, StatusCode::FORBIDDEN);
    assert_eq!(by_id(new).await.0, StatusCode::OK);

    // A registrant's token cannot make Vouch flood a number: four sends a validation, five validations an hour.
    for n in 0..12 {
        let (status, body) = ask(&bob, "/verifik/v2/phone-validations/app-registration", phone_asked.clone()).await;
        assert_eq!((status, body["data"]["existing"].as_bool()), (StatusCode::OK, Some(n % 4 != 0)), "ask {n}: {body}");
    }
    let (status, _) = ask(&bob, "/verifik/v2/phone-validations/app-registration", phone_asked).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    // A biometric validation's link goes to the person's e-mail when asked (sendViaEmail), in their language.
    let validation = |extra: Value| {
        let mut body = json!({"project": project, "projectFlow": flow, "identifier": "ann", "type": "validation",
            "sendViaEmail": true, "language": "es"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    let (status, body) = record(&kit, Method::POST, &jwt, "/biometric-validations", validation(json!({}))).await;
    assert_error(
        status,
        &body,
        StatusCode::CONFLICT,
        "MissingParameter",
        "\"email\" is required when sendViaEmail is true",
    );
    let before = relay.successes();
    let (status, body) =
        record(&kit, Method::POST, &jwt, "/biometric-validations", validation(json!({"email": "ann.lee@example.com"})))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let url = body["data"]["biometricValidation"]["url"].as_str().unwrap().to_string();
    assert!(vouch_testkit::eventually(Duration::from_secs(20), || relay.successes() > before).await);
    let link = messages(&relay).pop().unwrap();
    assert_eq!(
        (link["template"].as_str(), link["to"].as_str(), link["data"]["url"].as_str()),
        (Some("biometric_validation_link"), Some("ann.lee@example.com"), Some(url.as_str()))
    );
    assert!(link["text"]
        .as_str()
        .unwrap()
        .starts_with(&format!("Abre este enlace para verificar tu identidad: {url}")));

    // The integrator heard of each validation, without its code.
    let heard = vouch_testkit::eventually(Duration::from_secs(20), || {
        hooks
            .received
            .lock()
            .unwrap()
            .iter()
            .any(|(_, b)| String::from_utf8_lossy(b).contains("email_validation_status"))
    })
    .await;
    assert!(heard);
}

#[tokio::test]
async fn a_link_by_message_validates_when_the_person_confirms_it_and_never_by_being_opened() {
    let relay = Receiver::start(&[]).await;
    let relay_url = relay.url.clone();
    let kit = Kit::start_with(|cfg| {
        cfg.message_relay =
            Some(vouch_app::webhooks::MessageRelay { url: relay_url, secret: RELAY_SECRET.to_string() });
    })
    .await;
    let jwt = token(&kit, &kit.integrator()).await;
    let (project, flow) = login_flow(&kit, &jwt).await;
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    // A login by magic link: the link goes to the person only, never in the answer.
    let asked = json!({"project": project, "projectFlow": flow, "validationMethod": "magicLink", "type": "login",
        "email": "ann.lee@example.com", "redirectUrl": "https://app.example/signed-in?from=vouch", "language": "es"});
    let (status, body) = record(&kit, Method::POST, &jwt, "/email-validations", asked).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["data"]["_id"].as_str().unwrap().to_string();
    assert!(body["data"].get("verificationCode").is_none() && !body.to_string().contains("/verifik/links/"), "{body}");
    assert!(vouch_testkit::eventually(Duration::from_secs(20), || relay.successes() >= 1).await);
    let sent = messages(&relay).remove(0);
    assert_eq!((sent["template"].as_str(), sent["language"].as_str()), (Some("confirmation_link"), Some("es")));
    let link = sent["data"]["url"].as_str().unwrap().to_string();
    assert!(link.starts_with(&kit.url(&format!("/verifik/links/{id}?key="))), "{link}");
    let key = link.split("key=").nth(1).unwrap().to_string();
    assert_eq!(key.len(), 43, "256 random bits");

    // Opening the link (as a mail scanner would, twice) changes nothing; it shows a button.
    for _ in 0..2 {
        let page = browser.get(&link).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
        let html = page.text().await.unwrap();
        assert!(
            html.contains("Confirma que esta dirección es tuya.") && html.contains(&format!("value=\"{key}\"")),
            "{html}"
        );
    }
    let (_, shown) = record(&kit, Method::GET, &jwt, &format!("/email-validations/{id}"), json!({})).await;
    assert_eq!(
        (shown["data"]["status"].as_str(), shown["data"]["attempts"].as_i64()),
        (Some("new"), Some(0)),
        "{shown}"
    );

    // The button: a wrong key is refused; the right one validates, logs in and sends the person on with the token.
    let press = |key: String| {
        let (browser, url) = (browser.clone(), kit.url(&format!("/verifik/links/{id}")));
        async move { browser.post(url).form(&[("key", key)]).send().await.unwrap() }
    };
    assert_eq!(press("x".repeat(43)).await.status(), StatusCode::FORBIDDEN);
    let confirmed = press(key.clone()).await;
    assert_eq!(confirmed.status(), StatusCode::SEE_OTHER);
    let onward = confirmed.headers()["location"].to_str().unwrap().to_string();
    let token = onward.strip_prefix("https://app.example/signed-in?from=vouch&token=").expect(&onward).to_string();
    let (_, shown) = record(&kit, Method::GET, &jwt, &format!("/email-validations/{id}"), json!({})).await;
    assert_eq!((shown["data"]["status"].as_str(), shown["data"]["attempts"].as_i64()), (Some("validated"), Some(2)));
    let (status, body) = kit.send_json(Method::POST, &token, "/verifik/v2/auth/project-login", &json!({})).await;
    assert_eq!(status, StatusCode::OK, "the token is the person's app login: {body}");
    assert_eq!(press(key).await.status(), StatusCode::CONFLICT, "used once");

    // By phone, without a redirect: the page says it is done. A validation by code has no link page.
    let asked =
        json!({"project": project, "validationMethod": "oneTimeLink", "phone": "3001234567", "countryCode": "+57"});
    let (_, body) = record(&kit, Method::POST, &jwt, "/phone-validations", asked).await;
    let phone_id = body["data"]["_id"].as_str().unwrap().to_string();
    assert!(vouch_testkit::eventually(Duration::from_secs(20), || relay.successes() >= 2).await);
    let sms = messages(&relay).remove(1);
    assert_eq!(sms["channel"], "sms");
    let key = sms["data"]["url"].as_str().unwrap().split("key=").nth(1).unwrap().to_string();
    let done = browser.post(kit.url(&format!("/verifik/links/{phone_id}"))).form(&[("key", key)]).send().await.unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    assert!(done.text().await.unwrap().contains("your address is confirmed"));
    let by_code = json!({"project": project, "validationMethod": "verificationCode", "email": "bo@example.com"});
    let (_, body) = record(&kit, Method::POST, &jwt, "/email-validations", by_code).await;
    let code_id = body["data"]["_id"].as_str().unwrap();
    let code = body["data"]["verificationCode"].as_str().unwrap();
    let page = browser.post(kit.url(&format!("/verifik/links/{code_id}"))).form(&[("key", code)]).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn without_a_relay_what_needs_a_message_answers_501_and_says_how_to_set_one() {
    let kit = Kit::start().await;
    let jwt = token(&kit, &kit.integrator()).await;
    let (project, flow) = login_flow(&kit, &jwt).await;
    let (_, ann) =
        registrant(&kit, &jwt, json!({"project": project, "projectFlow": flow, "email": "ann.lee@example.com"})).await;
    let asked = json!({"validationMethod": "verificationCode", "email": "ann.lee@example.com", "type": "onboarding"});
    let (status, body) =
        kit.send_json(Method::POST, &ann, "/verifik/v2/email-validations/app-registration", &asked).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_IMPLEMENTED, Some("NotImplemented")));
    assert!(body["message"].as_str().unwrap().contains("[messages] relay_url"), "{body}");
    assert_eq!(kit.count("api_records WHERE kind = 'email_validation'"), 0);
    let link = json!({"project": project, "projectFlow": flow, "identifier": "ann", "sendViaEmail": true, "email": "ann.lee@example.com"});
    let (status, _) = record(&kit, Method::POST, &jwt, "/biometric-validations", link).await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(kit.count("cases"), 0, "nothing is opened that could not be sent");
    let by_link = json!({"project": project, "validationMethod": "magicLink", "email": "ann.lee@example.com"});
    let (status, _) = record(&kit, Method::POST, &jwt, "/email-validations", by_link).await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
}
