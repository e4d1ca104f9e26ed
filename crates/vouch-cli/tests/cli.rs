#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The real `vouch` binary as an operator runs it: separate processes, a real data directory,
//! SIGKILL in the middle of work.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use vouch_testkit::api::{Api, Creds};
use vouch_testkit::receiver::Receiver;
use vouch_testkit::{approval, eventually};

const VOUCH: &str = env!("CARGO_BIN_EXE_vouch");

fn vouch(data: &Path, args: &[&str]) -> std::process::Output {
    vouch_in(data, &[], args)
}

/// `vouch --data-dir DATA ARGS` with `env` (object storage keys, PGPASSWORD).
fn vouch_in(data: &Path, env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let mut command = Command::new(VOUCH);
    command.arg("--data-dir").arg(data).args(args).envs(env.iter().copied()).env("VOUCH_LOG", "warn");
    command.output().unwrap()
}

/// The credentials in a `--json` answer of `clients add`, or of a kiosk's pairing.
fn credentials(v: &Value) -> Creds {
    Creds { id: v["client_id"].as_str().unwrap().into(), secret: v["client_secret"].as_str().unwrap().into() }
}

fn add_client(data: &Path, extra: &[&str]) -> Creds {
    let mut args = vec!["clients", "add", "--name", "test", "--json"];
    args.extend_from_slice(extra);
    let out = vouch(data, &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    credentials(&v)
}

struct Server {
    child: Child,
    base: String,
    first_lines: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `vouch serve` on a free port, logging to `log` at `level`, and waits for its address line.
fn serve(data: &Path, log: &Path, level: &str) -> Server {
    serve_with(data, log, level, &["--bind", "127.0.0.1:0"])
}

fn serve_with(data: &Path, log: &Path, level: &str, args: &[&str]) -> Server {
    serve_with_env(data, log, level, args, &[])
}

fn serve_with_env(data: &Path, log: &Path, level: &str, args: &[&str], envs: &[(&str, &str)]) -> Server {
    let mut child = Command::new(VOUCH)
        .arg("--data-dir")
        .arg(data)
        .arg("serve")
        .args(args)
        .env("VOUCH_LOG", level)
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .stderr(std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let base = loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("vouch serve printed its address");
        lines.push(line.clone());
        if let Some(rest) = line.split("serving on ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    // Keep reading the rest of the banner briefly (the first-run hint follows the address).
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(300)) {
        lines.push(line);
    }
    Server { child, base, first_lines: lines }
}

/// An eeID token for `client` from the server at `base`.
async fn token(base: &str, client: &Creds) -> String {
    Api::new(base, reqwest::Client::new()).eeid_token(client).await
}

fn data_dir(tmp: &tempfile::TempDir) -> PathBuf {
    tmp.path().join("data")
}

#[tokio::test]
async fn a_pending_webhook_survives_sigkill_and_is_delivered_after_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data_dir(&tmp);
    let log = tmp.path().join("server.log");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("vouch.toml"), "[webhooks]\nbackoff_secs = 3.0\nretries = 3\n").unwrap();
    let hook = Receiver::start(&[]).await;
    hook.answer_from_now(500);
    let integrator = add_client(&data, &["--webhook-url", &hook.url]);
    let admin = add_client(&data, &["--scope", "admin"]);

    let mut server = serve(&data, &log, "info");
    let api = Api::new(&server.base, reqwest::Client::new());
    let t = api.eeid_token(&integrator).await;
    let body = json!({"reference": "crash-test", "claims_required": [{"type": "sub", "value": "EE30303039914"}]});
    let id = api.create_request(&t, body).await.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let admin = api.oauth_token(&admin).await;
    assert_eq!(api.complete(&admin, &id, &approval()).await.status().as_u16(), 200);

    // The first attempt fails; kill the server hard while the delivery waits for its retry. Waiting for the failure
    // to be recorded first: a kill between the receiver's answer and that record leaves the delivery claimed, due
    // again only when its lease ends (a minute), which is the crash path of a store test, not of this one.
    assert!(eventually(Duration::from_secs(20), || hook.hits() >= 1).await);
    let recorded = || -> bool {
        let db = rusqlite::Connection::open(data.join("vouch.db")).unwrap();
        db.query_row("SELECT attempts FROM webhook_deliveries", [], |r| r.get::<_, i64>(0)).unwrap_or(0) >= 1
    };
    assert!(eventually(Duration::from_secs(20), recorded).await, "the failed attempt is recorded");
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let hits_before_restart = hook.hits();
    assert_eq!(hook.successes(), 0);
    hook.answer_from_now(204);

    let _restarted = serve(&data, &log, "info");
    assert!(
        eventually(Duration::from_secs(30), || hook.successes() == 1).await,
        "the delivery pending at the crash is delivered after restart"
    );
    assert!(hook.hits() > hits_before_restart);
    let db = rusqlite::Connection::open(data.join("vouch.db")).unwrap();
    let delivery = || -> (String, i64) {
        db.query_row("SELECT status, attempts FROM webhook_deliveries", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap()
    };
    // The receiver counts its success as it answers; the server records it a moment later.
    eventually(Duration::from_secs(10), || delivery().0 == "delivered").await;
    let (status, attempts) = delivery();
    assert_eq!(status, "delivered");
    let successes: i64 =
        db.query_row("SELECT count(*) FROM webhook_attempts WHERE success = 1", [], |r| r.get(0)).unwrap();
    assert_eq!(successes, 1);
    // At least once: an attempt the receiver saw may not be recorded if the kill landed between the two,
    // so the log can hold fewer attempts than the receiver saw, never more, and always the one success.
    let hits = hook.hits() as i64;
    assert!((1..=hits).contains(&attempts), "{attempts} recorded attempts, {hits} received");
}

#[tokio::test]
async fn logs_never_contain_secrets_tokens_or_personal_data() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data_dir(&tmp);
    let log = tmp.path().join("server.log");
    let hook = Receiver::start(&[]).await;
    let integrator = add_client(&data, &["--webhook-url", &hook.url]);
    let admin = add_client(&data, &["--scope", "admin"]);
    let server = serve(&data, &log, "debug");
    let (base, http) = (server.base.clone(), reqwest::Client::new());
    let api = Api::new(&base, http.clone());
    let t = api.eeid_token(&integrator).await;
    // With a query string, which must never reach the log.
    let body = json!({"claims_required": [{"type": "sub", "value": "EE30303039914"}, {"type": "name", "value": "Mari-Liis Männik"}]});
    let created = api.post_json(&t, "/eeid/api/ident/v1/identification_requests?page=1", &body).await;
    let id = created.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let admin_token = api.oauth_token(&admin).await;
    assert_eq!(api.complete(&admin_token, &id, &approval()).await.status(), StatusCode::OK);
    assert!(eventually(Duration::from_secs(20), || hook.successes() == 1).await);
    let _ = http
        .post(format!("{base}/oauth/token"))
        .basic_auth(&integrator.id, Some("wrong-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await;
    drop(server);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("request"), "the log was written: {text}");
    let names = ["EE30303039914", "Mari-Liis", "Männik", "1903-03-03"];
    for secret in [&integrator.secret, &admin.secret, &t, &admin_token, "wrong-secret"].into_iter().chain(names) {
        assert!(!text.contains(secret), "the log contains {secret:?}");
    }
}

#[tokio::test]
async fn first_run_hint_clients_and_revocation() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data_dir(&tmp);
    let server = serve(&data, &tmp.path().join("log"), "warn");
    let banner = server.first_lines.join("\n");
    assert!(banner.contains("clients add"), "first run tells how to create a client:\n{banner}");
    let client = add_client(&data, &[]);
    let list = vouch(&data, &["clients", "list"]);
    assert!(String::from_utf8_lossy(&list.stdout).contains(&client.id));
    assert!(!String::from_utf8_lossy(&list.stdout).contains(&client.secret), "the secret is shown only once");

    let http = reqwest::Client::new();
    let t = token(&server.base, &client).await;
    let url = format!("{}/eeid/api/ident/v1/identification_requests", server.base);
    assert_eq!(http.get(&url).bearer_auth(&t).send().await.unwrap().status().as_u16(), 200);
    let out = vouch(&data, &["clients", "revoke", &client.id]);
    assert!(out.status.success());
    // Revoked from another process: the running server refuses the token at once.
    assert_eq!(http.get(&url).bearer_auth(&t).send().await.unwrap().status().as_u16(), 401);
    let again = vouch(&data, &["clients", "revoke", "vouch-nobody"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("no client"));
    drop(server);
    // A second start is not a first run.
    let server = serve(&data, &tmp.path().join("log"), "warn");
    assert!(!server.first_lines.join("\n").contains("First run"));
}

#[test]
fn audit_verify_passes_then_detects_a_tampered_row() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data_dir(&tmp);
    add_client(&data, &[]);
    add_client(&data, &["--scope", "admin"]);
    let ok = vouch(&data, &["audit", "verify"]);
    assert!(ok.status.success());
    assert!(String::from_utf8_lossy(&ok.stdout).contains("intact"));
    let db = rusqlite::Connection::open(data.join("vouch.db")).unwrap();
    db.execute("UPDATE audit_events SET detail = replace(detail, 'integrator', 'admin') WHERE seq = 1", []).unwrap();
    let bad = vouch(&data, &["audit", "verify"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stdout).contains("BROKEN chain clients at event 1"));
}

/// Off loopback the server speaks https only, with a certificate whose fingerprint it prints; a client holding
/// that fingerprint gets through (traffic to it stays on 127.0.0.1).
#[tokio::test]
async fn a_non_loopback_bind_serves_https_with_a_printed_fingerprint() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, log) = (data_dir(&tmp), tmp.path().join("serve.log"));
    let server = serve_with(&data, &log, "info", &["--bind", "0.0.0.0:0"]);
    assert!(server.base.starts_with("https://"), "{}", server.base);
    let at = server.first_lines.iter().position(|l| l.contains("SHA-256 fingerprint")).expect("a fingerprint line");
    let fingerprint = server.first_lines[at + 1].trim().to_string();
    let port = server.base.rsplit(':').next().unwrap().trim_end_matches('/').to_string();
    let local = format!("https://127.0.0.1:{port}");
    let pinned = vouch_server::tls::remote_client(&local, Some(&fingerprint), false, Duration::from_secs(10)).unwrap();
    let resp = pinned.get(format!("{local}/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let plain = reqwest::Client::new().get(format!("http://127.0.0.1:{port}/healthz")).send().await;
    assert!(plain.is_err() || plain.unwrap().status() != StatusCode::OK, "no plain HTTP beside https");
    drop(server);

    // The same certificate at the next start: a confirmed fingerprint stays valid.
    let again = serve_with(&data, &log, "info", &["--bind", "0.0.0.0:0"]);
    assert!(again.first_lines.iter().any(|l| l.trim() == fingerprint), "{:?}", again.first_lines);
}

/// Plain HTTP off loopback only when asked, with a warning at every start; contradictory or outdated switches
/// stop the start with a reason.
#[test]
fn plain_http_off_loopback_is_asked_for_and_warned_about() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, log) = (data_dir(&tmp), tmp.path().join("serve.log"));
    let server = serve_with(&data, &log, "info", &["--bind", "0.0.0.0:0", "--insecure-no-tls"]);
    assert!(server.base.starts_with("http://"), "{}", server.base);
    assert!(
        server.first_lines.iter().any(|l| l.contains("WARNING: plain HTTP off loopback")),
        "{:?}",
        server.first_lines
    );
    drop(server);
    assert!(std::fs::read_to_string(&log).unwrap().contains("INSECURE"), "the log says so too");

    let out = vouch(&data, &["serve", "--tls", "--insecure-no-tls"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("contradicts"));
    std::fs::write(data.join("vouch.toml"), "allow_non_loopback = true\n").unwrap();
    let out = vouch(&data, &["serve"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("insecure_no_tls = true"));
}

#[test]
fn bad_client_arguments_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data_dir(&tmp);
    for args in [
        &["clients", "add", "--name", "x", "--scope", "root"][..],
        &["clients", "add", "--name", "x", "--webhook-url", "ftp://x"],
        &["clients", "add", "--name", " "],
        &["clients", "add", "--name", "x", "--token-ttl", "0"],
    ] {
        let out = vouch(&data, args);
        assert!(!out.status.success(), "{args:?}");
    }
    let list = vouch(&data, &["clients", "list"]);
    assert!(String::from_utf8_lossy(&list.stdout).contains("no clients"));
}

/// `vouch faces ARGS --models <checkout>/models`, logging warnings only.
fn vouch_faces(args: &[&std::ffi::OsStr]) -> std::process::Output {
    let models = vouch_testkit::repo_root().join("models");
    Command::new(VOUCH).arg("faces").args(args).arg("--models").arg(models).env("VOUCH_LOG", "warn").output().unwrap()
}

#[test]
fn faces_eval_reports_tar_and_eer_over_identity_folders() {
    let root = vouch_testkit::repo_root();
    let eval_dir = root.join("testdata/faces-eval");
    let out = vouch_faces(&["eval".as_ref(), eval_dir.as_os_str()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("3 identities, 5 faces (0 skipped), 3 genuine and 7 impostor pairs"), "{text}");
    // Seven impostor pairs cannot show FAR 1 % or below; the EER they can.
    let row = text.lines().find(|l| l.starts_with("face_embed512.onnx ")).unwrap_or_default();
    assert_eq!(row.matches("too few pairs").count(), 3, "{text}");
    assert!(row.contains(" 0.00%"), "{text}");
    assert!(!text.contains("face_embed512_int8.onnx"), "only the shipped embedder unless asked: {text}");

    // Both embedders side by side, the failures at a strict threshold by file, and the DET curve.
    let det = tempfile::tempdir().unwrap();
    let png = det.path().join("det.png");
    let args = ["eval", "--embedders", "fp32,int8", "--threshold", "0.99", "--failures", "1", "--sequences", "--det"];
    let mut args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
    args.extend([png.as_os_str(), eval_dir.as_os_str()]);
    let out = vouch_faces(&args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    for embedder in ["face_embed512.onnx", "face_embed512_int8.onnx"] {
        assert!(
            text.contains(&format!("{embedder}: failures at score 0.99: 3 genuine pairs rejected, 0 impostor")),
            "{text}"
        );
    }
    assert!(text.contains("  rejected 0.9") && text.contains("faces-eval/obama/fr_obama"), "{text}");
    assert!(text.contains("… and 2 more rejected"), "{text}");
    // Obama's three photos make no sequence: a reference and three frames take four.
    assert!(text.contains("sequences: no identity has 4 photos or more"), "{text}");
    let plot = image::open(&png).unwrap();
    assert_eq!((plot.width(), plot.height()), (900, 700));
    // A folder with a single identity has no impostor pairs: a clear error, not a made-up number.
    let one = tempfile::tempdir().unwrap();
    std::fs::create_dir(one.path().join("a")).unwrap();
    let out = vouch_faces(&["eval".as_ref(), one.path().as_os_str()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("need at least two identities"));
}

#[test]
fn faces_aligned_writes_the_crop_the_embedder_sees_of_every_face() {
    let root = vouch_testkit::repo_root();
    let out_dir = tempfile::tempdir().unwrap();
    let (obama, biden) = (root.join("testdata/faces-eval/obama"), root.join("testdata/faces/fr_biden.jpg"));
    let args = ["aligned".as_ref(), obama.as_os_str(), biden.as_os_str(), "--out".as_ref(), out_dir.path().as_os_str()];
    let out = vouch_faces(&args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("4 aligned faces from 4 files"), "{text}");
    let crop = image::open(out_dir.path().join("fr_biden-0.png")).unwrap();
    assert_eq!((crop.width(), crop.height()), (112, 112));
}

#[test]
fn faces_gaze_prints_where_the_eyes_look_and_draws_it() {
    let root = vouch_testkit::repo_root();
    let out_dir = tempfile::tempdir().unwrap();
    let (faces, obama2) = (root.join("testdata/faces"), root.join("testdata/faces/fr_obama2.jpg"));
    // A photo turned onto its side: the face is found, its eyes are not measured.
    let turned = out_dir.path().join("turned.png");
    image::open(&obama2).unwrap().rotate90().save(&turned).unwrap();
    let marks = out_dir.path().join("marks");
    let args = ["gaze".as_ref(), faces.as_os_str(), turned.as_os_str(), "--marks".as_ref(), marks.as_os_str()];
    let out = vouch_faces(&args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("6 faces with measurable eyes in 7 files (1 faces without)"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("turned.png") && l.contains("not upright")), "{text}");
    // obama2 looks to his right with his head and his eyes.
    let row = text.lines().find(|l| l.starts_with("fr_obama2.jpg")).unwrap();
    let degrees: Vec<f32> = row.split_whitespace().skip(1).map(|v| v.trim_end_matches('°').parse().unwrap()).collect();
    assert!(degrees[0] > 8.0 && degrees[2] > 8.0, "{row}");
    let band = image::open(marks.join("fr_obama2-eyes.png")).unwrap();
    assert_eq!(band.width(), 512);
}

fn vouch_with_stdin(data: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(VOUCH)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("VOUCH_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn an_operator_resets_the_admin_pin_and_ends_lockouts_from_the_data_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data_dir(&tmp);
    {
        let store = vouch_store::Store::open(&data).unwrap();
        store.set_first_admin_pin("482913", "test").unwrap();
        for _ in 0..5 {
            assert_eq!(store.check_pin(None, "739105").unwrap(), None);
        }
        assert!(matches!(store.check_pin(None, "482913"), Err(vouch_store::StoreError::Locked { .. })));
    }
    let weak = vouch_with_stdin(&data, &["admin", "reset-pin"], "123456\n");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("too easy"), "{}", String::from_utf8_lossy(&weak.stderr));
    let reset = vouch_with_stdin(&data, &["admin", "reset-pin"], "610274\n");
    assert!(reset.status.success(), "{}", String::from_utf8_lossy(&reset.stderr));
    let store = vouch_store::Store::open(&data).unwrap();
    assert_eq!(store.check_pin(None, "610274").unwrap(), Some(vouch_store::pins::PinHolder::Admin));
    store.add_clerk("Maria", "583016", "test").unwrap();
    let clerk = store.list_clerks().unwrap()[0].id;
    for _ in 0..5 {
        assert_eq!(store.check_pin(Some(clerk), "739105").unwrap(), None);
    }
    drop(store);
    let unlock = vouch(&data, &["admin", "unlock"]);
    assert!(unlock.status.success(), "{}", String::from_utf8_lossy(&unlock.stderr));
    let store = vouch_store::Store::open(&data).unwrap();
    assert!(store.check_pin(Some(clerk), "583016").unwrap().is_some());
    assert!(store.verify_audit(None).unwrap().is_intact());
}

/// SIGTERM: the request under way is answered before the process exits, and the exit is clean.
#[tokio::test]
async fn sigterm_lets_the_request_under_way_finish() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let tmp = tempfile::tempdir().unwrap();
    let data = data_dir(&tmp);
    let log = tmp.path().join("log");
    let mut server = serve(&data, &log, "info");
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let body = "grant_type=client_credentials&client_id=nobody&client_secret=wrong";
    let head = format!(
        "POST /oauth/token HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body.as_bytes()[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    stream.write_all(&body.as_bytes()[10..]).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "the request under way was answered: {answer:?}");
    let status = server.child.wait().unwrap();
    assert!(status.success(), "a clean exit after SIGTERM: {status:?}");
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("SIGTERM"), "{logged}");
}

/// Power-cut stand-in: writers create identification requests and attach reference photos (a blob and a
/// row each) while the server is killed with SIGKILL at a random moment, 20 times. Every write the server
/// acknowledged is there afterwards, its blob reads back, and the audit log verifies.
#[tokio::test]
async fn acknowledged_writes_survive_sigkill_at_random_moments() {
    use rand::Rng;
    let tmp = tempfile::tempdir().unwrap();
    let data = data_dir(&tmp);
    let log = tmp.path().join("server.log");
    let client = add_client(&data, &[]);
    let photo = vouch_testkit::read(&vouch_testkit::repo_path("assets/demo-camera/frame-000.jpg"));
    let http = reqwest::Client::new();
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::<(String, String)>::new()));
    for round in 0..20 {
        let mut server = serve(&data, &log, "warn");
        let base = server.base.clone();
        let t = token(&base, &client).await;
        let mut writers = Vec::new();
        for w in 0..3 {
            let (http, base, t, photo, acknowledged) =
                (http.clone(), base.clone(), t.clone(), photo.clone(), acknowledged.clone());
            writers.push(tokio::spawn(async move {
                for n in 0.. {
                    let body = json!({"reference": format!("r{round}-w{w}-{n}"), "claims_required": [{"type": "sub", "value": "EE30303039914"}]});
                    let Ok(resp) = http
                        .post(format!("{base}/eeid/api/ident/v1/identification_requests"))
                        .bearer_auth(&t)
                        .json(&body)
                        .send()
                        .await
                    else {
                        return;
                    };
                    let Ok(created) = resp.json::<Value>().await else { return };
                    let Some(id) = created["id"].as_str().map(str::to_owned) else { return };
                    let Ok(resp) = http
                        .put(format!("{base}/vouch/v1/cases/{id}/reference-photo"))
                        .bearer_auth(&t)
                        .header("Content-Type", "image/jpeg")
                        .body(photo.clone())
                        .send()
                        .await
                    else {
                        return;
                    };
                    let Ok(ack) = resp.json::<Value>().await else { return };
                    if let Some(sha) = ack["sha256"].as_str() {
                        acknowledged.lock().unwrap().push((id, sha.to_string()));
                    }
                }
            }));
        }
        // The kill comes at a random moment after this round's first acknowledged write, so that a slow machine
        // (a debug build beside other tests on 2 cores) still kills the server in the middle of its writes.
        let before = acknowledged.lock().unwrap().len();
        let waited = std::time::Instant::now();
        while acknowledged.lock().unwrap().len() == before && waited.elapsed() < Duration::from_secs(30) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let pause = rand::thread_rng().gen_range(0..500);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        for w in writers {
            let _ = w.await;
        }
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 20, "only {} writes were acknowledged", acknowledged.len());
    let store = vouch_store::Store::open(&data).unwrap();
    for (id, sha) in &acknowledged {
        let case = store.get_case(vouch_core::CaseId::parse(id).unwrap()).unwrap();
        assert_eq!(case.id.to_string(), *id);
        assert_eq!(vouch_store::sha256_hex(&store.blobs().get(sha).unwrap()), *sha, "the blob of {id} reads back");
    }
    let report = store.verify_audit(None).unwrap();
    assert!(report.is_intact(), "{:?}", report.breaks);
}

#[test]
fn an_operator_reads_and_rotates_a_clients_webhook_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data_dir(&tmp);
    let Creds { id, secret } = add_client(&data, &[]);
    let shown = vouch(&data, &["clients", "webhook-secret", &id]);
    assert!(shown.status.success(), "{}", String::from_utf8_lossy(&shown.stderr));
    let first = String::from_utf8_lossy(&shown.stdout).trim().to_string();
    assert!(first.starts_with("whsec_") && first != secret);
    let again = vouch(&data, &["clients", "webhook-secret", &id]);
    assert_eq!(String::from_utf8_lossy(&again.stdout).trim(), first, "the same secret until rotated");
    let rotated = vouch(&data, &["clients", "webhook-secret", &id, "--rotate"]);
    let second = String::from_utf8_lossy(&rotated.stdout).trim().to_string();
    assert!(second.starts_with("whsec_") && second != first);
    assert!(!vouch(&data, &["clients", "webhook-secret", "nobody"]).status.success());
}

/// A central service keeps its evidence in S3-compatible object storage (a real SeaweedFS): every command takes
/// `--blobs`, credentials come from the AWS variables, evidence lands in the bucket sealed, and nothing lands in
/// the data directory's blob folder.
#[tokio::test]
async fn serve_and_the_store_commands_keep_evidence_in_object_storage() {
    let s3 = vouch_testkit::seaweedfs::SeaweedFs::start();
    let tmp = tempfile::tempdir().unwrap();
    let data = data_dir(&tmp);
    let log = tmp.path().join("server.log");
    let blobs = s3.url("central");
    let aws = [("AWS_ACCESS_KEY_ID", s3.access_key.as_str()), ("AWS_SECRET_ACCESS_KEY", s3.secret_key.as_str())];
    let run = |args: &[&str]| vouch_in(&data, &aws, &[&["--blobs", blobs.as_str()], args].concat());
    let added = run(&["clients", "add", "--name", "bank", "--json"]);
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let v: Value = serde_json::from_slice(&added.stdout).unwrap();
    let bank = credentials(&v);

    let server = serve_with_env(&data, &log, "info", &["--bind", "127.0.0.1:0", "--blobs", &blobs], &aws);
    let api = Api::new(&server.base, reqwest::Client::new());
    let token = api.eeid_token(&bank).await;
    let case = api.create_ok(&token, None).await["id"].as_str().unwrap().to_string();
    let photo = vouch_testkit::fixture("faces/fr_obama.jpg");
    let path = format!("/vouch/v1/cases/{case}/reference-photo");
    let (status, body) = api.send_bytes(reqwest::Method::PUT, &token, &path, "image/jpeg", photo.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sha = body["sha256"].as_str().unwrap().to_string();
    drop(server);
    let served = std::fs::read_to_string(&log).unwrap();
    assert!(served.contains("s3://vouch-evidence/central"), "{served}");
    assert!(!served.contains(&s3.secret_key), "the secret key reached the log");
    assert!(!data.join("blobs").exists(), "the data directory holds no blob files");

    let mut location = vouch_store::S3Location::parse(&blobs).unwrap();
    location.credentials = Some((s3.access_key.clone(), s3.secret_key.clone()));
    let store = vouch_store::Store::open_with_blobs(&data, &vouch_store::BlobLocation::S3(location)).unwrap();
    assert_eq!(store.blobs().get(&sha).unwrap(), photo, "the bucket holds the photo, sealed");
    assert!(!store.blobs().raw(&sha).unwrap().windows(64).any(|w| photo.windows(64).next() == Some(w)));
    drop(store);
    let verified = run(&["audit", "verify"]);
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stdout));

    let refused = Command::new(VOUCH)
        .arg("--data-dir")
        .arg(&data)
        .args(["--blobs", "s3://vouch-evidence?endpoint=http://192.0.2.1:8333", "clients", "list"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && said.contains("plain http is allowed on loopback only"), "{said}");
}

/// A central service: two `vouch serve` instances on one PostgreSQL database and one SeaweedFS bucket (the same
/// data key copied to each), its password from `PGPASSWORD`. A client made with `vouch --database clients add`
/// works on both; a case made on one is read, given evidence and decided through the other, and still answers when
/// the first is killed; `vouch audit verify --database` checks the one audit log; no log shows the password.
#[tokio::test]
async fn two_instances_on_postgresql_and_object_storage_answer_as_one_service() {
    let pg = vouch_testkit::postgres::Postgres::start();
    let s3 = vouch_testkit::seaweedfs::SeaweedFs::start();
    let tmp = tempfile::tempdir().unwrap();
    let (first_dir, second_dir) = (tmp.path().join("first"), tmp.path().join("second"));
    let database = pg.url_without_password();
    let blobs = s3.url("central");
    let env = [
        ("AWS_ACCESS_KEY_ID", s3.access_key.as_str()),
        ("AWS_SECRET_ACCESS_KEY", s3.secret_key.as_str()),
        ("PGPASSWORD", pg.password.as_str()),
    ];
    let stores = ["--database", database.as_str(), "--blobs", blobs.as_str()];
    let run = |data: &Path, args: &[&str]| vouch_in(data, &env, &[&stores[..], args].concat());
    let added = run(&first_dir, &["clients", "add", "--name", "bank", "--json"]);
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let v: Value = serde_json::from_slice(&added.stdout).unwrap();
    let bank = credentials(&v);
    std::fs::create_dir_all(&second_dir).unwrap();
    std::fs::copy(first_dir.join("data.key"), second_dir.join("data.key")).unwrap();
    let listed = run(&second_dir, &["clients", "list"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains(&bank.id), "the second instance sees the client");

    let args = ["--bind", "127.0.0.1:0", "--database", &database, "--blobs", &blobs];
    let (first_log, second_log) = (tmp.path().join("first.log"), tmp.path().join("second.log"));
    let first = serve_with_env(&first_dir, &first_log, "info", &args, &env);
    let second = serve_with_env(&second_dir, &second_log, "info", &args, &env);
    let (one, two) = (Api::new(&first.base, reqwest::Client::new()), Api::new(&second.base, reqwest::Client::new()));
    let token = one.eeid_token(&bank).await;
    let case = one.create_ok(&token, Some("central-1")).await["id"].as_str().unwrap().to_string();
    let read = two.get(&token, &format!("/eeid/api/ident/v1/identification_requests/{case}")).await;
    assert_eq!(read.status(), StatusCode::OK, "a token and a case from one instance work on the other");
    let photo = vouch_testkit::fixture("faces/fr_obama.jpg");
    let path = format!("/vouch/v1/cases/{case}/reference-photo");
    let (status, body) = two.send_bytes(reqwest::Method::PUT, &token, &path, "image/jpeg", photo).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let duplicate = two.create_request(
        &token,
        json!({"reference": "central-1", "claims_required": [{"type": "sub", "value": "EE30303039914"}]}),
    );
    assert_eq!(duplicate.await.status(), StatusCode::UNPROCESSABLE_ENTITY, "one reference across instances");
    drop(first);
    let added = run(&second_dir, &["clients", "add", "--name", "desk", "--scope", "admin", "--json"]);
    let v: Value = serde_json::from_slice(&added.stdout).unwrap();
    let desk = credentials(&v);
    let admin = two.oauth_token(&desk).await;
    let completed = two.complete(&admin, &case, &vouch_testkit::approval()).await;
    assert_eq!(completed.status(), StatusCode::OK);
    let done = two.get(&token, &format!("/eeid/api/ident/v1/identification_requests/{case}")).await;
    assert_eq!(done.json::<Value>().await.unwrap()["status"], "completed");
    drop(second);

    let verified = run(&first_dir, &["audit", "verify"]);
    let said = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success() && said.contains("audit log intact"), "{said}");
    for log in [&first_log, &second_log] {
        let text = std::fs::read_to_string(log).unwrap();
        assert!(text.contains(&format!("postgres://vouch@127.0.0.1:{}/vouch", pg.port)), "{text}");
        assert!(!text.contains(&pg.password) && !text.contains(&s3.secret_key), "a secret reached the log");
    }
}

/// A simulated kiosk's calls to a central of several instances: each call goes to the next instance that answers,
/// and is sent again after a dropped connection or a 5xx, as the kiosk's outbox does (the central applies an item
/// once, so sending it again is safe).
#[derive(Clone)]
struct Fleet {
    bases: Arc<std::sync::Mutex<Vec<String>>>,
    http: reqwest::Client,
}

impl Fleet {
    async fn send(
        &self,
        token: Option<&str>,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let deadline = Instant::now() + Duration::from_secs(180);
        for attempt in 0usize.. {
            assert!(Instant::now() < deadline, "{path}: no instance answered for three minutes");
            let base = {
                let bases = self.bases.lock().unwrap();
                bases[attempt % bases.len()].clone()
            };
            let mut request =
                self.http.request(method.clone(), format!("{base}{path}")).timeout(Duration::from_secs(30));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            match request.send().await {
                Ok(resp) if !resp.status().is_server_error() => {
                    let status = resp.status();
                    return (status, resp.json().await.unwrap_or(Value::Null));
                }
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        unreachable!()
    }
}

/// One simulated kiosk: pulls what it may run, claims each case (skipping those another kiosk took), pushes each
/// step (a selfie of 20 KB) and an approval, until nothing is left for it. Returns the cases it ran.
async fn run_kiosk(fleet: Fleet, creds: Creds, decided: Arc<std::sync::atomic::AtomicUsize>) -> Vec<String> {
    let form = "grant_type=client_credentials";
    let token = loop {
        let base = fleet.bases.lock().unwrap()[0].clone();
        let sent = fleet
            .http
            .post(format!("{base}/oauth/token"))
            .header("Authorization", creds.basic())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await;
        if let Ok(resp) = sent {
            if resp.status().is_success() {
                break resp.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string();
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let selfie: Vec<u8> = (0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let selfie = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, selfie);
    let mut ran = Vec::new();
    loop {
        let (status, listed) =
            fleet.send(Some(&token), reqwest::Method::GET, "/vouch/v1/sync/cases?limit=20", None).await;
        assert_eq!(status, StatusCode::OK, "{listed}");
        let listed = listed.as_array().unwrap().clone();
        if listed.is_empty() {
            return ran;
        }
        for offered in listed {
            let case = offered["case"]["id"].as_str().unwrap().to_string();
            let claim = format!("/vouch/v1/sync/cases/{case}/claim");
            let (status, body) = fleet.send(Some(&token), reqwest::Method::POST, &claim, None).await;
            if status == StatusCode::CONFLICT {
                continue;
            }
            assert_eq!(status, StatusCode::OK, "{body}");
            let steps = offered["flow"]["steps"].as_array().unwrap();
            for (index, step) in steps.iter().enumerate().filter(|(_, s)| s["kind"] != "result") {
                if offered["steps"].as_array().unwrap().iter().any(|s| s["index"] == index) {
                    continue;
                }
                let captures = if step["kind"] == "selfie" {
                    json!([{"kind": "selfie", "media_type": "image/jpeg", "data": selfie}])
                } else {
                    json!([])
                };
                let push = json!({"item_id": format!("{case}-step-{index}"), "index": index, "kind": step["kind"],
                                  "outcome": "passed", "detail": {}, "captures": captures});
                let path = format!("/vouch/v1/sync/cases/{case}/steps");
                let (status, body) = fleet.send(Some(&token), reqwest::Method::POST, &path, Some(&push)).await;
                assert_eq!(status, StatusCode::OK, "{body}");
            }
            let mut decision = approval();
            decision["item_id"] = json!(format!("{case}-decision"));
            let path = format!("/vouch/v1/sync/cases/{case}/decision");
            let (status, body) = fleet.send(Some(&token), reqwest::Method::POST, &path, Some(&decision)).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            decided.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            ran.push(case);
        }
    }
}

/// The central under load and faults: two instances on one PostgreSQL and one SeaweedFS bucket, five simulated
/// kiosks pulling, claiming, running and pushing 1,000 cases, while one instance is killed (SIGKILL) and started
/// again and PostgreSQL is stopped at once and started again. Afterwards every case is complete, ran at one kiosk,
/// every selfie is readable and matches its hash, every webhook arrived, and the audit log verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_kiosks_sync_a_thousand_cases_through_an_instance_kill_and_a_database_restart() {
    const CASES: usize = 1000;
    let pg = Arc::new(vouch_testkit::postgres::Postgres::start());
    let s3 = vouch_testkit::seaweedfs::SeaweedFs::start();
    let receiver = Receiver::start(&[]).await;
    let tmp = tempfile::tempdir().unwrap();
    let (first_dir, second_dir) = (tmp.path().join("first"), tmp.path().join("second"));
    let database = pg.url_without_password();
    let blobs = s3.url("central");
    let env = [
        ("AWS_ACCESS_KEY_ID", s3.access_key.as_str()),
        ("AWS_SECRET_ACCESS_KEY", s3.secret_key.as_str()),
        ("PGPASSWORD", pg.password.as_str()),
    ];
    let stores = ["--database", database.as_str(), "--blobs", blobs.as_str()];
    let run = |args: &[&str]| {
        let out = vouch_in(&first_dir, &env, &[&stores[..], args].concat());
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let added: Value =
        serde_json::from_str(&run(&["clients", "add", "--name", "bank", "--webhook-url", &receiver.url, "--json"]))
            .unwrap();
    let bank = credentials(&added);
    std::fs::create_dir_all(&second_dir).unwrap();
    std::fs::copy(first_dir.join("data.key"), second_dir.join("data.key")).unwrap();
    let args = ["--bind", "127.0.0.1:0", "--database", &database, "--blobs", &blobs];
    let (first_log, second_log) = (tmp.path().join("first.log"), tmp.path().join("second.log"));
    let mut first = serve_with_env(&first_dir, &first_log, "warn", &args, &env);
    let second = serve_with_env(&second_dir, &second_log, "warn", &args, &env);
    let fleet = Fleet {
        bases: Arc::new(std::sync::Mutex::new(vec![first.base.clone(), second.base.clone()])),
        http: reqwest::Client::new(),
    };

    let mut kiosks = Vec::new();
    for n in 1..=5 {
        let said = run(&["kiosks", "pair", "--name", &format!("Desk {n}")]);
        let code = said.split_whitespace().find(|w| w.len() == 14 && w.matches('-').count() == 2).unwrap().to_string();
        let (status, paired) =
            fleet.send(None, reqwest::Method::POST, "/vouch/v1/kiosks/pair", Some(&json!({"code": code}))).await;
        assert_eq!(status, StatusCode::OK, "{paired}");
        kiosks.push(credentials(&paired));
    }
    let ops: Value =
        serde_json::from_str(&run(&["clients", "add", "--name", "ops", "--scope", "admin", "--json"])).unwrap();
    let ops = credentials(&ops);
    let ops = Api::new(&second.base, reqwest::Client::new()).oauth_token(&ops).await;
    let flow = json!({"id": "desk", "name": "Desk", "steps": [
        {"kind": "consent", "text": {"en": "I agree."}}, {"kind": "selfie"}, {"kind": "result"}]});
    let (status, body) = fleet.send(Some(&ops), reqwest::Method::POST, "/vouch/v1/flows", Some(&flow)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = fleet.send(Some(&ops), reqwest::Method::POST, "/vouch/v1/flows/desk/default", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let bank_token = token(&first.base, &bank).await;
    let mut made = Vec::with_capacity(CASES);
    for chunk in (0..CASES).collect::<Vec<_>>().chunks(25) {
        let mut creates = tokio::task::JoinSet::new();
        for n in chunk {
            let body = json!({"claims_required": [{"type": "sub", "value": "EE30303039914"}], "reference": format!("case-{n}")});
            let (fleet, token) = (fleet.clone(), bank_token.clone());
            creates.spawn(async move {
                fleet
                    .send(
                        Some(&token),
                        reqwest::Method::POST,
                        "/eeid/api/ident/v1/identification_requests",
                        Some(&body),
                    )
                    .await
            });
        }
        while let Some(created) = creates.join_next().await {
            let (status, body) = created.unwrap();
            assert_eq!(status, StatusCode::CREATED, "{body}");
            made.push(body["id"].as_str().unwrap().to_string());
        }
    }

    let decided = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let running: Vec<_> =
        kiosks.into_iter().map(|k| tokio::spawn(run_kiosk(fleet.clone(), k, decided.clone()))).collect();
    let at = |n: usize| {
        let decided = decided.clone();
        async move {
            while decided.load(std::sync::atomic::Ordering::SeqCst) < n {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    at(CASES / 4).await;
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let mid_run = || decided.load(std::sync::atomic::Ordering::SeqCst) < CASES;
    assert!(mid_run(), "the instance died with work left");
    fleet.bases.lock().unwrap().retain(|b| *b != first.base);
    first = serve_with_env(&first_dir, &first_log, "warn", &args, &env);
    fleet.bases.lock().unwrap().push(first.base.clone());
    at(CASES / 2).await;
    let restarting = pg.clone();
    assert!(mid_run(), "PostgreSQL stops with work left");
    tokio::task::spawn_blocking(move || restarting.restart()).await.unwrap();

    let mut ran = Vec::new();
    for kiosk in running {
        ran.extend(kiosk.await.unwrap());
    }
    ran.sort();
    let mut expected = made.clone();
    expected.sort();
    assert_eq!(ran, expected, "every case ran, at one kiosk each");

    let webhook_ids = || -> std::collections::BTreeSet<String> {
        let received = receiver.received.lock().unwrap();
        received.iter().filter_map(|(h, _)| h.get("webhook-id").map(|v| v.to_str().unwrap().to_string())).collect()
    };
    let all_sent = eventually(Duration::from_secs(120), || webhook_ids().len() >= CASES).await;
    let received = receiver.received.lock().unwrap().len();
    assert!(all_sent, "a webhook for every case: {received} received");
    assert_eq!(webhook_ids().len(), CASES, "one delivery id per case");
    drop((first, second));

    let (pg_url, blobs_at, key) = (pg.url.clone(), blobs.clone(), (s3.access_key.clone(), s3.secret_key.clone()));
    let dir = first_dir.clone();
    let checked = tokio::task::spawn_blocking(move || {
        let mut at = vouch_store::blobs::S3Location::parse(&blobs_at).unwrap();
        at.credentials = Some(key);
        let database = vouch_store::DatabaseLocation::parse(&pg_url).unwrap();
        let store = vouch_store::Store::open_at(&dir, &database, &vouch_store::BlobLocation::S3(at)).unwrap();
        let mut selfies = 0;
        for id in &made {
            let case = vouch_core::CaseId::parse(id).unwrap();
            assert_eq!(store.get_case(case).unwrap().status.as_str(), "completed", "{id}");
            for e in store.case_evidence(case).unwrap() {
                let bytes = store.blobs().get(&e.sha256).unwrap();
                assert_eq!(vouch_store::blobs::sha256_hex(&bytes), e.sha256, "evidence matches its hash");
                selfies += usize::from(e.kind == vouch_core::EvidenceKind::Selfie);
            }
        }
        selfies
    })
    .await
    .unwrap();
    assert_eq!(checked, CASES, "one selfie per case");
    let verified = run(&["audit", "verify"]);
    assert!(verified.contains("audit log intact"), "{verified}");
    let duplicates = received - CASES;
    println!(
        "{CASES} cases by 5 kiosks through a SIGKILL and a PostgreSQL restart; {duplicates} webhook(s) sent again"
    );
}
