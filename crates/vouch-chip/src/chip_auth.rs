//! Chip authentication, version 1 (ICAO 9303 part 11 §6.2, BSI TR-03110 part 1 §3.4). DG14 holds the chip's
//! static key-agreement key, signed through EF.SOD. The terminal sends an ephemeral key, both sides agree a secret
//! with the chip's static key, and secure messaging restarts under keys from it. Only a chip holding the private
//! half can answer under the new keys, so the next protected read proves the chip genuine, and, unlike active
//! authentication, it leaves no signature a third party could replay or use to track the holder.
//!
//! Both key agreements are built: ECDH on any prime curve DG14 names or spells out, and DH on any group of at
//! least 1024 bits. With 3DES the key goes in MSE:Set KAT; with AES in MSE:Set AT and GENERAL AUTHENTICATE.
//! The chip's side is here too, for the emulator.

use num_bigint_dig::BigUint;

use crate::apdu::Command;
use crate::asn1::{self, Cursor};
use crate::crypto::cipher::CipherKind;
use crate::crypto::dh::DhGroup;
use crate::crypto::ec::{Curve, Point};
use crate::pace::CamEvidence;
use crate::pki::x509::{self, PublicKey};
use crate::reader::{AuthStatus, ChipCheck};
use crate::secure_messaging::SecureMessaging;
use crate::security_infos::{self, Agreement, SecurityInfos};
use crate::tlv;

/// X9.42 `dhpublicnumber`, with p, g and q.
pub const DH_PUBLIC_NUMBER: &str = "1.2.840.10046.2.1";
/// PKCS #3 `dhKeyAgreement`, with p and g only.
pub const DH_KEY_AGREEMENT: &str = "1.2.840.113549.1.3.1";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaError {
    #[error("DG14's chip authentication key cannot be used: {0}")]
    BadKey(String),
    #[error("DG14 offers chip authentication with {0}, which this reader does not run")]
    Unsupported(String),
}

/// The chip's static public key from DG14.
#[derive(Debug, Clone)]
pub enum ChipKey {
    Ec { curve: Box<Curve>, point: Point },
    Dh { group: DhGroup, y: BigUint },
}

impl ChipKey {
    /// A ChipAuthenticationPublicKeyInfo's SubjectPublicKeyInfo: EC (named or explicit curve) or DH.
    pub fn from_spki(spki: &[u8]) -> Result<ChipKey, CaError> {
        let bad = |e: &dyn std::fmt::Display| CaError::BadKey(e.to_string());
        let (outer, _) = tlv::expect(spki, asn1::SEQUENCE).map_err(|e| bad(&e))?;
        let mut c = Cursor::new(outer.value).map_err(|e| bad(&e))?;
        let algorithm = c.next(asn1::SEQUENCE, "key algorithm").map_err(|e| bad(&e))?;
        let mut alg = Cursor::of(&algorithm, asn1::SEQUENCE, "key algorithm").map_err(|e| bad(&e))?;
        let oid = alg.oid("key algorithm OID").map_err(|e| bad(&e))?;
        match oid.as_str() {
            x509::EC_PUBLIC_KEY => match x509::public_key(spki).map_err(|e| bad(&e))? {
                PublicKey::Ec { curve, point } => Ok(ChipKey::Ec { curve, point }),
                PublicKey::Rsa(_) => Err(CaError::Unsupported("an RSA key".into())),
            },
            DH_PUBLIC_NUMBER | DH_KEY_AGREEMENT => {
                let params = alg.next(asn1::SEQUENCE, "DH parameters").map_err(|e| bad(&e))?;
                let mut p = Cursor::of(&params, asn1::SEQUENCE, "DH parameters").map_err(|e| bad(&e))?;
                let mut int =
                    |what| p.next(asn1::INTEGER, what).map(|t| BigUint::from_bytes_be(asn1::unsigned_bytes(t.value)));
                let prime = int("DH prime").map_err(|e| bad(&e))?;
                let g = int("DH generator").map_err(|e| bad(&e))?;
                // X9.42 states q; PKCS #3's third field is a private value length, not an order.
                let q = if oid == DH_PUBLIC_NUMBER { Some(int("DH order").map_err(|e| bad(&e))?) } else { None };
                let group = DhGroup::new(prime, g, q).map_err(|e| bad(&e))?;
                let bits = c.next(asn1::BIT_STRING, "public key").map_err(|e| bad(&e))?;
                let [0, key @ ..] = bits.value else { return Err(bad(&"the public key bit string is malformed")) };
                let (y, _) = tlv::expect(key, asn1::INTEGER).map_err(|e| bad(&e))?;
                let y = group.decode_public(asn1::unsigned_bytes(y.value)).map_err(|e| bad(&e))?;
                Ok(ChipKey::Dh { group, y })
            }
            other => Err(CaError::Unsupported(format!("key algorithm {other}"))),
        }
    }

    pub fn agreement(&self) -> Agreement {
        match self {
            ChipKey::Ec { .. } => Agreement::Ecdh,
            ChipKey::Dh { .. } => Agreement::Dh,
        }
    }

    /// `ECDH brainpoolP256r1`, `DH MODP-1024/160 (RFC 5114)`: for reports, never secret.
    pub fn describe(&self) -> String {
        match self {
            ChipKey::Ec { curve, .. } => format!("ECDH {}", curve.params.name),
            ChipKey::Dh { group, .. } => format!("DH {}", group.name),
        }
    }
}

/// What the terminal runs: the protocol DG14 names for the chosen key.
#[derive(Debug, Clone)]
pub struct Plan {
    pub oid: String,
    pub cipher: CipherKind,
    pub key: ChipKey,
    pub key_id: Option<u64>,
}

impl Plan {
    /// `ECDH brainpoolP256r1, AES-128`.
    pub fn describe(&self) -> String {
        format!("{}, {}", self.key.describe(), self.cipher.name())
    }
}

fn cipher_rank(cipher: CipherKind) -> u8 {
    match cipher {
        CipherKind::Aes256 => 4,
        CipherKind::Aes192 => 3,
        CipherKind::Aes128 => 2,
        CipherKind::Des3 => 1,
    }
}

/// The chip authentication DG14 offers, strongest cipher first; `None` when it holds no chip authentication key.
/// A DG14 with keys but no ChipAuthenticationInfo means 3DES (ICAO 9303 part 11 §9.2.5).
pub fn plan(infos: &SecurityInfos) -> Option<Result<Plan, CaError>> {
    if infos.chip_auth_keys.is_empty() {
        return None;
    }
    let mut offers: Vec<(String, Agreement, CipherKind, Option<u64>)> =
        infos.chip_auth.iter().map(|i| (i.oid.clone(), i.agreement, i.cipher, i.key_id)).collect();
    if offers.is_empty() {
        offers = infos
            .chip_auth_keys
            .iter()
            .map(|k| (security_infos::ca_oid(k.agreement, CipherKind::Des3), k.agreement, CipherKind::Des3, k.key_id))
            .collect();
    }
    offers.sort_by_key(|o| std::cmp::Reverse(cipher_rank(o.2)));
    let single = infos.chip_auth_keys.len() == 1;
    let mut last_error = None;
    for (oid, agreement, cipher, key_id) in offers {
        let Some(entry) =
            infos.chip_auth_keys.iter().find(|k| k.agreement == agreement && (single || k.key_id == key_id))
        else {
            continue;
        };
        match ChipKey::from_spki(&entry.spki) {
            Ok(key) => return Some(Ok(Plan { oid, cipher, key, key_id: entry.key_id.or(key_id) })),
            Err(e) => last_error = Some(e),
        }
    }
    Some(Err(last_error.unwrap_or_else(|| {
        CaError::BadKey("no ChipAuthenticationInfo matches a ChipAuthenticationPublicKeyInfo".into())
    })))
}

/// The terminal's ephemeral key pair on the chip key's domain parameters.
pub struct Ephemeral {
    private: BigUint,
    /// As it goes to the chip: an uncompressed point, or the DH value at the length of p.
    pub public: Vec<u8>,
}

pub fn ephemeral(key: &ChipKey) -> Result<Ephemeral, CaError> {
    match key {
        ChipKey::Ec { curve, .. } => {
            let private = curve.random_scalar();
            let public =
                curve.encode_point(&curve.mul(&private, &curve.g)).map_err(|e| CaError::BadKey(e.to_string()))?;
            Ok(Ephemeral { private, public })
        }
        ChipKey::Dh { group, .. } => {
            let private = group.random_private();
            let public = group.public(&private);
            Ok(Ephemeral { private, public })
        }
    }
}

fn key_reference(key_id: Option<u64>) -> Vec<u8> {
    let Some(id) = key_id else { return Vec::new() };
    let bytes = id.to_be_bytes();
    let significant = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len() - 1);
    tlv::encode(0x84, bytes.get(significant..).unwrap_or(&[0]))
}

/// The commands that hand the chip our ephemeral key, sent under the current secure messaging.
pub fn commands(plan: &Plan, ephemeral: &Ephemeral) -> Vec<Command> {
    if plan.cipher == CipherKind::Des3 {
        let mut data = tlv::encode(0x91, &ephemeral.public);
        data.extend(key_reference(plan.key_id));
        return vec![Command::new(0x00, 0x22, 0x41, 0xA6).with_data(data)];
    }
    let mut at = tlv::encode(0x80, &asn1::oid_content(&plan.oid));
    at.extend(key_reference(plan.key_id));
    let ga = tlv::encode(0x7C, &tlv::encode(0x80, &ephemeral.public));
    vec![
        Command::new(0x00, 0x22, 0x41, 0xA4).with_data(at),
        Command::new(0x00, 0x86, 0x00, 0x00).with_data(ga).with_le(256),
    ]
}

/// The secure messaging both sides restart with once the chip accepted the key.
pub fn session(plan: &Plan, ephemeral: &Ephemeral) -> Result<SecureMessaging, CaError> {
    let secret = match &plan.key {
        ChipKey::Ec { curve, point } => {
            curve.shared_secret(&ephemeral.private, point).map_err(|e| CaError::BadKey(e.to_string()))?
        }
        ChipKey::Dh { group, y } => group.shared_secret(&ephemeral.private, y),
    };
    Ok(SecureMessaging::from_secret(plan.cipher, &secret))
}

/// PACE-CAM's proof checked against the chip authentication key in DG14: PK_Map,IC = CA_IC · PK_IC on the PACE
/// curve. Only a chip holding SK_IC could have sent a CA_IC that makes this hold for its fresh mapping key.
pub fn verify_cam(evidence: &CamEvidence, dg14: Option<&SecurityInfos>) -> ChipCheck {
    let curve = &evidence.curve;
    let algorithm = Some(format!("PACE-CAM ECDH {}", curve.params.name));
    let failed =
        |why: &str| ChipCheck { status: AuthStatus::Failed, algorithm: algorithm.clone(), problem: Some(why.into()) };
    let Some(infos) = dg14 else {
        return failed("PACE-CAM needs the chip's key from DG14, and DG14 could not be read");
    };
    let same_curve = |c: &Curve| c.p == curve.p && c.a == curve.a && c.b == curve.b && c.n == curve.n && c.g == curve.g;
    let key = infos.chip_auth_keys.iter().find_map(|k| match ChipKey::from_spki(&k.spki) {
        Ok(ChipKey::Ec { curve: c, point }) if same_curve(&c) => Some(point),
        _ => None,
    });
    let Some(pk_ic) = key else {
        return failed("DG14 holds no chip authentication key on the PACE curve");
    };
    let Ok(mapping_key) = curve.decode_point(&evidence.chip_mapping_key) else {
        return failed("the chip's mapping key is not on the curve");
    };
    if curve.mul(&evidence.ca_data, &pk_ic) == mapping_key && mapping_key != Point::Infinity {
        ChipCheck { status: AuthStatus::Authenticated, algorithm, problem: None }
    } else {
        failed("the chip's PACE-CAM proof does not match its DG14 key: it does not hold that key (a copied chip?)")
    }
}

/// The chip's static private key, for the emulator.
#[derive(Clone)]
pub enum ChipPrivateKey {
    Ec { curve: Box<Curve>, d: BigUint },
    Dh { group: DhGroup, x: BigUint },
}

impl ChipPrivateKey {
    /// A key on a BSI TR-03110 standardised domain parameter ID: 0 to 2 are DH groups, 8 to 18 curves.
    pub fn generate(parameter_id: u32) -> Result<ChipPrivateKey, String> {
        if let Some(group) = DhGroup::by_pace_id(parameter_id) {
            let x = group.random_private();
            return Ok(ChipPrivateKey::Dh { group, x });
        }
        let curve = Curve::by_pace_id(parameter_id).ok_or_else(|| format!("no domain parameters {parameter_id}"))?;
        let d = curve.random_scalar();
        Ok(ChipPrivateKey::Ec { curve: Box::new(curve), d })
    }

    pub fn agreement(&self) -> Agreement {
        match self {
            ChipPrivateKey::Ec { .. } => Agreement::Ecdh,
            ChipPrivateKey::Dh { .. } => Agreement::Dh,
        }
    }

    /// The SubjectPublicKeyInfo DG14 carries. `ec_parameters` is the curve's ECParameters (named or explicit).
    pub fn spki(&self, ec_parameters: Vec<u8>) -> Result<Vec<u8>, String> {
        match self {
            ChipPrivateKey::Ec { curve, d } => {
                let point = curve.encode_point(&curve.mul(d, &curve.g)).map_err(|e| e.to_string())?;
                Ok(asn1::seq(&[asn1::seq(&[asn1::oid(x509::EC_PUBLIC_KEY), ec_parameters]), asn1::bit_string(&point)]))
            }
            ChipPrivateKey::Dh { group, x } => {
                let q = group.q.as_ref().ok_or("a DH key for DG14 needs q")?;
                let params = asn1::seq(&[
                    asn1::int_bytes(&group.p.to_bytes_be()),
                    asn1::int_bytes(&group.g.to_bytes_be()),
                    asn1::int_bytes(&q.to_bytes_be()),
                ]);
                let y = group.g.modpow(x, &group.p);
                Ok(asn1::seq(&[
                    asn1::seq(&[asn1::oid(DH_PUBLIC_NUMBER), params]),
                    asn1::bit_string(&asn1::int_bytes(&y.to_bytes_be())),
                ]))
            }
        }
    }

    /// The session after the terminal's ephemeral key arrived; `None` when it is not a valid key in the group.
    pub fn session(&self, cipher: CipherKind, terminal_public: &[u8]) -> Option<SecureMessaging> {
        let secret = match self {
            ChipPrivateKey::Ec { curve, d } => {
                let point = curve.decode_point(terminal_public).ok()?;
                curve.shared_secret(d, &point).ok()?
            }
            ChipPrivateKey::Dh { group, x } => group.shared_secret(x, &group.decode_public(terminal_public).ok()?),
        };
        Some(SecureMessaging::from_secret(cipher, &secret))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::apdu::Response;
    use crate::security_infos::{ChipAuthInfo, ChipAuthPublicKey};

    fn infos(key: &ChipPrivateKey, cipher: Option<CipherKind>) -> SecurityInfos {
        let params = match key {
            ChipPrivateKey::Ec { curve, .. } => asn1::tlv_oid(curve.params.oid),
            ChipPrivateKey::Dh { .. } => Vec::new(),
        };
        SecurityInfos {
            chip_auth: cipher
                .map(|c| ChipAuthInfo {
                    oid: security_infos::ca_oid(key.agreement(), c),
                    agreement: key.agreement(),
                    cipher: c,
                    version: 1,
                    key_id: None,
                })
                .into_iter()
                .collect(),
            chip_auth_keys: vec![ChipAuthPublicKey {
                agreement: key.agreement(),
                spki: key.spki(params).unwrap(),
                key_id: None,
            }],
            ..SecurityInfos::default()
        }
    }

    /// Terminal and chip arrive at the same session on ECDH and DH, with 3DES and AES, and a chip with another
    /// private key (a copy of the data without the key) does not.
    #[test]
    fn terminal_and_chip_restart_secure_messaging_under_the_same_keys() {
        for (id, cipher) in
            [(13, Some(CipherKind::Aes128)), (12, None), (0, Some(CipherKind::Des3)), (1, Some(CipherKind::Aes256))]
        {
            let chip = ChipPrivateKey::generate(id).unwrap();
            let plan = plan(&infos(&chip, cipher)).unwrap().unwrap();
            assert_eq!(plan.cipher, cipher.unwrap_or(CipherKind::Des3), "{}", plan.describe());
            let eph = ephemeral(&plan.key).unwrap();
            let commands = commands(&plan, &eph);
            assert_eq!(commands.len(), if plan.cipher == CipherKind::Des3 { 1 } else { 2 });
            let mut terminal = session(&plan, &eph).unwrap();
            let mut genuine = chip.session(plan.cipher, &eph.public).unwrap();
            let mut copy = ChipPrivateKey::generate(id).unwrap().session(plan.cipher, &eph.public).unwrap();

            let read = Command::new(0, 0xB0, 0, 0).with_le(4);
            let wrapped = terminal.wrap(&read).unwrap();
            let seen = genuine.unwrap_command(&wrapped).unwrap();
            assert_eq!(seen.ins, 0xB0);
            assert!(copy.unwrap_command(&wrapped).is_err(), "{}", plan.describe());
            let answer = genuine.wrap_response(&Response { data: vec![1, 2, 3, 4], sw: 0x9000 }).unwrap();
            assert_eq!(terminal.unwrap(&answer).unwrap().data, vec![1, 2, 3, 4]);
        }
    }

    #[test]
    fn a_dg14_without_keys_offers_nothing_and_a_broken_key_says_why() {
        assert!(plan(&SecurityInfos::default()).is_none());
        let mut broken = infos(&ChipPrivateKey::generate(13).unwrap(), Some(CipherKind::Aes128));
        broken.chip_auth_keys[0].spki.truncate(20);
        assert!(matches!(plan(&broken), Some(Err(CaError::BadKey(_)))));
    }
}
