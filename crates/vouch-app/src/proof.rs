//! The proof-of-identity PDF: one A4 page naming the verified person, the method, the time, the case,
//! and the SHA-256 of the evidence manifest, so the document can be tied back to the stored evidence.
//! Written with pdf-writer in DejaVu, embedded as subsets ([`crate::proof_font`]), so every name prints as
//! written (Latin, Greek, Cyrillic); then sealed with a PAdES signature by the kiosk key ([`seal`]) whose visible
//! block carries a QR code of the address where anyone can check the proof ([`check_url`]).

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use time::format_description::well_known::Rfc3339;
use vouch_core::{Case, Decision, Evidence, VerifiedIdentity};

use crate::proof_font::{Face, FaceUse, FontError};

pub struct ProofInput<'a> {
    pub case: &'a Case,
    pub decision: &'a Decision,
    pub identity: &'a VerifiedIdentity,
    /// The evidence the proof vouches for, in manifest order.
    pub evidence: &'a [(vouch_core::EvidenceKind, String)],
    pub evidence_digest: &'a str,
    pub issuer: &'a str,
    /// Where this Vouch answers: the check address printed on the proof is under it.
    pub public_url: &'a str,
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

struct Page {
    content: Content,
    y: f32,
    faces: Vec<FaceUse>,
}

const LEFT: f32 = 56.0;
const VALUE_X: f32 = 200.0;

impl Page {
    fn text(&mut self, face: Face, size: f32, x: f32, s: &str) {
        let Some(used) = self.faces.iter_mut().find(|f| f.face() == face) else { return };
        let encoded = used.encode(s);
        self.content.begin_text();
        self.content.set_font(Name(face.resource()), size);
        self.content.next_line(x, self.y);
        self.content.show(Str(&encoded));
        self.content.end_text();
    }

    fn heading(&mut self, s: &str) {
        self.y -= 26.0;
        self.text(Face::Bold, 12.0, LEFT, s);
        self.y -= 4.0;
        self.content.set_stroke_rgb(0.75, 0.75, 0.75);
        self.content.move_to(LEFT, self.y);
        self.content.line_to(539.0, self.y);
        self.content.stroke();
        self.y -= 12.0;
    }

    fn field(&mut self, label: &str, value: &str) {
        let lines = wrap(value, 60);
        self.text(Face::Regular, 10.0, LEFT, label);
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                self.y -= 13.0;
            }
            self.text(Face::Bold, 10.0, VALUE_X, line);
        }
        self.y -= 16.0;
    }
}

fn fmt_time(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// The unsigned page. The evidence list stops above the signature block at the foot of the page (a case holds a
/// handful of items; more than fit are counted, and all are in the signed manifest digest).
pub fn render(input: &ProofInput<'_>) -> Result<Vec<u8>, FontError> {
    let (catalog, tree, page_id, contents, info) = (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4), Ref::new(5));
    let font_ref = |i: usize| Ref::new(6 + 5 * i as i32);
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page_id]).count(1);
    {
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, 595.0, 842.0));
        page.parent(tree);
        page.contents(contents);
        let mut resources = page.resources();
        let mut font_dict = resources.fonts();
        for (i, face) in Face::ALL.iter().enumerate() {
            font_dict.pair(Name(face.resource()), font_ref(i));
        }
        font_dict.finish();
        resources.finish();
        page.finish();
    }

    let faces = Face::ALL.iter().map(|f| FaceUse::new(*f)).collect::<Result<Vec<_>, _>>()?;
    let case = input.case;
    let id = input.identity;
    let d = input.decision;
    let mut p = Page { content: Content::new(), y: 842.0, faces };

    p.content.set_fill_rgb(0.11, 0.23, 0.42);
    p.content.rect(0.0, 770.0, 595.0, 72.0);
    p.content.fill_nonzero();
    p.content.set_fill_rgb(1.0, 1.0, 1.0);
    p.y = 810.0;
    p.text(Face::Bold, 22.0, LEFT, "Proof of identity");
    p.y = 792.0;
    p.text(Face::Regular, 9.0, LEFT, &format!("Issued by {}", input.issuer));
    p.y = 780.0;
    p.text(Face::Regular, 9.0, LEFT, &format!("for identification request {}", case.id));
    p.content.set_fill_rgb(0.0, 0.0, 0.0);
    p.y = 760.0;

    p.heading("Verified person");
    p.field("Name", &format!("{} {}", id.given_name, id.family_name));
    p.field("Date of birth", &id.date_of_birth.map(|d| d.to_string()).unwrap_or_else(|| "not stated".into()));
    p.field("Identifier (sub)", id.sub.as_deref().unwrap_or("not stated"));
    p.field("Country", id.country.as_deref().unwrap_or("not stated"));
    if let Some(exp) = id.document_expires {
        p.field("Document valid until", &exp.to_string());
    }

    p.heading("Verification");
    p.field("Method", &id.authentication_type);
    p.field("Level of assurance", &id.acr);
    p.field("Decided by", &d.actor);
    p.field("Reason", &d.reason);
    p.field("Completed at (UTC)", &fmt_time(d.decided_at));

    p.heading("Request");
    p.field("Case id", &case.id.to_string());
    p.field("Client id", &case.client_id);
    p.field("Reference", case.reference.as_deref().unwrap_or("none"));
    p.field("Requested at (UTC)", &fmt_time(case.created_at));
    if let Some(reason) = &case.reason {
        p.field("Purpose", reason);
    }

    p.heading("Evidence");
    p.text(Face::Regular, 10.0, LEFT, "SHA-256 of the evidence manifest:");
    p.y -= 14.0;
    p.text(Face::Mono, 9.5, LEFT, input.evidence_digest);
    p.y -= 18.0;
    p.text(Face::Regular, 9.0, LEFT, "The manifest is one line per item, \"<kind> <sha256>\\n\", in this order:");
    p.y -= 13.0;
    let room = ((p.y - EVIDENCE_FLOOR) / 11.0).max(0.0) as usize;
    for (n, (kind, sha)) in input.evidence.iter().enumerate() {
        if n + 1 == room && input.evidence.len() > room {
            p.text(Face::Regular, 8.0, LEFT, &format!("… and {} more", input.evidence.len() - n));
            break;
        }
        p.text(Face::Mono, 7.5, LEFT, &format!("{} {}", kind.as_str(), sha));
        p.y -= 11.0;
    }

    // Above the signature block (bottom right, with the QR code of the same address).
    p.y = CHECK_TOP;
    p.text(Face::Bold, 10.0, LEFT, "Check this proof");
    p.y -= 13.0;
    p.text(
        Face::Regular,
        8.0,
        LEFT,
        "Scan the code or open this address: it answers the SHA-256 of the proof Vouch issued.",
    );
    p.y -= 12.0;
    p.text(Face::Mono, 8.0, LEFT, &check_url(input.public_url, &case.id.to_string()));
    p.y -= 12.0;
    p.text(
        Face::Regular,
        8.0,
        LEFT,
        "Compare it with this file's. The kiosk's PAdES signature and its certificate are in the file.",
    );
    p.y = 96.0;
    for line in
        ["Every change to the case is in", "Vouch's hash-chained audit log;", "check it with `vouch audit verify`."]
    {
        p.text(Face::Regular, 8.0, LEFT, line);
        p.y -= 11.0;
    }

    pdf.stream(contents, &p.content.finish());
    for (i, used) in p.faces.iter().enumerate() {
        used.write(&mut pdf, font_ref(i))?;
    }
    pdf.document_info(info)
        .title(TextStr("Proof of identity"))
        .subject(TextStr(&case.id.to_string()))
        .creator(TextStr(input.issuer));
    Ok(pdf.finish())
}

/// The evidence list stops here: below are the check text and the signature block.
const EVIDENCE_FLOOR: f32 = 205.0;
const CHECK_TOP: f32 = 190.0;

/// Where anyone holding the proof checks it: the public answer of `GET /vouch/v1/proofs/{id}`.
pub fn check_url(public_url: &str, case_id: &str) -> String {
    format!("{}/vouch/v1/proofs/{case_id}", public_url.trim_end_matches('/'))
}

/// The proof signed by the kiosk key (PAdES B-B), its visible block at the foot of the page showing `qr_png`.
pub fn seal(
    pdf: &[u8],
    case: &Case,
    issuer: &str,
    qr_png: &[u8],
    identity: &vouch_signature::SigningIdentity,
) -> Result<Vec<u8>, vouch_signature::pdf::PdfError> {
    let case_id = case.id.to_string();
    let opts = vouch_signature::pdf::SignOptions {
        signature_image: qr_png,
        signer_name: issuer,
        signed_at: vouch_store::now(),
        case_id: &case_id,
        reason: "Proof of identity issued by Vouch",
        location: None,
        field_name: "VouchProofOfIdentity",
        attachment: None,
    };
    vouch_signature::pdf::sign(pdf, &opts, identity)
}

/// A QR code of `text` as a PNG, four modules of quiet zone, 4 px a module.
pub fn qr_png(text: &str) -> Result<Vec<u8>, String> {
    use vouch_vision::image::{GrayImage, ImageFormat, Luma};
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(|e| e.to_string())?;
    let (modules, colors) = (code.width() as u32, code.to_colors());
    let (quiet, scale) = (4u32, 4u32);
    let side = (modules + 2 * quiet) * scale;
    let image = GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = ((x / scale).checked_sub(quiet), (y / scale).checked_sub(quiet));
        let dark = match (mx, my) {
            (Some(mx), Some(my)) if mx < modules && my < modules => {
                colors.get((my * modules + mx) as usize) == Some(&qrcode::Color::Dark)
            }
            _ => false,
        };
        Luma([if dark { 0 } else { 255 }])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, ImageFormat::Png).map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

/// The file name integrators see.
pub fn file_name(case: &Case) -> String {
    format!("proof-of-identity-{}.pdf", case.id)
}

pub fn manifest_digest(items: &[(vouch_core::EvidenceKind, String)]) -> String {
    let lines = vouch_core::evidence::manifest_lines(items.iter().map(|(k, s)| (*k, s.as_str())));
    vouch_store::sha256_hex(lines.as_bytes())
}

pub fn evidence_items(evidence: &[Evidence]) -> Vec<(vouch_core::EvidenceKind, String)> {
    evidence.iter().map(|e| (e.kind, e.sha256.clone())).collect()
}

/// What `GET /vouch/v1/proofs/{id}` tells anyone holding a proof: whether Vouch issued one for the request, and
/// the SHA-256 of the signed PDF it issued, to compare with the file in hand. Nothing about the person.
#[derive(Debug, serde::Serialize)]
pub struct ProofCheck {
    pub request_id: String,
    /// The SHA-256 (hex) of the proof PDF as issued, signature included.
    pub proof_sha256: String,
    pub issued_at: String,
    /// Set once retention deleted the stored copy; the hash above still stands.
    pub purged_at: Option<String>,
}

/// The proof issued for `case_id`, or not found (also for a request that has none).
pub async fn check(app: &crate::App, case_id: vouch_core::CaseId) -> Result<ProofCheck, crate::AppError> {
    let evidence = app.db(move |s| s.case_evidence(case_id)).await.map_err(|e| e.with_not_found(NO_PROOF))?;
    let proof = evidence
        .iter()
        .rev()
        .find(|e| e.kind == vouch_core::EvidenceKind::ProofOfIdentity)
        .ok_or_else(|| crate::AppError::not_found(NO_PROOF))?;
    Ok(ProofCheck {
        request_id: case_id.to_string(),
        proof_sha256: proof.sha256.clone(),
        issued_at: crate::rfc3339(proof.created_at),
        purged_at: proof.purged_at.map(crate::rfc3339),
    })
}

const NO_PROOF: &str = "Vouch issued no proof of identity for this request";

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn the_qr_code_reads_back_as_the_check_address() {
        let url = check_url("https://kiosk.example.org:8270/", "120a956e-bde6-4bfb-a6b9-ee564fdb59e9");
        assert_eq!(url, "https://kiosk.example.org:8270/vouch/v1/proofs/120a956e-bde6-4bfb-a6b9-ee564fdb59e9");
        let png = qr_png(&url).unwrap();
        let image = vouch_vision::image::load_from_memory(&png).unwrap().to_luma8();
        let mut prepared =
            rqrr::PreparedImage::prepare_from_greyscale(image.width() as usize, image.height() as usize, |x, y| {
                image.get_pixel(x as u32, y as u32).0[0]
            });
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, content) = grids[0].decode().unwrap();
        assert_eq!(content, url);
    }
}
