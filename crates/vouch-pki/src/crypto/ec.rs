//! Elliptic curves in short Weierstrass form over any prime field, for PACE, chip authentication, ECDSA in
//! certificates and active authentication. One generic implementation serves every ICAO curve, including those a
//! certificate spells out as explicit domain parameters.
//!
//! The arithmetic is not constant-time: the secrets it touches are the terminal's ephemeral PACE keys (fresh per
//! session and only ever exposed to the chip on the reader) and the emulator's test keys.

use num_bigint_dig::{BigUint, RandBigInt};
use num_traits::{One, Zero};

use super::curves;

/// A curve as tabled in `curves.rs`: big-endian hex, so the table can be checked against `openssl ecparam`.
pub struct CurveParams {
    pub name: &'static str,
    /// DER content of the named-curve OID.
    pub oid: &'static [u8],
    /// BSI TR-03110 standardised domain parameter ID, as PACEInfo's parameterId.
    pub pace_id: u32,
    pub p: &'static str,
    pub a: &'static str,
    pub b: &'static str,
    pub gx: &'static str,
    pub gy: &'static str,
    pub n: &'static str,
    pub h: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EcError {
    #[error("the point is not on the curve")]
    NotOnCurve,
    #[error("the point encoding is not an uncompressed point of this curve")]
    BadEncoding,
    #[error("the curve is not one of the ICAO curves")]
    UnknownCurve,
    #[error("the computation reached the point at infinity")]
    Infinity,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Point {
    Infinity,
    Affine { x: BigUint, y: BigUint },
}

/// Jacobian coordinates (X/Z², Y/Z³): scalar multiplication without a field inversion per step.
struct Jacobian {
    x: BigUint,
    y: BigUint,
    z: BigUint,
}

#[derive(Clone)]
pub struct Curve {
    pub params: &'static CurveParams,
    pub p: BigUint,
    pub a: BigUint,
    pub b: BigUint,
    pub g: Point,
    pub n: BigUint,
    /// Bytes of a field element.
    pub size: usize,
}

impl std::fmt::Debug for Curve {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.params.name)
    }
}

fn hex_int(s: &str) -> BigUint {
    BigUint::parse_bytes(s.as_bytes(), 16).unwrap_or_default()
}

fn to_fixed(v: &BigUint, size: usize) -> Vec<u8> {
    let bytes = v.to_bytes_be();
    let mut out = vec![0u8; size.saturating_sub(bytes.len())];
    out.extend(bytes.iter().skip(bytes.len().saturating_sub(size)));
    out
}

impl Curve {
    pub fn from_params(params: &'static CurveParams) -> Curve {
        let p = hex_int(params.p);
        Curve {
            params,
            size: params.p.len() / 2,
            a: hex_int(params.a),
            b: hex_int(params.b),
            g: Point::Affine { x: hex_int(params.gx), y: hex_int(params.gy) },
            n: hex_int(params.n),
            p,
        }
    }

    pub fn by_oid(oid: &[u8]) -> Option<Curve> {
        curves::ALL.iter().find(|c| c.oid == oid).map(|c| Curve::from_params(c))
    }

    pub fn by_pace_id(id: u32) -> Option<Curve> {
        curves::ALL.iter().find(|c| c.pace_id == id).map(|c| Curve::from_params(c))
    }

    /// The known curve that explicit domain parameters describe (certificates from several states spell the
    /// curve out instead of naming it). The base point may come compressed or uncompressed.
    pub fn from_explicit(p: &BigUint, a: &BigUint, b: &BigUint, base: &[u8], n: &BigUint) -> Result<Curve, EcError> {
        for params in curves::ALL {
            let curve = Curve::from_params(params);
            if &curve.p == p && &curve.a == a && &curve.b == b && &curve.n == n {
                let g = curve.decode_point_any(base)?;
                if g == curve.g {
                    return Ok(curve);
                }
            }
        }
        Err(EcError::UnknownCurve)
    }

    pub fn order_bytes(&self) -> usize {
        self.n.to_bytes_be().len()
    }

    fn add_mod(&self, a: &BigUint, b: &BigUint) -> BigUint {
        (a + b) % &self.p
    }
    fn sub_mod(&self, a: &BigUint, b: &BigUint) -> BigUint {
        ((a + &self.p) - (b % &self.p)) % &self.p
    }
    fn mul_mod(&self, a: &BigUint, b: &BigUint) -> BigUint {
        (a * b) % &self.p
    }
    fn inv_mod(&self, a: &BigUint) -> BigUint {
        // p is prime: a^(p-2) is the inverse.
        a.modpow(&(&self.p - 2u32), &self.p)
    }

    pub fn is_on_curve(&self, x: &BigUint, y: &BigUint) -> bool {
        if x >= &self.p || y >= &self.p {
            return false;
        }
        self.mul_mod(y, y) == self.curve_rhs(x)
    }

    /// x³ + ax + b.
    fn curve_rhs(&self, x: &BigUint) -> BigUint {
        self.add_mod(&self.add_mod(&self.mul_mod(&self.mul_mod(x, x), x), &self.mul_mod(&self.a, x)), &self.b)
    }

    /// `04 ‖ x ‖ y`, checked to lie on the curve.
    pub fn decode_point(&self, bytes: &[u8]) -> Result<Point, EcError> {
        match bytes.split_first() {
            Some((0x04, xy)) if xy.len() == 2 * self.size => {
                let (x, y) = xy.split_at(self.size);
                let (x, y) = (BigUint::from_bytes_be(x), BigUint::from_bytes_be(y));
                if !self.is_on_curve(&x, &y) {
                    return Err(EcError::NotOnCurve);
                }
                Ok(Point::Affine { x, y })
            }
            _ => Err(EcError::BadEncoding),
        }
    }

    /// Uncompressed or compressed (`02`/`03 ‖ x`).
    pub fn decode_point_any(&self, bytes: &[u8]) -> Result<Point, EcError> {
        match bytes.split_first() {
            Some((prefix @ (0x02 | 0x03), x)) if x.len() == self.size => {
                let x = BigUint::from_bytes_be(x);
                if x >= self.p {
                    return Err(EcError::NotOnCurve);
                }
                let rhs = self.curve_rhs(&x);
                // Every ICAO prime is 3 mod 4, so the square root is rhs^((p+1)/4).
                let mut y = rhs.modpow(&((&self.p + 1u32) >> 2), &self.p);
                if self.mul_mod(&y, &y) != rhs {
                    return Err(EcError::NotOnCurve);
                }
                let odd = y.bits() > 0 && (&y % 2u32).is_one();
                if odd != (*prefix == 0x03) {
                    y = &self.p - &y;
                }
                Ok(Point::Affine { x, y })
            }
            _ => self.decode_point(bytes),
        }
    }

    pub fn encode_point(&self, point: &Point) -> Result<Vec<u8>, EcError> {
        match point {
            Point::Infinity => Err(EcError::Infinity),
            Point::Affine { x, y } => {
                let mut out = vec![0x04];
                out.extend(to_fixed(x, self.size));
                out.extend(to_fixed(y, self.size));
                Ok(out)
            }
        }
    }

    pub fn x_bytes(&self, point: &Point) -> Result<Vec<u8>, EcError> {
        match point {
            Point::Infinity => Err(EcError::Infinity),
            Point::Affine { x, .. } => Ok(to_fixed(x, self.size)),
        }
    }

    fn to_jacobian(point: &Point) -> Option<Jacobian> {
        match point {
            Point::Infinity => None,
            Point::Affine { x, y } => Some(Jacobian { x: x.clone(), y: y.clone(), z: BigUint::one() }),
        }
    }

    fn to_affine(&self, j: Option<Jacobian>) -> Point {
        match j {
            Some(j) if !j.z.is_zero() => {
                let zi = self.inv_mod(&j.z);
                let zi2 = self.mul_mod(&zi, &zi);
                let zi3 = self.mul_mod(&zi2, &zi);
                Point::Affine { x: self.mul_mod(&j.x, &zi2), y: self.mul_mod(&j.y, &zi3) }
            }
            _ => Point::Infinity,
        }
    }

    fn double(&self, j: &Jacobian) -> Option<Jacobian> {
        if j.y.is_zero() {
            return None;
        }
        let y2 = self.mul_mod(&j.y, &j.y);
        let s = self.mul_mod(&self.mul_mod(&j.x, &y2), &BigUint::from(4u32));
        let z2 = self.mul_mod(&j.z, &j.z);
        let z4 = self.mul_mod(&z2, &z2);
        let m =
            self.add_mod(&self.mul_mod(&self.mul_mod(&j.x, &j.x), &BigUint::from(3u32)), &self.mul_mod(&self.a, &z4));
        let x3 = self.sub_mod(&self.mul_mod(&m, &m), &self.add_mod(&s, &s));
        let y4_8 = self.mul_mod(&self.mul_mod(&y2, &y2), &BigUint::from(8u32));
        let y3 = self.sub_mod(&self.mul_mod(&m, &self.sub_mod(&s, &x3)), &y4_8);
        let z3 = self.mul_mod(&self.mul_mod(&j.y, &j.z), &BigUint::from(2u32));
        Some(Jacobian { x: x3, y: y3, z: z3 })
    }

    /// Jacobian + affine.
    fn add_mixed(&self, j: Option<Jacobian>, x2: &BigUint, y2: &BigUint) -> Option<Jacobian> {
        let Some(j) = j else {
            return Some(Jacobian { x: x2.clone(), y: y2.clone(), z: BigUint::one() });
        };
        let z2 = self.mul_mod(&j.z, &j.z);
        let u2 = self.mul_mod(x2, &z2);
        let s2 = self.mul_mod(y2, &self.mul_mod(&z2, &j.z));
        let h = self.sub_mod(&u2, &j.x);
        let r = self.sub_mod(&s2, &j.y);
        if h.is_zero() {
            return if r.is_zero() { self.double(&j) } else { None };
        }
        let h2 = self.mul_mod(&h, &h);
        let h3 = self.mul_mod(&h2, &h);
        let x1h2 = self.mul_mod(&j.x, &h2);
        let x3 = self.sub_mod(&self.sub_mod(&self.mul_mod(&r, &r), &h3), &self.add_mod(&x1h2, &x1h2));
        let y3 = self.sub_mod(&self.mul_mod(&r, &self.sub_mod(&x1h2, &x3)), &self.mul_mod(&j.y, &h3));
        let z3 = self.mul_mod(&j.z, &h);
        Some(Jacobian { x: x3, y: y3, z: z3 })
    }

    pub fn add(&self, a: &Point, b: &Point) -> Point {
        match b {
            Point::Infinity => a.clone(),
            Point::Affine { x, y } => self.to_affine(self.add_mixed(Self::to_jacobian(a), x, y)),
        }
    }

    pub fn mul(&self, k: &BigUint, point: &Point) -> Point {
        let Point::Affine { x, y } = point else {
            return Point::Infinity;
        };
        let mut acc: Option<Jacobian> = None;
        for i in (0..k.bits()).rev() {
            acc = acc.and_then(|j| self.double(&j));
            if ((k >> i) & BigUint::one()).is_one() {
                acc = self.add_mixed(acc, x, y);
            }
        }
        self.to_affine(acc)
    }

    /// A private key in [1, n-1].
    pub fn random_scalar(&self) -> BigUint {
        let mut rng = rand::rngs::OsRng;
        let one = BigUint::one();
        rng.gen_biguint_range(&one, &self.n)
    }

    /// ECDH: the x coordinate of `private · public`.
    pub fn shared_secret(&self, private: &BigUint, public: &Point) -> Result<Vec<u8>, EcError> {
        self.x_bytes(&self.mul(private, public))
    }

    /// The hash as an integer the size of n (SEC 1 §4.1.3 step 5).
    fn hash_to_int(&self, hash: &[u8]) -> BigUint {
        let e = BigUint::from_bytes_be(hash);
        let (hash_bits, n_bits) = (hash.len() * 8, self.n.bits());
        if hash_bits > n_bits {
            e >> (hash_bits - n_bits)
        } else {
            e
        }
    }

    pub fn ecdsa_verify(&self, public: &Point, hash: &[u8], r: &BigUint, s: &BigUint) -> bool {
        if r.is_zero() || s.is_zero() || r >= &self.n || s >= &self.n || public == &Point::Infinity {
            return false;
        }
        let e = self.hash_to_int(hash);
        let w = s.modpow(&(&self.n - 2u32), &self.n);
        let u1 = (&e * &w) % &self.n;
        let u2 = (r * &w) % &self.n;
        match self.add(&self.mul(&u1, &self.g), &self.mul(&u2, public)) {
            Point::Infinity => false,
            Point::Affine { x, .. } => &(x % &self.n) == r,
        }
    }

    /// ECDSA with a fresh random k: used by the emulator and the test-passport generator.
    pub fn ecdsa_sign(&self, private: &BigUint, hash: &[u8]) -> (BigUint, BigUint) {
        let e = self.hash_to_int(hash);
        loop {
            let k = self.random_scalar();
            let Point::Affine { x, .. } = self.mul(&k, &self.g) else { continue };
            let r = x % &self.n;
            if r.is_zero() {
                continue;
            }
            let k_inv = k.modpow(&(&self.n - 2u32), &self.n);
            let s = (k_inv * ((&e + &(&r * private)) % &self.n)) % &self.n;
            if !s.is_zero() {
                return (r, s);
            }
        }
    }

    /// r ‖ s, each the size of n: the "plain" format (BSI TR-03111) active authentication uses.
    pub fn plain_signature(&self, r: &BigUint, s: &BigUint) -> Vec<u8> {
        let len = self.order_bytes();
        let mut out = to_fixed(r, len);
        out.extend(to_fixed(s, len));
        out
    }
}

/// An integer as exactly `size` big-endian bytes.
pub fn fixed_bytes(v: &BigUint, size: usize) -> Vec<u8> {
    to_fixed(v, size)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn every_tabled_curve_has_its_base_point_on_it_and_order_n() {
        for params in curves::ALL {
            let c = Curve::from_params(params);
            let Point::Affine { x, y } = &c.g else { panic!() };
            assert!(c.is_on_curve(x, y), "{}", params.name);
            assert_eq!(c.mul(&c.n, &c.g), Point::Infinity, "{}", params.name);
        }
    }

    #[test]
    fn ecdh_agrees_and_points_round_trip() {
        let c = Curve::by_pace_id(13).unwrap();
        let (a, b) = (c.random_scalar(), c.random_scalar());
        let (pa, pb) = (c.mul(&a, &c.g), c.mul(&b, &c.g));
        assert_eq!(c.shared_secret(&a, &pb).unwrap(), c.shared_secret(&b, &pa).unwrap());
        let enc = c.encode_point(&pa).unwrap();
        assert_eq!(c.decode_point(&enc).unwrap(), pa);
        let mut compressed = vec![0x02 | (enc.last().unwrap() & 1)];
        compressed.extend(&enc[1..=c.size]);
        assert_eq!(c.decode_point_any(&compressed).unwrap(), pa);
        let mut off = enc.clone();
        *off.last_mut().unwrap() ^= 1;
        assert_eq!(c.decode_point(&off), Err(EcError::NotOnCurve));
    }

    #[test]
    fn ecdsa_signs_and_verifies_and_rejects_a_changed_hash() {
        for id in [12, 16] {
            let c = Curve::by_pace_id(id).unwrap();
            let d = c.random_scalar();
            let q = c.mul(&d, &c.g);
            let h = Sha256::digest(b"vouch");
            let (r, s) = c.ecdsa_sign(&d, &h);
            assert!(c.ecdsa_verify(&q, &h, &r, &s));
            let h2 = Sha256::digest(b"vouch!");
            assert!(!c.ecdsa_verify(&q, &h2, &r, &s));
        }
    }

    /// RFC 6979 A.2.5 public key and signature over "sample" with SHA-256 (P-256).
    #[test]
    fn a_published_p256_signature_verifies() {
        let c = Curve::by_pace_id(12).unwrap();
        let q = Point::Affine {
            x: hex_int("60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"),
            y: hex_int("7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299"),
        };
        let r = hex_int("EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716");
        let s = hex_int("F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8");
        assert!(c.ecdsa_verify(&q, &Sha256::digest(b"sample"), &r, &s));
    }
}
