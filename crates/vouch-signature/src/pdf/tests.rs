#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};
use sha2::{Digest, Sha256};
use vouch_pki::{asn1, tlv};
use vouch_testkit::pades::pyhanko;

use super::*;
use crate::pki::tests::identity;
use crate::stroke::tests::sample_signature;
use crate::stroke::PointerKind;

/// A small contract: `pages` A4 pages of text, as pdf-writer writes it (classic cross-reference table).
pub fn contract(pages: usize) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let (catalog, tree, font) = (Ref::new(1), Ref::new(2), Ref::new(3));
    pdf.catalog(catalog).pages(tree);
    let page_ids: Vec<Ref> = (0..pages).map(|i| Ref::new(10 + 2 * i as i32)).collect();
    pdf.pages(tree).kids(page_ids.iter().copied()).count(pages as i32);
    pdf.type1_font(font).base_font(Name(b"Helvetica"));
    for (i, id) in page_ids.iter().enumerate() {
        let contents = Ref::new(11 + 2 * i as i32);
        let mut page = pdf.page(*id);
        page.media_box(Rect::new(0.0, 0.0, 595.0, 842.0)).parent(tree).contents(contents);
        page.resources().fonts().pair(Name(b"F1"), font);
        page.finish();
        let mut c = Content::new();
        c.begin_text();
        c.set_font(Name(b"F1"), 12.0);
        c.next_line(72.0, 760.0);
        c.show(Str(format!("Loan agreement, page {} of {pages}", i + 1).as_bytes()));
        c.end_text();
        pdf.stream(contents, &c.finish());
    }
    pdf.finish()
}

pub fn options<'a>(png: &'a [u8], attachment: Option<(&'a str, &'a [u8])>) -> SignOptions<'a> {
    SignOptions {
        signature_image: png,
        signer_name: "Zoë Example",
        signed_at: time::macros::datetime!(2026-11-23 10:04:05 UTC),
        case_id: "6f9619ff-8b86-d011-b42d-00c04fc964ff",
        reason: "Handwritten signature captured at a Vouch kiosk",
        location: Some("Branch 12"),
        field_name: "Vouch signature 1",
        attachment,
    }
}

/// Checks the CMS in /Contents against the byte range with vouch-chip's verifier, returns the byte range.
pub fn verify_embedded(signed: &[u8]) -> [usize; 4] {
    let text = String::from_utf8_lossy(signed);
    let at = text.rfind("/ByteRange [").unwrap() + "/ByteRange [".len();
    let nums: Vec<usize> =
        text[at..].split(']').next().unwrap().split_whitespace().map(|n| n.parse().unwrap()).collect();
    let range = [nums[0], nums[1], nums[2], nums[3]];
    assert_eq!(range[0], 0);
    assert_eq!(range[2] + range[3], signed.len(), "the range runs to the end of the file");
    let contents = &signed[range[1] + 1..range[2] - 1];
    // The placeholder is zero-padded; the DER length says where the CMS ends (trimming zeros would also eat
    // a signature that happens to end in a zero nibble, one run in sixteen).
    let cms = hex::decode(std::str::from_utf8(contents).unwrap()).unwrap();
    let (cms_tlv, _) = tlv::expect(&cms, asn1::SEQUENCE).unwrap();
    let mut covered = signed[..range[1]].to_vec();
    covered.extend_from_slice(&signed[range[2]..]);
    // Reattach the covered bytes as content so the SignedData reader checks digest and signature.
    let items = tlv::parse_all(cms_tlv.value).unwrap();
    let sd = items[1].children().unwrap()[0].children().unwrap();
    let mut parts: Vec<Vec<u8>> = sd.iter().map(asn1::reencode).collect();
    parts[2] = asn1::seq(&[asn1::oid(crate::pki::ID_DATA), asn1::context(0, &asn1::octets(&covered))]);
    let attached = asn1::seq(&[asn1::oid(crate::pki::ID_SIGNED_DATA), asn1::context(0, &asn1::seq(&parts))]);
    let parsed = vouch_pki::cms::parse(&attached).unwrap();
    let signer = &parsed.signers[0];
    assert_eq!(signer.message_digest.as_deref(), Some(Sha256::digest(&covered).as_slice()));
    parsed.verify_signer(signer, parsed.signer_certificate(signer).unwrap()).unwrap();
    range
}

#[test]
fn checks_refuse_what_is_not_a_signable_pdf() {
    assert_eq!(check(b"hello").unwrap_err(), PdfError::NotPdf);
    let good = contract(2);
    assert_eq!(check(&good).unwrap(), PdfInfo { pages: 2, version: "1.7".into(), signature_fields: 0 });
    let truncated = &good[..good.len() / 2];
    assert!(matches!(check(truncated), Err(PdfError::Broken(_))));
    let mut garbled = good.clone();
    let at = garbled.windows(4).position(|w| w == b"xref").unwrap();
    garbled.truncate(at);
    garbled.extend_from_slice(b"garbage\n%%EOF\n");
    assert!(matches!(check(&garbled), Err(PdfError::Broken(_)) | Err(PdfError::NoPages)), "{:?}", check(&garbled));
    let mut encrypted = good.clone();
    let trailer = encrypted.windows(7).rposition(|w| w == b"trailer").unwrap();
    encrypted.splice(
        trailer + 7..trailer + 7,
        b"\n<< /Encrypt << /Filter /Standard /V 1 /R 2 /O <00> /U <00> /P -4 >> >>".iter().copied(),
    );
    assert_eq!(check(&encrypted).unwrap_err(), PdfError::Encrypted);
    let big = vec![b' '; MAX_PDF_BYTES + 1];
    assert_eq!(check(&big).unwrap_err(), PdfError::TooLarge(MAX_PDF_BYTES));
}

#[test]
fn a_signed_pdf_keeps_the_original_bytes_and_its_signature_verifies() {
    let original = contract(2);
    let png = crate::render::png(&sample_signature(PointerKind::Pen)).unwrap();
    let attachment = b"encrypted biometric structure".to_vec();
    let signed = sign(&original, &options(&png, Some(("biometric-signature.p7m", &attachment))), identity()).unwrap();
    assert!(signed.starts_with(&original), "incremental: the original bytes are untouched");
    let range = verify_embedded(&signed);
    assert!(range[1] > original.len());

    let info = check(&signed).unwrap();
    assert_eq!((info.pages, info.signature_fields), (2, 1));
    let doc = lopdf::Document::load_mem(&signed).unwrap();
    let sig_text = String::from_utf8_lossy(&signed[original.len()..]).into_owned();
    assert!(sig_text.contains("/SubFilter /ETSI.CAdES.detached"));
    assert!(sig_text.contains("/M (D:20261123100405Z)"));
    // The widget sits on the last page, with an appearance.
    let last = *doc.get_pages().values().last().unwrap();
    let annots = doc.get_dictionary(last).unwrap().get(b"Annots").unwrap().as_array().unwrap();
    assert_eq!(annots.len(), 1);
    let widget = doc.get_dictionary(annots[0].as_reference().unwrap()).unwrap();
    assert_eq!(widget.get(b"FT").unwrap().as_name().unwrap(), b"Sig");
    assert!(widget.get(b"AP").is_ok());
    // The attachment is in the embedded files.
    let catalog = doc.catalog().unwrap();
    let names = catalog.get(b"Names").unwrap().as_dict().unwrap();
    let tree = names.get(b"EmbeddedFiles").unwrap().as_dict().unwrap();
    let entries = tree.get(b"Names").unwrap().as_array().unwrap();
    assert_eq!(entries[0].as_str().unwrap(), b"biometric-signature.p7m");
    assert!(signed.windows(attachment.len()).any(|w| w == attachment.as_slice()));
    // pdftotext sees the stamped block (poppler renders the appearance).
    let form = doc.catalog().unwrap().get(b"AcroForm").unwrap();
    let form = doc.get_dictionary(form.as_reference().unwrap()).unwrap();
    assert_eq!(form.get(b"SigFlags").unwrap().as_i64().unwrap(), 3);
}

#[test]
fn a_second_signature_appends_again_and_both_byte_ranges_hold() {
    let png = crate::render::png(&sample_signature(PointerKind::Pen)).unwrap();
    let once = sign(&contract(1), &options(&png, None), identity()).unwrap();
    let mut second = options(&png, None);
    second.field_name = "Vouch signature 2";
    second.signer_name = "Second Signer";
    let twice = sign(&once, &second, identity()).unwrap();
    assert!(twice.starts_with(&once));
    verify_embedded(&once);
    verify_embedded(&twice);
    assert_eq!(check(&twice).unwrap().signature_fields, 2);
}

#[test]
fn a_changed_byte_breaks_the_signature() {
    let png = crate::render::png(&sample_signature(PointerKind::Pen)).unwrap();
    let mut signed = sign(&contract(1), &options(&png, None), identity()).unwrap();
    let at = signed.windows(13).position(|w| w == b"Loan agreemen").unwrap();
    signed[at] = b'l';
    let result = std::panic::catch_unwind(|| verify_embedded(&signed));
    assert!(result.is_err(), "a tampered document must not verify");
}

#[test]
fn a_bad_signature_image_is_refused_before_decoding() {
    let bomb = {
        // A PNG header claiming 20000×20000.
        let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        v.extend_from_slice(&20000u32.to_be_bytes());
        v.extend_from_slice(&20000u32.to_be_bytes());
        v.extend_from_slice(&[8, 6, 0, 0, 0]);
        let mut crc = flate2::Crc::new();
        crc.update(&v[12..]);
        v.extend_from_slice(&crc.sum().to_be_bytes());
        v
    };
    let e = sign(&contract(1), &options(&bomb, None), identity()).unwrap_err();
    assert!(e.to_string().contains("20000"), "{e}");
    let e = sign(&contract(1), &options(b"not an image", None), identity()).unwrap_err();
    assert!(e.to_string().contains("image"), "{e}");
}

fn assert_pades_bb(report: &serde_json::Value, count: usize) {
    let sigs = report["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), count, "{report:#}");
    for sig in sigs {
        let details = sig["details"].as_str().unwrap_or_default();
        assert_eq!(sig["bottom_line"], true, "{details}");
        assert_eq!(sig["intact"], true, "{details}");
        assert_eq!(sig["valid"], true, "{details}");
        assert_eq!(sig["trusted"], true, "{details}");
        assert_eq!(sig["pades_bb_problems"], serde_json::json!([]), "{details}");
    }
}

#[test]
fn pyhanko_validates_the_signed_pdf_as_pades_baseline_b() {
    let png = crate::render::png(&sample_signature(PointerKind::Pen)).unwrap();
    let attachment = b"encrypted biometric structure".to_vec();
    let signed =
        sign(&contract(3), &options(&png, Some(("biometric-signature.p7m", &attachment))), identity()).unwrap();
    let (_, cert_pem) = identity().to_pem().unwrap();
    let report = pyhanko(&signed, &cert_pem);
    assert_pades_bb(&report, 1);
    assert_eq!(report["signatures"][0]["coverage"], "ENTIRE_FILE");
    assert!(report["signatures"][0]["signer"].as_str().unwrap().contains("self-signed"));

    // A second signer: both validate; the first saw only a form-filling change after it.
    let mut second = options(&png, None);
    second.field_name = "Vouch signature 2";
    let twice = sign(&signed, &second, identity()).unwrap();
    let report = pyhanko(&twice, &cert_pem);
    assert_pades_bb(&report, 2);
    assert_eq!(report["signatures"][0]["coverage"], "ENTIRE_REVISION");
    assert_eq!(report["signatures"][0]["modification_level"], "FORM_FILLING", "{report:#}");

    // Tampering after signing is caught by the independent validator too.
    let mut tampered = signed.clone();
    let at = tampered.windows(13).position(|w| w == b"Loan agreemen").unwrap();
    tampered[at] = b'l';
    let report = pyhanko(&tampered, &cert_pem);
    assert_eq!(report["signatures"][0]["intact"], false, "{report:#}");
}

fn openssl(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    let out = std::process::Command::new("openssl").args(args).current_dir(dir).output().expect("openssl CLI");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

#[test]
fn a_pkcs12_made_by_openssl_signs_and_pyhanko_trusts_its_ca() {
    // A CA and a signing certificate it issued, bundled by openssl as an admin would bring them.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "30",
            "-subj",
            "/O=Bank/CN=Bank Test CA",
        ],
        d,
    );
    openssl(
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "kiosk.key",
            "-out",
            "kiosk.csr",
            "-subj",
            "/O=Bank/CN=Branch 12 kiosk",
        ],
        d,
    );
    std::fs::write(d.join("ext.cnf"), "keyUsage=critical,digitalSignature,nonRepudiation\n").unwrap();
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "kiosk.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "kiosk.pem",
            "-days",
            "30",
            "-extfile",
            "ext.cnf",
        ],
        d,
    );
    openssl(
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "kiosk.key",
            "-in",
            "kiosk.pem",
            "-certfile",
            "ca.pem",
            "-out",
            "kiosk.p12",
            "-passout",
            "pass:s3cret",
        ],
        d,
    );
    let p12 = std::fs::read(d.join("kiosk.p12")).unwrap();
    assert!(crate::pki::SigningIdentity::from_pkcs12(&p12, "wrong").unwrap_err().to_string().contains("password"));
    let id = crate::pki::SigningIdentity::from_pkcs12(&p12, "s3cret").unwrap();
    assert!(!id.is_self_signed());
    assert!(id.subject().contains("Branch 12 kiosk"), "{}", id.subject());
    let png = crate::render::png(&sample_signature(PointerKind::Touch)).unwrap();
    let signed = sign(&contract(1), &options(&png, None), &id).unwrap();
    let ca = std::fs::read_to_string(d.join("ca.pem")).unwrap();
    assert_pades_bb(&pyhanko(&signed, &ca), 1);
}

#[test]
fn openssl_opens_the_biometric_envelope_with_the_escrow_key() {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let escrow = identity();
    let (key_pem, _) = escrow.to_pem().unwrap();
    std::fs::write(d.join("escrow.key"), key_pem).unwrap();
    let drawn = sample_signature(PointerKind::Pen);
    let iso = crate::iso19794_7::from_drawn(&drawn).unwrap().encode().unwrap();
    let payload = crate::envelope::BiometricPayload {
        format: crate::envelope::FORMAT.into(),
        iso19794_7: base64::engine::general_purpose::STANDARD.encode(&iso),
        documents: vec![crate::envelope::SignedDocument { name: "loan.pdf".into(), sha256: "cd".repeat(32) }],
        captured_at: "2026-11-23T10:04:05Z".into(),
        pad: drawn.pad,
        case_id: None,
    };
    std::fs::write(d.join("bio.der"), crate::envelope::seal(&payload, escrow.certificate()).unwrap()).unwrap();
    let out = openssl(&["cms", "-decrypt", "-inform", "DER", "-in", "bio.der", "-inkey", "escrow.key"], d);
    let opened: crate::envelope::BiometricPayload = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(opened, payload);
    let iso_back = base64::engine::general_purpose::STANDARD.decode(&opened.iso19794_7).unwrap();
    assert_eq!(crate::iso19794_7::SignRecord::decode(&iso_back).unwrap().points.len(), drawn.samples.len());
}
