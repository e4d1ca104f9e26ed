//! One signing: a person's handwritten signature applied to every document they were given, as the kiosk step,
//! the MasStack sign call and the CLI all do it. Pure computation; the caller stores what comes out.

use base64::Engine;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use vouch_pki::x509::Certificate;

use crate::envelope::{self, BiometricPayload, SignedDocument};
use crate::pdf::{self, SignOptions};
use crate::{iso19794_7, render, Drawn, SignatureError, SigningIdentity};

/// What is embedded in each signed PDF (and kept as evidence) as the biometric structure.
pub const ENVELOPE_FILE_NAME: &str = "biometric-signature.p7m";
/// The name a supplied, opaque `biometric_data` is embedded under.
pub const SUPPLIED_FILE_NAME: &str = "biometric-data.txt";

/// A document as presented for signing: its name and the PDF (already signed by earlier signers, if any).
pub struct Document<'a> {
    pub name: &'a str,
    pub pdf: &'a [u8],
}

/// Where the handwriting comes from.
pub enum Handwriting<'a> {
    /// Drawn on the kiosk's pad: Vouch builds the ISO record, the picture and the escrowed envelope.
    Drawn(&'a Drawn),
    /// Captured by the integrator's own signer app (MasStack's BiometricSignRequest): opaque pen data, embedded
    /// as given, and its picture (PNG or JPEG).
    Supplied { biometric_data: &'a [u8], signature_image: &'a [u8] },
    /// A simple signature: a click, no handwriting. The block carries the signer's name and time only.
    Simple,
}

pub struct Signer<'a> {
    pub name: &'a str,
    pub case_id: &'a str,
    /// The signature dictionary's /Reason.
    pub reason: &'a str,
    pub location: Option<&'a str>,
}

/// Everything one signing produced.
#[derive(Debug)]
pub struct Signed {
    /// The ISO/IEC 19794-7 record, when the signature was drawn at the kiosk.
    pub iso19794_7: Option<Vec<u8>>,
    /// The signature picture: rendered from the pen data, or as supplied.
    pub signature_image: Vec<u8>,
    /// The embedded biometric structure: Vouch's escrow envelope (DER), or the supplied `biometric_data`; empty
    /// for a simple signature.
    pub biometric_data: Vec<u8>,
    /// What it is embedded as; `None` for a simple signature (nothing is embedded).
    pub biometric_file_name: Option<&'static str>,
    /// The signed PDFs, in the order given.
    pub documents: Vec<Vec<u8>>,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Signs every document with the same handwriting. The escrowed structure binds the pen data to the SHA-256 of
/// each document as presented, so the pen data cannot be lifted onto another document.
pub fn sign_documents(
    documents: &[Document<'_>],
    handwriting: &Handwriting<'_>,
    signer: &Signer<'_>,
    identity: &SigningIdentity,
    escrow: &Certificate,
    now: OffsetDateTime,
) -> Result<Signed, SignatureError> {
    if documents.is_empty() {
        return Err(SignatureError::Invalid("there is nothing to sign".into()));
    }
    for d in documents {
        pdf::check(d.pdf)?;
    }
    let (iso, image, biometric, file_name) = match handwriting {
        Handwriting::Drawn(drawn) => {
            drawn.check()?;
            let iso = iso19794_7::from_drawn(drawn)?.encode()?;
            let png = render::png(drawn)?;
            let payload = BiometricPayload {
                format: envelope::FORMAT.into(),
                iso19794_7: base64::engine::general_purpose::STANDARD.encode(&iso),
                documents: documents
                    .iter()
                    .map(|d| SignedDocument { name: d.name.to_string(), sha256: sha256_hex(d.pdf) })
                    .collect(),
                captured_at: now
                    .format(&time::format_description::well_known::Rfc3339)
                    .map_err(|e| SignatureError::Invalid(e.to_string()))?,
                pad: drawn.pad,
                case_id: Some(signer.case_id.to_string()),
            };
            let sealed = envelope::seal(&payload, escrow)?;
            (Some(iso), png, sealed, Some(ENVELOPE_FILE_NAME))
        }
        Handwriting::Supplied { biometric_data, signature_image } => {
            if biometric_data.len() > crate::MAX_BIOMETRIC_DATA_BYTES {
                return Err(SignatureError::TooLarge("biometric_data is over 300 KB".into()));
            }
            if signature_image.len() > crate::MAX_SIGNATURE_IMAGE_BYTES {
                return Err(SignatureError::TooLarge("signature_image is over 500 KB".into()));
            }
            (None, signature_image.to_vec(), biometric_data.to_vec(), Some(SUPPLIED_FILE_NAME))
        }
        Handwriting::Simple => (None, blank_png()?, Vec::new(), None),
    };
    let mut signed = Vec::with_capacity(documents.len());
    for (i, d) in documents.iter().enumerate() {
        let options = SignOptions {
            signature_image: &image,
            signer_name: signer.name,
            signed_at: now,
            case_id: signer.case_id,
            reason: signer.reason,
            location: signer.location,
            field_name: &format!("Vouch signature {} {}", signer.case_id, i + 1),
            attachment: file_name.map(|name| (name, biometric.as_slice())),
        };
        signed.push(pdf::sign(d.pdf, &options, identity)?);
    }
    Ok(Signed {
        iso19794_7: iso,
        signature_image: image,
        biometric_data: biometric,
        biometric_file_name: file_name,
        documents: signed,
    })
}

/// A transparent 1×1 PNG: the picture slot of a simple signature's block.
fn blank_png() -> Result<Vec<u8>, SignatureError> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbaImage::new(1, 1)
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| SignatureError::Render(e.to_string()))?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::pdf::tests::contract;
    use crate::pki::tests::identity;
    use crate::stroke::tests::sample_signature;
    use crate::PointerKind;

    fn signer() -> Signer<'static> {
        Signer { name: "Ana Ruiz", case_id: "case-1", reason: "test", location: None }
    }

    #[test]
    fn a_drawn_signature_signs_every_document_and_binds_each_hash() {
        let id = identity();
        let (a, b) = (contract(1), contract(2));
        let drawn = sample_signature(PointerKind::Pen);
        let docs = [Document { name: "a.pdf", pdf: &a }, Document { name: "b.pdf", pdf: &b }];
        let signed = sign_documents(
            &docs,
            &Handwriting::Drawn(&drawn),
            &signer(),
            id,
            id.certificate(),
            OffsetDateTime::now_utc(),
        )
        .unwrap();
        assert_eq!(signed.documents.len(), 2);
        assert!(signed.documents[0].starts_with(&a) && signed.documents[1].starts_with(&b));
        assert_eq!(signed.biometric_file_name, Some(ENVELOPE_FILE_NAME));
        let (key_pem, _) = id.to_pem().unwrap();
        let payload = envelope::open_with_pem(&signed.biometric_data, &key_pem).unwrap();
        let hashes: Vec<&str> = payload.documents.iter().map(|d| d.sha256.as_str()).collect();
        assert_eq!(hashes, [sha256_hex(&a), sha256_hex(&b)]);
        assert_eq!(payload.case_id.as_deref(), Some("case-1"));
        assert!(iso19794_7::SignRecord::decode(signed.iso19794_7.as_deref().unwrap()).is_ok());
    }

    #[test]
    fn supplied_and_simple_signatures_and_their_limits() {
        let id = identity();
        let pdf = contract(1);
        let docs = [Document { name: "a.pdf", pdf: &pdf }];
        let png = render::png(&sample_signature(PointerKind::Mouse)).unwrap();
        let now = OffsetDateTime::now_utc();
        let sign = |h: &Handwriting<'_>| sign_documents(&docs, h, &signer(), id, id.certificate(), now);
        let supplied = sign(&Handwriting::Supplied { biometric_data: b"sdk-pen-data", signature_image: &png }).unwrap();
        assert_eq!(supplied.biometric_data, b"sdk-pen-data");
        assert_eq!(supplied.biometric_file_name, Some(SUPPLIED_FILE_NAME));
        assert!(supplied.iso19794_7.is_none());
        // A JPEG picture is stamped too.
        let mut jpeg = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(60, 20, image::Rgb([20, 30, 60])))
            .write_to(&mut jpeg, image::ImageFormat::Jpeg)
            .unwrap();
        assert!(sign(&Handwriting::Supplied { biometric_data: b"x", signature_image: jpeg.get_ref() }).is_ok());
        let simple = sign(&Handwriting::Simple).unwrap();
        assert!(simple.biometric_data.is_empty() && simple.biometric_file_name.is_none());
        assert!(simple.documents[0].starts_with(&pdf));

        let big = vec![b'x'; crate::MAX_BIOMETRIC_DATA_BYTES + 1];
        let err = sign(&Handwriting::Supplied { biometric_data: &big, signature_image: &png }).unwrap_err();
        assert!(matches!(err, SignatureError::TooLarge(_)), "{err}");
        let big_image = vec![0u8; crate::MAX_SIGNATURE_IMAGE_BYTES + 1];
        let err = sign(&Handwriting::Supplied { biometric_data: b"x", signature_image: &big_image }).unwrap_err();
        assert!(matches!(err, SignatureError::TooLarge(_)), "{err}");
        assert!(sign_documents(&[], &Handwriting::Simple, &signer(), id, id.certificate(), now).is_err());
        let not_pdf = [Document { name: "x.pdf", pdf: b"GIF89a" }];
        assert!(sign_documents(&not_pdf, &Handwriting::Simple, &signer(), id, id.certificate(), now).is_err());
    }
}
