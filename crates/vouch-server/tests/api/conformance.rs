//! Conformance with the vendors' own OpenAPI documents (`../shared/specs/`): schemathesis (pinned in
//! `scripts/setup`) generates requests from the DIS swagger against `/identity` and from the eeID OpenAPI against
//! `/eeid` of a real server, over real seeded data (a customer with a real selfie, liveness selfie and specimen
//! page; a real face; a completed identification request with its signed proof), and checks that no answer is a
//! server error and that every answer's content type and body are what the spec declares. The operations Vouch
//! answers 501 by design are listed once, with why, in `tests/conformance/answers-501.toml`.

use std::path::{Path, PathBuf};

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};
use vouch_core::Scope;
use vouch_testkit::server::Kit;

use crate::dis_faces::face_id;
use crate::dis_trust_platform::onboarded_customer;

const CHECKS: &str = "not_a_server_error,content_type_conformance,response_schema_conformance";
/// Examples per operation and phase, set in the config so one operation may take fewer: enough to reach every
/// branch the specs describe, on 2 cores in about a minute. Requests may take long on a loaded CI machine (a debug
/// build running the face models for every inspection), so a slow answer is not taken for a dead server.
const GENERATION: &str = "request-timeout = 120.0\n\n[generation]\nmax-examples = 20\n\n";
/// A fixed seed keeps CI repeatable; `VOUCH_CONFORMANCE_SEED` explores others.
const DEFAULT_SEED: &str = "1";

#[derive(Deserialize)]
struct NotBuilt {
    #[serde(default)]
    dis: Vec<Operation>,
    #[serde(default)]
    eeid: Vec<Operation>,
}

#[derive(Deserialize)]
struct Operation {
    method: String,
    path: String,
    reason: String,
}

fn not_built() -> NotBuilt {
    let text = std::fs::read_to_string(conformance_dir().join("answers-501.toml")).unwrap();
    toml::from_str(&text).unwrap()
}

fn conformance_dir() -> PathBuf {
    vouch_testkit::repo_path("crates/vouch-server/tests/conformance")
}

fn spec(name: &str) -> PathBuf {
    vouch_testkit::repo_root().join("../shared/specs").join(name)
}

/// Where a run leaves what a person may want to read: the patched eeID spec and the JUnit reports.
fn output_dir() -> PathBuf {
    let dir = vouch_testkit::repo_path("target/conformance");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn schemathesis() -> PathBuf {
    let bin = vouch_testkit::repo_path(".deps/schemathesis/bin/schemathesis");
    assert!(bin.exists(), "{} is missing: `scripts/setup` installs the pinned schemathesis", bin.display());
    bin
}

/// `[[operations]]` blocks that leave the listed 501 operations out of the run. (An entry's `include-*` filters
/// match when any one does, so each entry names one operation, or a regex over "METHOD /path".)
fn disabled(ops: &[Operation]) -> String {
    ops.iter()
        .map(|op| {
            format!(
                "[[operations]]\n# {}\ninclude-name = \"{} {}\"\nenabled = false\n\n",
                op.reason, op.method, op.path
            )
        })
        .collect()
}

/// Runs schemathesis over `spec` against `base_url` with `config`, off the runtime that serves the API.
async fn run_schemathesis(name: &str, spec: &Path, base_url: &str, config: String, extra: Vec<String>) {
    let out = output_dir();
    let config_path = out.join(format!("{name}.toml"));
    std::fs::write(&config_path, format!("{GENERATION}{config}")).unwrap();
    let seed = std::env::var("VOUCH_CONFORMANCE_SEED").unwrap_or_else(|_| DEFAULT_SEED.into());
    let mut cmd = std::process::Command::new(schemathesis());
    // schemathesis keeps a cache of crashes in its working directory: in target/, not in the checkout.
    cmd.current_dir(&out);
    cmd.arg("--config-file").arg(&config_path).arg("run").arg(spec).arg("--url").arg(base_url);
    cmd.args(["--checks", CHECKS, "--seed", &seed]);
    cmd.args(["--no-color", "--generation-database", "none", "--report", "junit", "--report-junit-path"]);
    cmd.arg(out.join(format!("{name}-junit.xml"))).args(extra);
    let output = tokio::task::spawn_blocking(move || cmd.output()).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr);
    let tail: String = text.chars().rev().take(12_000).collect::<Vec<_>>().into_iter().rev().collect();
    assert!(output.status.success(), "schemathesis found {name} non-conformant (seed {seed}):\n{tail}");
    assert!(text.contains("Tested:"), "schemathesis ran no operation:\n{tail}");
}

/// A path of `op` with real ids in it, for the direct 501 check.
fn concrete(path: &str, customer: &str, face: &str) -> String {
    let id = if path.starts_with("/api/v1/customers/") {
        customer
    } else if path.starts_with("/api/v1/faces/") {
        face
    } else {
        "00000000-0000-4000-8000-000000000000"
    };
    path.replace("{id}", id).replace("{probe_palm_id}", id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dis_answers_as_its_swagger_declares() {
    let kit = Kit::start().await;
    let token = kit.oauth_token(&kit.client(Scope::Integrator, None, Some(3600))).await;
    let (customer, _) = onboarded_customer(&kit, &token).await;
    let (spare_customer, _) = onboarded_customer(&kit, &token).await;
    let face = face_id(&kit, &token, "fr_obama.jpg").await;
    let spare_face = face_id(&kit, &token, "fr_obama.jpg").await;
    let listed = not_built().dis;

    // The list is the truth: each listed operation is in the swagger and answers 501 in DIS's error format.
    let swagger: Value =
        serde_json::from_slice(&std::fs::read(spec("innovatrics-dis-1.52.0-swagger.json")).unwrap()).unwrap();
    for op in &listed {
        assert!(
            swagger["paths"][&op.path][op.method.to_lowercase()].is_object(),
            "{} {} is not in the swagger",
            op.method,
            op.path
        );
        let path = format!("/identity{}", concrete(&op.path, &customer, &face));
        let (status, body) = kit.send_json(op.method.parse().unwrap(), &token, &path, &json!({})).await;
        assert_eq!(status, StatusCode::NOT_IMPLEMENTED, "{} {path}: {body}", op.method);
        assert!(body["errorCode"].is_string() && body["errorMessage"].is_string(), "{path}: {body}");
    }

    // Deletions and resets go to spare data, so the rest of the run meets a customer with every part.
    let config = format!(
        r#"{disabled}[[operations]]
# Each store inspects the customer again and signs a ZIP of every capture: a few examples show the contract.
include-name = "POST /api/v1/customers/{{id}}/store"
generation = {{ max-examples = 4 }}

[[operations]]
include-name-regex = "^DELETE /api/v1/customers/"
parameters = {{ "path.id" = "{spare_customer}" }}

[[operations]]
include-name-regex = "^PUT /api/v1/customers/[^/]+/(document|liveness)$"
parameters = {{ "path.id" = "{spare_customer}" }}

[[operations]]
include-name-regex = "^[A-Z]+ /api/v1/customers/"
parameters = {{ "path.id" = "{customer}", "path.page-type" = "front" }}

[[operations]]
include-name-regex = "^DELETE /api/v1/faces/"
parameters = {{ "path.id" = "{spare_face}" }}

[[operations]]
include-name-regex = "^[A-Z]+ /api/v1/faces/"
parameters = {{ "path.id" = "{face}", "path.probe_face_id" = "{face}" }}
"#,
        disabled = disabled(&listed)
    );
    let auth = vec!["--header".to_string(), format!("Authorization: Bearer {token}")];
    run_schemathesis("dis", &spec("innovatrics-dis-1.52.0-swagger.json"), &kit.url("/identity"), config, auth).await;
    // The run met the seeded customer whole to the end: its deletions went to the spare one.
    let (status, body) =
        kit.send_json(Method::GET, &token, &format!("/identity/api/v1/customers/{customer}"), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["customer"]["document"]["pageTypes"], json!(["front"]), "{body}");
}

/// The eeID spec types `completed_at` as a string yet shows `example: null` for a pending request, and a pending
/// request has no completion time: the patched copy reads it as `string` or `null`, nothing else.
fn patched_eeid_spec() -> PathBuf {
    let original = std::fs::read_to_string(spec("eeid-ident-api.yaml")).unwrap();
    let mut patched = Vec::new();
    let mut lines = original.lines().peekable();
    let mut replaced = 0;
    while let Some(line) = lines.next() {
        patched.push(line.to_string());
        if line.trim() == "completed_at:" && lines.peek().is_some_and(|next| next.trim() == "type: string") {
            let next = lines.next().unwrap_or_default();
            let indent = &next[..next.len() - next.trim_start().len()];
            patched.push(format!("{indent}type: [string, 'null']"));
            replaced += 1;
        }
    }
    assert_eq!(replaced, 3, "the eeID spec changed: check the completed_at patch against it");
    let path = output_dir().join("eeid-ident-api.patched.yaml");
    std::fs::write(&path, patched.join("\n") + "\n").unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eeid_answers_as_its_openapi_declares() {
    assert!(not_built().eeid.is_empty(), "eeID has no 501 operation; list it here with a test if one is added");
    let kit = Kit::start().await;
    let client = kit.client(Scope::Integrator, None, Some(3600));
    let token = kit.eeid_token(&client).await;
    let created = kit.create_ok(&token, None).await;
    assert!(created.get("reference").is_none(), "no reference, no field: {created}");
    let id = created["id"].as_str().unwrap().to_string();
    let admin = kit.oauth_token(&kit.admin()).await;
    assert_eq!(kit.complete(&admin, &id, &vouch_testkit::approval()).await.status(), StatusCode::OK);

    let config = format!(
        r#"[[operations]]
include-name = "POST /api/auth/v1/token"
headers = {{ Authorization = "{basic}" }}

[[operations]]
include-name-regex = "^GET /api/ident/v1/identification_requests/"
headers = {{ Authorization = "Bearer {token}" }}
parameters = {{ "path.id" = "{id}" }}

[[operations]]
include-name-regex = "^[A-Z]+ /api/ident/"
headers = {{ Authorization = "Bearer {token}" }}
"#,
        basic = client.basic()
    );
    run_schemathesis("eeid", &patched_eeid_spec(), &kit.url("/eeid"), config, Vec::new()).await;
}
