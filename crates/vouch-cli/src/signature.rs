//! `vouch signature`: sign a PDF as the kiosk would (with a DEMO synthetic handwritten signature), open an
//! escrowed biometric envelope, and measure the signing pipeline.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use base64::Engine;
use clap::Subcommand;
use time::OffsetDateTime;
use vouch_signature::envelope::{self, BiometricPayload};
use vouch_signature::{ceremony, iso19794_7, render, stroke, PointerKind, SigningIdentity};

use crate::faces::percentile;

#[derive(Subcommand)]
pub enum SignatureCommand {
    /// Sign a PDF with a DEMO synthetic handwritten signature: stamp, embed the escrowed pen data, PAdES B-B
    SignPdf {
        #[arg(long = "in")]
        input: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// The name shown in the signature block
        #[arg(long, default_value = "DEMO Signer")]
        signer: String,
        /// PKCS#12 with the signing key and certificate (default: a self-signed one made for this run)
        #[arg(long)]
        pkcs12: Option<PathBuf>,
        /// The PKCS#12 password
        #[arg(long, env = "VOUCH_SIGNING_PASSWORD", hide_env_values = true, default_value = "")]
        password: String,
        /// Escrow certificate (PEM) the pen data is encrypted to (default: the signing certificate)
        #[arg(long)]
        escrow_certificate: Option<PathBuf>,
    },
    /// Decrypt a biometric envelope (`biometric_data` as base64, or DER) with the escrow key (PKCS#8 PEM)
    Open {
        envelope: PathBuf,
        #[arg(long)]
        escrow_key: PathBuf,
    },
    /// Time the signing pipeline on 3 generated PDFs of about 2 MB each
    Bench {
        #[arg(long, default_value_t = 3)]
        documents: usize,
        /// Size of each generated PDF, in MB
        #[arg(long, default_value_t = 2)]
        megabytes: usize,
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
}

pub fn run(command: SignatureCommand) -> anyhow::Result<()> {
    match command {
        SignatureCommand::SignPdf { input, out, signer, pkcs12, password, escrow_certificate } => {
            let original = std::fs::read(&input).with_context(|| format!("reading {}", input.display()))?;
            let identity = match pkcs12 {
                Some(path) => SigningIdentity::from_pkcs12(&std::fs::read(&path)?, &password)?,
                None => SigningIdentity::generate_self_signed("Vouch CLI", OffsetDateTime::now_utc())?,
            };
            let escrow = match escrow_certificate {
                Some(path) => {
                    let der = vouch_signature::pki::pem_decode(&std::fs::read_to_string(&path)?, "CERTIFICATE")?;
                    vouch_pki::x509::Certificate::parse(&der).context("the escrow certificate")?
                }
                None => identity.certificate().clone(),
            };
            let signed = sign_one(&original, &input.display().to_string(), &signer, &identity, &escrow)?;
            std::fs::write(&out, &signed).with_context(|| format!("writing {}", out.display()))?;
            println!(
                "DEMO: signed {} with a synthetic handwritten signature as {signer:?}; sealed by {}",
                out.display(),
                identity.subject()
            );
            Ok(())
        }
        SignatureCommand::Open { envelope, escrow_key } => {
            let payload = envelope::open_with_pem(&std::fs::read(&envelope)?, &std::fs::read_to_string(&escrow_key)?)?;
            let iso = base64::engine::general_purpose::STANDARD.decode(&payload.iso19794_7)?;
            let record = iso19794_7::SignRecord::decode(&iso)?;
            let channels: Vec<String> = record.channels.iter().map(|c| format!("{:?}", c.channel)).collect();
            println!("{}", serde_json::to_string_pretty(&payload)?);
            eprintln!("ISO/IEC 19794-7: {} sample points, channels {}", record.points.len(), channels.join(" "));
            Ok(())
        }
        SignatureCommand::Bench { documents, megabytes, runs } => bench(documents, megabytes, runs),
    }
}

fn sign_one(
    original: &[u8],
    name: &str,
    signer: &str,
    identity: &SigningIdentity,
    escrow: &vouch_pki::x509::Certificate,
) -> anyhow::Result<Vec<u8>> {
    let drawn = stroke::synthetic(PointerKind::Pen);
    let signed = ceremony::sign_documents(
        &[ceremony::Document { name, pdf: original }],
        &ceremony::Handwriting::Drawn(&drawn),
        &ceremony::Signer {
            name: signer,
            case_id: "DEMO",
            reason: "DEMO: synthetic handwritten signature (vouch signature sign-pdf)",
            location: None,
        },
        identity,
        escrow,
        OffsetDateTime::now_utc(),
    )?;
    signed.documents.into_iter().next().context("nothing was signed")
}

/// A text contract padded to about `megabytes` with an incompressible embedded image, as scanned annexes make
/// real contracts large.
fn generated_pdf(megabytes: usize, seed: u8) -> Vec<u8> {
    use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};
    let mut pdf = Pdf::new();
    let (catalog, tree, page_id, contents, font, image) =
        (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4), Ref::new(5), Ref::new(6));
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page_id]).count(1);
    pdf.type1_font(font).base_font(Name(b"Helvetica"));
    let side = ((megabytes * 1024 * 1024 / 3) as f64).sqrt() as u32;
    let mut state = u32::from(seed) | 1;
    let pixels: Vec<u8> = (0..side * side * 3)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 24) as u8
        })
        .collect();
    let mut img = pdf.image_xobject(image, &pixels);
    img.width(side as i32).height(side as i32).bits_per_component(8);
    img.color_space().device_rgb();
    img.finish();
    let mut page = pdf.page(page_id);
    page.media_box(Rect::new(0.0, 0.0, 595.0, 842.0)).parent(tree).contents(contents);
    let mut resources = page.resources();
    resources.fonts().pair(Name(b"F1"), font);
    resources.x_objects().pair(Name(b"Im1"), image);
    resources.finish();
    page.finish();
    let mut c = Content::new();
    c.begin_text();
    c.set_font(Name(b"F1"), 12.0);
    c.next_line(72.0, 780.0);
    c.show(Str(b"Benchmark contract with a scanned annex"));
    c.end_text();
    c.save_state();
    c.transform([300.0, 0.0, 0.0, 300.0, 150.0, 300.0]);
    c.x_object(Name(b"Im1"));
    c.restore_state();
    let data = c.finish();
    pdf.stream(contents, &data);
    pdf.finish()
}

fn bench(documents: usize, megabytes: usize, runs: usize) -> anyhow::Result<()> {
    let docs: Vec<Vec<u8>> = (0..documents.max(1)).map(|i| generated_pdf(megabytes, i as u8 + 1)).collect();
    let sizes: Vec<String> = docs.iter().map(|d| format!("{:.2} MB", d.len() as f64 / 1e6)).collect();
    let identity = SigningIdentity::generate_self_signed("Vouch bench", OffsetDateTime::now_utc())?;
    let escrow = identity.certificate().clone();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("signature: {} PDFs ({}), {runs} runs, {cores} cores visible", docs.len(), sizes.join(", "));
    let drawn = stroke::synthetic(PointerKind::Pen);
    let stage = |name: &str, f: &mut dyn FnMut() -> anyhow::Result<()>| -> anyhow::Result<()> {
        let mut ms = Vec::new();
        for _ in 0..runs.max(1) {
            let t = Instant::now();
            f()?;
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        ms.sort_by(f64::total_cmp);
        println!("  {name:<44} p50 {:>8.1} ms   max {:>8.1} ms", percentile(&ms, 0.5), percentile(&ms, 1.0));
        Ok(())
    };
    stage("check + ISO 19794-7 encode", &mut || {
        drawn.check()?;
        iso19794_7::from_drawn(&drawn)?.encode()?;
        Ok(())
    })?;
    stage("signature PNG", &mut || {
        render::png(&drawn)?;
        Ok(())
    })?;
    stage("biometric envelope (RSA-OAEP + AES-GCM)", &mut || {
        let iso = iso19794_7::from_drawn(&drawn)?.encode()?;
        let payload = BiometricPayload {
            format: envelope::FORMAT.into(),
            iso19794_7: base64::engine::general_purpose::STANDARD.encode(iso),
            documents: vec![],
            captured_at: String::new(),
            pad: drawn.pad,
            case_id: None,
        };
        envelope::seal(&payload, &escrow)?;
        Ok(())
    })?;
    stage(&format!("check + stamp + PAdES sign, one {megabytes} MB PDF"), &mut || {
        sign_one(docs.first().map(Vec::as_slice).unwrap_or_default(), "bench.pdf", "Bench", &identity, &escrow)?;
        Ok(())
    })?;
    stage(&format!("whole circuit: {} × {megabytes} MB PDFs signed", docs.len()), &mut || {
        for (i, d) in docs.iter().enumerate() {
            sign_one(d, &format!("doc{i}.pdf"), "Bench", &identity, &escrow)?;
        }
        Ok(())
    })?;
    let handle = tokio::runtime::Handle::current();
    handle.block_on(circuit_bench(&docs, runs))
}

/// A DANAconnect circuit end to end on a real server: the kiosk's signature step signing every document, then the
/// evidence package, each timed over HTTP as an integrator and the kiosk UI see them.
async fn circuit_bench(docs: &[Vec<u8>], runs: usize) -> anyhow::Result<()> {
    use serde_json::{json, Value};
    use vouch_core::Scope;
    use vouch_store::clients::NewClient;
    let dir = tempfile::tempdir()?;
    let store = vouch_store::Store::open(&dir.path().join("data"))?;
    let new = |scope| NewClient { name: "bench".into(), scope, token_ttl_secs: Some(3600), webhook_url: None };
    let integrator = store.create_client(&new(Scope::Integrator), "bench")?;
    let admin = store.create_client(&new(Scope::Admin), "bench")?;
    let cfg = vouch_server::ServerConfig { bind: ([127, 0, 0, 1], 0).into(), ..vouch_server::ServerConfig::default() };
    let running = vouch_server::start(cfg, store).await?;
    let base = running.public_url.clone();
    let http = reqwest::Client::new();
    let b64 = base64::engine::general_purpose::STANDARD;
    let token = |id: String, secret: String| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let v: Value = http
                .post(format!("{base}/oauth/token"))
                .basic_auth(id, Some(secret))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials")
                .send()
                .await?
                .json()
                .await?;
            v.get("access_token").and_then(Value::as_str).map(str::to_string).context("no access_token")
        }
    };
    let integrator_token = token(integrator.client.id.clone(), integrator.secret.clone()).await?;
    let admin_token = token(admin.client.id.clone(), admin.secret.clone()).await?;
    let kiosk = |command: &'static str, args: Value, session: Option<String>| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let mut req = http.post(format!("{base}/vouch/v1/kiosk/{command}")).json(&args);
            if let Some(s) = session {
                req = req.bearer_auth(s);
            }
            let resp = req.send().await?;
            anyhow::ensure!(resp.status().is_success(), "{command}: {}", resp.status());
            Ok::<Value, anyhow::Error>(resp.json().await?)
        }
    };
    let setup = kiosk("admin_setup", json!({"pin": "482913"}), None).await?;
    let session = setup.get("session").and_then(Value::as_str).map(str::to_string);
    let steps = json!([{"kind": "consent", "text": {"en": "bench"}}, {"kind": "signature"}, {"kind": "result"}]);
    kiosk("flow_save", json!({"flow_id": "contract", "name": "bench", "create": true, "steps": steps}), session)
        .await?;
    let body_docs: Vec<Value> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| json!({"name": format!("doc{i}.pdf"), "size": d.len(), "content": b64.encode(d)}))
        .collect();
    let drawn = stroke::synthetic(PointerKind::Pen);
    let (mut sign_ms, mut zip_ms, mut zip_bytes) = (Vec::new(), Vec::new(), 0usize);
    for run in 0..runs.max(1) {
        let body = json!({"id": format!("bench-{run}"),
            "signer": {"name": "Bench Signer", "email": "bench@example.com", "nif": "12345678Z"}, "docs": body_docs});
        let started: Value = http
            .post(format!("{base}/danaconnect/api/biometric/start_circuit/contract"))
            .bearer_auth(&integrator_token)
            .json(&body)
            .send()
            .await?
            .json()
            .await?;
        let circuit = started.get("circuitId").and_then(Value::as_str).context("no circuitId")?.to_string();
        kiosk("step_submit", json!({"case_id": circuit, "index": 0, "kind": "consent", "outcome": "passed"}), None)
            .await?;
        let args = json!({"case_id": circuit, "index": 1, "pad": drawn.pad, "samples": drawn.samples, "agreed": true});
        let t = Instant::now();
        kiosk("signature_submit", args, None).await?;
        sign_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let approval = json!({"outcome": "approved", "reason": "bench",
            "identity": {"given_name": "Bench", "family_name": "Signer", "authentication_type": "CLERK_REVIEW", "acr": "low"}});
        let resp = http
            .post(format!("{base}/vouch/v1/cases/{circuit}/complete"))
            .bearer_auth(&admin_token)
            .json(&approval)
            .send()
            .await?;
        anyhow::ensure!(resp.status().is_success(), "complete: {}", resp.status());
        let t = Instant::now();
        let resp = http
            .get(format!("{base}/danaconnect/api/biometric/circuits/{circuit}/evidence"))
            .bearer_auth(&integrator_token)
            .send()
            .await?;
        anyhow::ensure!(resp.status().is_success(), "evidence: {}", resp.status());
        zip_bytes = resp.bytes().await?.len();
        zip_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    running.shutdown().await;
    let total: Vec<f64> = sign_ms.iter().zip(&zip_ms).map(|(a, b)| a + b).collect();
    let sorted = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v
    };
    let (sign_ms, zip_ms, total) = (sorted(sign_ms), sorted(zip_ms), sorted(total));
    println!("circuit over HTTP ({} PDFs, real server, encrypted store):", docs.len());
    for (name, ms) in [
        ("kiosk signature step: sign all PDFs + store", &sign_ms),
        ("GET .../evidence (ZIP, manifest signed)", &zip_ms),
        ("signed PDFs + evidence ZIP", &total),
    ] {
        println!("  {name:<44} p50 {:>8.1} ms   max {:>8.1} ms", percentile(ms, 0.5), percentile(ms, 1.0));
    }
    println!("  evidence ZIP size {:.2} MB", zip_bytes as f64 / 1e6);
    Ok(())
}
