//! The kiosk's document_chip step over HTTP: the DEMO chip in process, and a generated passport through the
//! real pcscd and the vpcd reader, lifted off mid-read and read again when it is back.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use vouch_chip::emulator::chip::{ChipOptions, EmulatedChip};
use vouch_chip::emulator::passport::{PassportSpec, TestPassport};
use vouch_chip::emulator::pcscd::Pcscd;
use vouch_chip::emulator::vpcd::{Emulator, DEFAULT_PORT};
use vouch_chip::lds::face;
use vouch_core::Scope;
use vouch_server::chip::ChipSource;
use vouch_server::config::ServerConfig;

use vouch_testkit::server::Kit;

async fn kit_with_chip_case(tweak: impl FnOnce(&mut ServerConfig)) -> (Kit, String) {
    let kit = Kit::start_with(tweak).await;
    let admin = kit.kiosk_admin().await;
    let steps = json!([{"kind": "document_chip"}, {"kind": "result"}]);
    kit.default_flow(&admin, "chip", steps).await;
    let token = kit.eeid_token(&kit.client(Scope::Integrator, None, None)).await;
    let request = kit.create_ok(&token, None).await;
    let opened = kit.kiosk_ok(None, "case_open", json!({"code": request["link"]})).await;
    (kit, opened["case_id"].as_str().unwrap().to_string())
}

/// Polls the read until `done(view)` holds, or fails after `limit`.
async fn poll_until(kit: &Kit, case_id: &str, limit: Duration, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let view = kit.kiosk_ok(None, "chip_read_progress", json!({"case_id": case_id, "index": 0})).await;
        if done(&view) {
            return view;
        }
        assert!(Instant::now() < deadline, "gave up waiting; the read is at {view}");
        assert_ne!(view["state"], "failed", "{view}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn chip_evidence(kit: &Kit) -> Vec<String> {
    let rows = kit.text_rows("SELECT media_type FROM evidence WHERE kind = 'chip_data'");
    rows.into_iter().map(|r| r[0].clone().unwrap()).collect()
}

#[tokio::test]
async fn the_demo_chip_is_read_decided_and_kept_and_bad_access_data_is_refused() {
    let (kit, case_id) = kit_with_chip_case(|c| c.chip = ChipSource::Demo).await;
    let status = kit.kiosk_ok(None, "chip_status", json!({})).await;
    assert_eq!((status["source"].as_str(), status["demo"].as_bool()), (Some("demo"), Some(true)), "{status}");
    let can = status["demo_passport"]["can"].as_str().unwrap().to_string();

    // The customer cannot claim the step.
    let status = kit.claim_step(&case_id, 0, "document_chip").await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Malformed access data is refused before any read, with the rule it breaks.
    for (args, says) in [
        (json!({"can": "12345"}), "6 digits"),
        (json!({"document_number": "L898902C3", "date_of_birth": "741312", "date_of_expiry": "340415"}), "YYMMDD"),
        (
            json!({"mrz": "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F3404159ZE184226B<<<<<19"}),
            "check digits",
        ),
        (json!({}), "CAN"),
    ] {
        let mut args = args;
        args["case_id"] = json!(case_id);
        args["index"] = json!(0);
        let (status, body) = kit.kiosk(None, "chip_read_begin", args).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body["message"].as_str().unwrap().contains(says), "{body}");
    }
    // A CAN the chip refuses ends the read with access_denied; nothing is recorded.
    kit.kiosk_ok(None, "chip_read_begin", json!({"case_id": case_id, "index": 0, "can": "000000"})).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let failed = loop {
        let v = kit.kiosk_ok(None, "chip_read_progress", json!({"case_id": case_id, "index": 0})).await;
        if v["state"] == "failed" || Instant::now() > deadline {
            break v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(failed["error"]["code"], "access_denied", "{failed}");
    assert!(chip_evidence(&kit).is_empty());

    kit.kiosk_ok(None, "chip_read_begin", json!({"case_id": case_id, "index": 0, "can": can})).await;
    let done = poll_until(&kit, &case_id, Duration::from_secs(30), |v| v["state"] == "done").await;
    assert_eq!(done["outcome"], "passed", "{done}");
    assert_eq!(done["demo"], true);
    for file in ["EF.COM", "EF.SOD", "DG1", "DG2", "DG15"] {
        assert!(done["files_done"].as_array().unwrap().iter().any(|f| f == file), "{file} in {done}");
    }
    assert_eq!(done["session"]["next"]["state"], "awaiting_decision", "{done}");
    let step = &done["session"]["done"][0];
    let detail = &step["detail"];
    assert_eq!(detail["demo"], true);
    assert_eq!(detail["inspection"]["data_authentication"], "AUTHENTICATED", "{detail}");
    assert_eq!(detail["inspection"]["chip_authentication"], "AUTHENTICATED", "{detail}");
    // The kiosk's own reader ran chip authentication (DG14), so that is what the verdict rests on.
    assert_eq!(detail["inspection"]["chip_authentication_type"], "CHIP_AUTHENTICATION", "{detail}");
    assert_eq!(detail["holder"]["surname"], "ERIKSSON");
    assert_eq!(detail["access_control"]["protocol"], "PACE");
    assert_eq!(chip_evidence(&kit), vec![vouch_app::kiosk::CHIP_DATA_MEDIA_TYPE.to_string()]);

    // Approved, then past retention: the personal data leaves the case's rows, not only its evidence files.
    let admin = kit.kiosk_ok(None, "sign_in", json!({"role": "admin", "pin": vouch_testkit::server::ADMIN_PIN})).await;
    let admin = admin["session"].as_str().unwrap();
    let identity = json!({"sub": "EE30303039914", "given_name": "ANNA MARIA", "family_name": "ERIKSSON",
                          "date_of_birth": "1974-08-12", "country": "ee", "document_type": "passport"});
    let decision = json!({"case_id": case_id, "outcome": "approved", "reason": "chip read", "identity": identity});
    kit.kiosk_ok(Some(admin), "case_decide", decision).await;
    let personal = ["ERIKSSON", "L898902C3", "740812", "1974-08-12", "EE30303039914"];
    let case_rows = |kit: &Kit| -> String {
        let cases = kit.text_rows(&format!("SELECT claims, decision FROM cases WHERE id = '{case_id}'"));
        let steps = kit.text_rows(&format!("SELECT detail FROM case_steps WHERE case_id = '{case_id}'"));
        cases.into_iter().chain(steps).flatten().flatten().collect::<Vec<_>>().join(" ")
    };
    let before = case_rows(&kit);
    assert!(personal.iter().filter(|p| before.contains(*p)).count() >= 3, "the rows held personal data: {before}");
    let forty_days_ago = vouch_store::to_ms(vouch_store::now()) - 40 * 24 * 3600 * 1000;
    kit.execute(&format!("UPDATE cases SET updated_at = {forty_days_ago} WHERE id = '{case_id}'"));
    let settings = json!({"retention_days": 30, "default_language": "en", "idle_timeout_secs": 60});
    kit.kiosk_ok(Some(admin), "settings_save", settings).await;
    let purged = kit.kiosk_ok(Some(admin), "purge_now", json!({})).await;
    assert_eq!(purged["cases"], 1, "{purged}");
    let after = case_rows(&kit);
    for p in personal {
        assert!(!after.contains(p), "{p} outlived the purge: {after}");
    }
    let review = kit.kiosk_ok(Some(admin), "case_detail", json!({"case_id": case_id})).await;
    assert_eq!(review["case"]["status"], "completed", "outcomes stay: {review}");
    assert_eq!(review["case"]["claims"][0]["type"], "sub", "claim types stay: {review}");
}

#[tokio::test]
async fn a_passport_on_a_real_reader_is_read_again_after_it_is_lifted_too_soon() {
    let Some(daemon) = Pcscd::start() else {
        panic!("pcscd with the vpcd driver is needed: apt-get install pcscd vsmartcard-vpcd (make test installs them)");
    };
    let portrait = vouch_testkit::fixture("chip/portrait.jp2");
    let size = face::image_size(&portrait).unwrap();
    let passport = TestPassport::generate(&PassportSpec::specimen(portrait, size)).unwrap();
    let csca = tempfile::tempdir().unwrap();
    std::fs::write(csca.path().join("utopia.pem"), passport.csca_pem()).unwrap();
    let (reader, dir) = (daemon.reader.clone(), csca.path().to_path_buf());
    let (kit, case_id) = kit_with_chip_case(move |c| {
        c.chip = ChipSource::Pcsc { reader: Some(reader) };
        c.csca_dir = Some(dir);
    })
    .await;

    // Short reads make many APDUs, so the lift-off lands in the middle of the portrait.
    let emulator = Emulator::start(
        EmulatedChip::new(passport, ChipOptions { extended_length: false, ..ChipOptions::default() }),
        DEFAULT_PORT,
    );
    emulator.remove();
    let status = kit.kiosk_ok(None, "chip_status", json!({})).await;
    assert_eq!(status["source"], "pcsc");
    assert!(status["readers"].as_array().unwrap().iter().any(|r| r["name"] == daemon.reader.as_str()), "{status}");

    kit.kiosk_ok(
        None,
        "chip_read_begin",
        json!({"case_id": case_id, "index": 0, "document_number": "L898902C3", "date_of_birth": "740812", "date_of_expiry": "340415"}),
    )
    .await;
    // No passport yet: the kiosk waits for one.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let waiting = kit.kiosk_ok(None, "chip_read_progress", json!({"case_id": case_id, "index": 0})).await;
    assert_eq!(waiting["state"], "waiting_for_card", "{waiting}");
    assert_eq!(waiting["demo"], false);

    // Placed, then lifted after 40 APDUs: the kiosk says so and waits for it again.
    emulator.remove_after(40);
    emulator.insert();
    let lifted = poll_until(&kit, &case_id, Duration::from_secs(30), |v| v["retry"] == "card_removed").await;
    assert_eq!(lifted["state"], "waiting_for_card", "{lifted}");
    assert!(chip_evidence(&kit).is_empty(), "nothing is recorded from a broken read");

    // Back on the reader: read from the start and decided.
    emulator.insert();
    let done = poll_until(&kit, &case_id, Duration::from_secs(60), |v| v["state"] == "done").await;
    assert_eq!(done["outcome"], "passed", "{done}");
    assert_eq!(done["reader"], daemon.reader.as_str());
    let detail = &done["session"]["done"][0]["detail"];
    assert_eq!(detail["demo"], false);
    assert_eq!(detail["inspection"]["data_authentication"], "AUTHENTICATED", "{detail}");
    assert_eq!(detail["read"]["extended_length"], false);
    assert_eq!(chip_evidence(&kit).len(), 1);
}
