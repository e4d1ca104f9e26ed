//! The test-passport generator: a test CSCA and document signer, DG1/DG2/DG7/DG11/DG12/DG14/DG15, EF.COM,
//! EF.CardAccess and a signed EF.SOD, with keys for BAC, PACE and active authentication. Every certificate it
//! makes says TEST in its subject: nothing it signs can pass for a real document against a real trust store.

use std::collections::BTreeMap;

use num_bigint_dig::BigUint;
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;

use crate::asn1;
use crate::chip_auth::ChipPrivateKey;
use crate::crypto::cipher::CipherKind;
use crate::crypto::ec::Curve;
use crate::crypto::hash::HashAlgorithm;
use crate::crypto::rsa_sig;
use crate::lds::{self, details, face, mrz};
use crate::pki::sod;
use crate::security_infos::{self, Agreement, Mapping, PaceInfo};

/// How a signer signs: an EC key on a curve (by PACE domain parameter ID), or RSA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySpec {
    Ec(u32),
    Rsa(usize),
    RsaPss(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AaSpec {
    None,
    Rsa(usize),
    Ec(u32),
}

/// Chip authentication in DG14: a static key on BSI TR-03110 domain parameters (0 to 2 DH, 8 to 18 EC) and
/// the cipher its ChipAuthenticationInfo names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaSpec {
    None,
    Key { parameter_id: u32, cipher: CipherKind },
}

#[derive(Debug, Clone)]
pub struct PassportSpec {
    pub document_number: String,
    pub date_of_birth: String,
    pub date_of_expiry: String,
    pub surname: String,
    pub given_names: String,
    pub nationality: String,
    pub sex: String,
    pub can: String,
    /// The portrait: JPEG, JP2 or a raw JPEG 2000 codestream.
    pub portrait: Vec<u8>,
    pub portrait_size: (u16, u16),
    /// PACE offers (curve ID, cipher) in EF.CardAccess; empty leaves PACE out (BAC only).
    pub pace: Vec<(u32, CipherKind)>,
    /// PACE with Chip Authentication Mapping offers (curve ID, AES cipher); the chip authentication key must be
    /// on the same curve.
    pub pace_cam: Vec<(u32, CipherKind)>,
    pub bac: bool,
    pub active_auth: AaSpec,
    pub chip_auth: CaSpec,
    pub csca_key: KeySpec,
    /// Write the CSCA's curve as explicit domain parameters, as several states do.
    pub explicit_curve: bool,
    pub ds_key: KeySpec,
    pub sod_hash: HashAlgorithm,
}

impl PassportSpec {
    /// The ICAO specimen holder with a given portrait: PACE on P-256/AES-128 and brainpoolP256r1/3DES,
    /// BAC, RSA active authentication, chip authentication on brainpoolP256r1/AES-128, a brainpool CSCA with explicit parameters and a P-256 document signer.
    pub fn specimen(portrait: Vec<u8>, portrait_size: (u16, u16)) -> PassportSpec {
        PassportSpec {
            document_number: "L898902C3".into(),
            date_of_birth: "740812".into(),
            date_of_expiry: "340415".into(),
            surname: "ERIKSSON".into(),
            given_names: "ANNA MARIA".into(),
            nationality: "UTO".into(),
            sex: "F".into(),
            can: "123456".into(),
            portrait,
            portrait_size,
            pace: vec![(12, CipherKind::Aes128), (13, CipherKind::Des3)],
            pace_cam: Vec::new(),
            bac: true,
            active_auth: AaSpec::Rsa(1024),
            chip_auth: CaSpec::Key { parameter_id: 13, cipher: CipherKind::Aes128 },
            csca_key: KeySpec::Ec(13),
            explicit_curve: true,
            ds_key: KeySpec::Ec(12),
            sod_hash: HashAlgorithm::Sha256,
        }
    }

    pub fn mrz(&self) -> String {
        let fields = mrz::MrzFields {
            document_code: "P",
            issuing_state: &self.nationality,
            surname: &self.surname,
            given_names: &self.given_names,
            document_number: &self.document_number,
            nationality: &self.nationality,
            date_of_birth: &self.date_of_birth,
            sex: &self.sex,
            date_of_expiry: &self.date_of_expiry,
        };
        mrz::td3(&fields, "ZE184226B")
    }
}

#[derive(Clone)]
pub enum PrivateKey {
    Ec { curve: Box<Curve>, d: BigUint },
    Rsa { key: Box<RsaPrivateKey>, pss: bool },
}

impl PrivateKey {
    pub fn generate(spec: KeySpec) -> Result<PrivateKey, String> {
        Ok(match spec {
            KeySpec::Ec(id) => {
                let curve = Curve::by_pace_id(id).ok_or_else(|| format!("no curve {id}"))?;
                let d = curve.random_scalar();
                PrivateKey::Ec { curve: Box::new(curve), d }
            }
            KeySpec::Rsa(bits) | KeySpec::RsaPss(bits) => PrivateKey::Rsa {
                key: Box::new(RsaPrivateKey::new(&mut rand::rngs::OsRng, bits).map_err(|e| e.to_string())?),
                pss: matches!(spec, KeySpec::RsaPss(_)),
            },
        })
    }

    /// SubjectPublicKeyInfo.
    pub fn spki(&self, explicit: bool) -> Result<Vec<u8>, String> {
        match self {
            PrivateKey::Ec { curve, d } => {
                let point = curve.encode_point(&curve.mul(d, &curve.g)).map_err(|e| e.to_string())?;
                let params = if explicit { explicit_parameters(curve)? } else { asn1::tlv_oid(curve.params.oid) };
                Ok(asn1::seq(&[
                    asn1::seq(&[asn1::oid(crate::pki::x509::EC_PUBLIC_KEY), params]),
                    asn1::bit_string(&point),
                ]))
            }
            PrivateKey::Rsa { key, .. } => {
                let public =
                    asn1::seq(&[asn1::int_bytes(&key.n().to_bytes_be()), asn1::int_bytes(&key.e().to_bytes_be())]);
                Ok(asn1::seq(&[
                    asn1::seq(&[asn1::oid(crate::pki::x509::RSA_ENCRYPTION), asn1::null()]),
                    asn1::bit_string(&public),
                ]))
            }
        }
    }

    /// The AlgorithmIdentifier this key signs with, over `hash`.
    pub fn signature_algorithm(&self, hash: HashAlgorithm) -> Vec<u8> {
        match self {
            PrivateKey::Ec { .. } => {
                let oid = match hash {
                    HashAlgorithm::Sha1 => "1.2.840.10045.4.1",
                    HashAlgorithm::Sha224 => "1.2.840.10045.4.3.1",
                    HashAlgorithm::Sha256 => "1.2.840.10045.4.3.2",
                    HashAlgorithm::Sha384 => "1.2.840.10045.4.3.3",
                    HashAlgorithm::Sha512 => "1.2.840.10045.4.3.4",
                };
                asn1::seq(&[asn1::oid(oid)])
            }
            PrivateKey::Rsa { pss: true, .. } => {
                let hash_alg = asn1::seq(&[asn1::oid(hash.oid()), asn1::null()]);
                let mgf = asn1::seq(&[asn1::oid("1.2.840.113549.1.1.8"), hash_alg.clone()]);
                let params = asn1::seq(&[
                    asn1::context(0, &hash_alg),
                    asn1::context(1, &mgf),
                    asn1::context(2, &asn1::int(hash.output_len() as u64)),
                ]);
                asn1::seq(&[asn1::oid(crate::pki::x509::RSASSA_PSS), params])
            }
            PrivateKey::Rsa { .. } => {
                let oid = match hash {
                    HashAlgorithm::Sha1 => "1.2.840.113549.1.1.5",
                    HashAlgorithm::Sha224 => "1.2.840.113549.1.1.14",
                    HashAlgorithm::Sha256 => "1.2.840.113549.1.1.11",
                    HashAlgorithm::Sha384 => "1.2.840.113549.1.1.12",
                    HashAlgorithm::Sha512 => "1.2.840.113549.1.1.13",
                };
                asn1::seq(&[asn1::oid(oid), asn1::null()])
            }
        }
    }

    pub fn sign(&self, hash: HashAlgorithm, message: &[u8]) -> Result<Vec<u8>, String> {
        let digest = hash.digest(message);
        match self {
            PrivateKey::Ec { curve, d } => {
                let (r, s) = curve.ecdsa_sign(d, &digest);
                Ok(asn1::seq(&[asn1::int_bytes(&r.to_bytes_be()), asn1::int_bytes(&s.to_bytes_be())]))
            }
            PrivateKey::Rsa { key, pss: true } => {
                let salt = hash.output_len();
                let scheme = match hash {
                    HashAlgorithm::Sha1 => rsa::Pss::new_with_salt::<sha1::Sha1>(salt),
                    HashAlgorithm::Sha224 => rsa::Pss::new_with_salt::<sha2::Sha224>(salt),
                    HashAlgorithm::Sha256 => rsa::Pss::new_with_salt::<sha2::Sha256>(salt),
                    HashAlgorithm::Sha384 => rsa::Pss::new_with_salt::<sha2::Sha384>(salt),
                    HashAlgorithm::Sha512 => rsa::Pss::new_with_salt::<sha2::Sha512>(salt),
                };
                key.sign_with_rng(&mut rand::rngs::OsRng, scheme, &digest).map_err(|e| e.to_string())
            }
            PrivateKey::Rsa { key, .. } => rsa_sig::sign_pkcs1v15(key, hash, &digest).map_err(|e| e.to_string()),
        }
    }
}

fn explicit_parameters(curve: &Curve) -> Result<Vec<u8>, String> {
    let size = curve.size;
    let g = curve.encode_point(&curve.g).map_err(|e| e.to_string())?;
    Ok(asn1::seq(&[
        asn1::int(1),
        asn1::seq(&[asn1::oid("1.2.840.10045.1.1"), asn1::int_bytes(&curve.p.to_bytes_be())]),
        asn1::seq(&[
            asn1::octets(&crate::crypto::ec::fixed_bytes(&curve.a, size)),
            asn1::octets(&crate::crypto::ec::fixed_bytes(&curve.b, size)),
        ]),
        asn1::octets(&g),
        asn1::int_bytes(&curve.n.to_bytes_be()),
        asn1::int(u64::from(curve.params.h)),
    ]))
}

fn name(common_name: &str) -> Vec<u8> {
    let attr = |oid: &str, tag: u32, value: &str| {
        asn1::set(&[asn1::seq(&[asn1::oid(oid), crate::tlv::encode(tag, value.as_bytes())])])
    };
    asn1::seq(&[attr("2.5.4.6", 0x13, "UT"), attr("2.5.4.10", 0x0C, "Vouch TEST"), attr("2.5.4.3", 0x0C, common_name)])
}

fn key_id(spki: &[u8]) -> Vec<u8> {
    HashAlgorithm::Sha1.digest(spki)
}

/// An X.509 v3 certificate for `subject_key`, signed by `issuer_key`.
#[allow(clippy::too_many_arguments)]
pub fn certificate(
    serial: u64,
    issuer: &str,
    issuer_spki: &[u8],
    issuer_key: &PrivateKey,
    subject: &str,
    subject_spki: &[u8],
    ca: bool,
) -> Result<Vec<u8>, String> {
    let hash = HashAlgorithm::Sha256;
    let algorithm = issuer_key.signature_algorithm(hash);
    let mut extensions = vec![
        asn1::seq(&[asn1::oid("2.5.29.14"), asn1::octets(&asn1::octets(&key_id(subject_spki)))]),
        asn1::seq(&[
            asn1::oid("2.5.29.35"),
            asn1::octets(&asn1::seq(&[crate::tlv::encode(0x80, &key_id(issuer_spki))])),
        ]),
    ];
    if ca {
        extensions.push(asn1::seq(&[
            asn1::oid("2.5.29.19"),
            vec![0x01, 0x01, 0xFF],
            asn1::octets(&asn1::seq(&[vec![0x01, 0x01, 0xFF], asn1::int(0)])),
        ]));
    }
    let validity = asn1::seq(&[crate::tlv::encode(0x17, b"250101000000Z"), crate::tlv::encode(0x17, b"450101000000Z")]);
    let tbs = asn1::seq(&[
        asn1::context(0, &asn1::int(2)),
        asn1::int(serial),
        algorithm.clone(),
        name(issuer),
        validity,
        name(subject),
        subject_spki.to_vec(),
        asn1::context(3, &asn1::seq(&extensions)),
    ]);
    let signature = issuer_key.sign(hash, &tbs)?;
    Ok(asn1::seq(&[tbs, algorithm, asn1::bit_string(&signature)]))
}

/// A CMS SignedData ContentInfo over `content`, signed by `signer_key` with its certificate embedded.
pub fn signed_data(
    content_type: &str,
    content: &[u8],
    hash: HashAlgorithm,
    signer_key: &PrivateKey,
    signer_cert: &[u8],
) -> Result<Vec<u8>, String> {
    let cert = crate::pki::x509::Certificate::parse(signer_cert).map_err(|e| e.to_string())?;
    let digest_alg = asn1::seq(&[asn1::oid(hash.oid()), asn1::null()]);
    let attrs = [
        asn1::seq(&[asn1::oid("1.2.840.113549.1.9.3"), asn1::set(&[asn1::oid(content_type)])]),
        asn1::seq(&[asn1::oid("1.2.840.113549.1.9.4"), asn1::set(&[asn1::octets(&hash.digest(content))])]),
    ];
    let signed_attrs = asn1::set(&attrs);
    let signature = signer_key.sign(hash, &signed_attrs)?;
    let signer_info = asn1::seq(&[
        asn1::int(1),
        asn1::seq(&[cert.issuer.clone(), crate::tlv::encode(asn1::INTEGER, &cert.serial)]),
        digest_alg.clone(),
        asn1::context(0, &attrs.concat()),
        signer_key.signature_algorithm(hash),
        asn1::octets(&signature),
    ]);
    let sd = asn1::seq(&[
        asn1::int(3),
        asn1::set(&[digest_alg]),
        asn1::seq(&[asn1::oid(content_type), asn1::context(0, &asn1::octets(content))]),
        asn1::context(0, signer_cert),
        asn1::set(&[signer_info]),
    ]);
    Ok(asn1::seq(&[asn1::oid(crate::pki::cms::SIGNED_DATA), asn1::context(0, &sd)]))
}

/// Everything on the test chip, and the secrets the emulator needs to act as it.
#[derive(Clone)]
pub struct TestPassport {
    pub mrz: String,
    pub can: String,
    pub bac: bool,
    pub pace: Vec<PaceInfo>,
    /// Elementary files by file identifier (EF.CardAccess lives in the master file, the rest in LDS1).
    pub files: BTreeMap<u16, Vec<u8>>,
    pub card_access: Option<Vec<u8>>,
    pub aa_key: Option<PrivateKey>,
    /// The chip authentication key and cipher. Replacing the key after generation makes a copied chip: the
    /// data still verifies, but the chip cannot answer under the keys DG14 implies.
    pub ca_key: Option<(ChipPrivateKey, CipherKind)>,
    pub csca_der: Vec<u8>,
    pub ds_der: Vec<u8>,
}

impl TestPassport {
    /// The files a reader gets from this passport, EF.CardAccess included.
    pub fn chip_files(&self) -> crate::files::ChipFiles {
        let mut files = crate::files::ChipFiles::from_read(&self.files);
        files.card_access = self.card_access.clone();
        files
    }

    pub fn generate(spec: &PassportSpec) -> Result<TestPassport, String> {
        let csca_key = PrivateKey::generate(spec.csca_key)?;
        let csca_spki = csca_key.spki(spec.explicit_curve)?;
        let csca_der = certificate(1, "CSCA UTOPIA TEST", &csca_spki, &csca_key, "CSCA UTOPIA TEST", &csca_spki, true)?;
        let ds_key = PrivateKey::generate(spec.ds_key)?;
        let ds_spki = ds_key.spki(false)?;
        let ds_der = certificate(2, "CSCA UTOPIA TEST", &csca_spki, &csca_key, "DS UTOPIA TEST", &ds_spki, false)?;

        let mrz = spec.mrz();
        let offer = |mapping: Mapping| {
            move |(id, cipher): &(u32, CipherKind)| PaceInfo {
                oid: security_infos::pace_oid(Agreement::Ecdh, mapping, *cipher),
                agreement: Agreement::Ecdh,
                mapping,
                cipher: *cipher,
                version: 2,
                parameter_id: Some(u64::from(*id)),
            }
        };
        let mut pace: Vec<PaceInfo> = spec.pace.iter().map(offer(Mapping::Generic)).collect();
        pace.extend(spec.pace_cam.iter().map(offer(Mapping::ChipAuthentication)));
        if let Some((id, _)) = spec.pace_cam.first() {
            if !matches!(spec.chip_auth, CaSpec::Key { parameter_id, .. } if parameter_id == *id) {
                return Err("PACE-CAM needs a chip authentication key on the PACE curve".into());
            }
        }
        let aa_key = match spec.active_auth {
            AaSpec::None => None,
            AaSpec::Rsa(bits) => Some(PrivateKey::generate(KeySpec::Rsa(bits))?),
            AaSpec::Ec(id) => Some(PrivateKey::generate(KeySpec::Ec(id))?),
        };

        let ca_key = match spec.chip_auth {
            CaSpec::None => None,
            CaSpec::Key { parameter_id, cipher } => Some((ChipPrivateKey::generate(parameter_id)?, cipher)),
        };

        let mut groups: BTreeMap<u8, Vec<u8>> = BTreeMap::new();
        groups.insert(1, lds::encode_dg1(&mrz));
        let (w, h) = spec.portrait_size;
        let format = face::sniff(&spec.portrait).unwrap_or(face::ImageFormat::Jpeg);
        groups.insert(2, face::encode_dg2(&spec.portrait, format, w, h));
        let full_name = format!("{}<<{}", spec.surname, spec.given_names.replace(' ', "<"));
        groups
            .insert(11, details::encode_dg11(&full_name, "ZE184226B", &format!("19{}", spec.date_of_birth), "ZENITH"));
        groups.insert(12, details::encode_dg12("UTOPIA TEST PASSPORT OFFICE", "20240415"));
        let mut dg14_infos: Vec<Vec<u8>> = pace.iter().map(security_infos::encode_pace_info).collect();
        if let Some(PrivateKey::Ec { .. }) = &aa_key {
            dg14_infos.push(asn1::seq(&[
                asn1::oid(security_infos::ID_AA),
                asn1::int(1),
                asn1::oid(&format!("{}.3", security_infos::ECDSA_PLAIN)),
            ]));
        }
        if let Some((key, cipher)) = &ca_key {
            let ec_parameters = match key {
                ChipPrivateKey::Ec { curve, .. } if spec.explicit_curve => explicit_parameters(curve)?,
                ChipPrivateKey::Ec { curve, .. } => asn1::tlv_oid(curve.params.oid),
                ChipPrivateKey::Dh { .. } => Vec::new(),
            };
            let pk_oid = match key.agreement() {
                Agreement::Ecdh => security_infos::ID_PK_ECDH,
                Agreement::Dh => security_infos::ID_PK_DH,
            };
            dg14_infos.push(asn1::seq(&[asn1::oid(&security_infos::ca_oid(key.agreement(), *cipher)), asn1::int(1)]));
            dg14_infos.push(asn1::seq(&[asn1::oid(pk_oid), key.spki(ec_parameters)?]));
        }
        if !dg14_infos.is_empty() {
            groups.insert(14, crate::tlv::encode(0x6E, &asn1::set(&dg14_infos)));
        }
        if let Some(key) = &aa_key {
            groups.insert(15, crate::tlv::encode(0x6F, &key.spki(false)?));
        }

        let lso = sod::lds_security_object(spec.sod_hash, &groups);
        let content_info = signed_data(sod::LDS_SECURITY_OBJECT, &lso, spec.sod_hash, &ds_key, &ds_der)?;
        let mut files: BTreeMap<u16, Vec<u8>> = BTreeMap::new();
        files.insert(lds::EF_COM, lds::encode_com(&groups.keys().copied().collect::<Vec<_>>()));
        files.insert(lds::EF_SOD, crate::tlv::encode(sod::TAG, &content_info));
        for (n, bytes) in groups {
            if let Some(dg) = lds::data_group(n) {
                files.insert(dg.fid, bytes);
            }
        }
        let card_access = (!pace.is_empty())
            .then(|| asn1::set(&pace.iter().map(security_infos::encode_pace_info).collect::<Vec<_>>()));
        Ok(TestPassport {
            mrz,
            can: spec.can.clone(),
            bac: spec.bac,
            pace,
            files,
            card_access,
            aa_key,
            ca_key,
            csca_der,
            ds_der,
        })
    }

    /// The CSCA as PEM, for a trust-store directory.
    pub fn csca_pem(&self) -> String {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&self.csca_der);
        let lines: Vec<String> = b64.as_bytes().chunks(64).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
    }

    pub fn data_group(&self, n: u8) -> Option<&Vec<u8>> {
        self.files.get(&lds::data_group(n)?.fid)
    }
}
