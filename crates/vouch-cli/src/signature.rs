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
                    vouch_chip::pki::x509::Certificate::parse(&der).context("the escrow certificate")?
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
    escrow: &vouch_chip::pki::x509::Certificate,
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
    println!("  (the evidence ZIP is not built yet; its time will join this line when it is)");
    Ok(())
}
