//! Finite-field Diffie-Hellman, as chip authentication with a DH key in DG14 uses it (and PACE with BSI
//! TR-03110 domain parameters 0 to 2, the RFC 5114 groups). Older passports carry 1024-bit DH keys.

use num_bigint_dig::{BigUint, RandBigInt};
use num_traits::{One, Zero};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DhError {
    #[error("the DH public value is outside the group")]
    BadPublic,
    #[error("the DH parameters are unusable: {0}")]
    BadParameters(&'static str),
}

/// A group: prime p, generator g and, where the parameters give it, the order q of the subgroup g generates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhGroup {
    pub name: &'static str,
    pub p: BigUint,
    pub g: BigUint,
    pub q: Option<BigUint>,
}

// RFC 5114 §2.1 to §2.3, written out by `openssl genpkey -genparam -algorithm DHX -pkeyopt dh_rfc5114:N`.
const RFC5114: [(&str, &str, &str, &str); 3] = [
    (
        "MODP-1024/160 (RFC 5114)",
        "B10B8F96A080E01DDE92DE5EAE5D54EC52C99FBCFB06A3C69A6A9DCA52D23B616073E28675A23D189838EF1E2EE652C013ECB4AEA906112324975C3CD49B83BFACCBDD7D90C4BD7098488E9C219A73724EFFD6FAE5644738FAA31A4FF55BCCC0A151AF5F0DC8B4BD45BF37DF365C1A65E68CFDA76D4DA708DF1FB2BC2E4A4371",
        "A4D1CBD5C3FD34126765A442EFB99905F8104DD258AC507FD6406CFF14266D31266FEA1E5C41564B777E690F5504F213160217B4B01B886A5E91547F9E2749F4D7FBD7D3B9A92EE1909D0D2263F80A76A6A24C087A091F531DBF0A0169B6A28AD662A4D18E73AFA32D779D5918D08BC8858F4DCEF97C2A24855E6EEB22B3B2E5",
        "F518AA8781A8DF278ABA4E7D64B7CB9D49462353",
    ),
    (
        "MODP-2048/224 (RFC 5114)",
        "AD107E1E9123A9D0D660FAA79559C51FA20D64E5683B9FD1B54B1597B61D0A75E6FA141DF95A56DBAF9A3C407BA1DF15EB3D688A309C180E1DE6B85A1274A0A66D3F8152AD6AC2129037C9EDEFDA4DF8D91E8FEF55B7394B7AD5B7D0B6C12207C9F98D11ED34DBF6C6BA0B2C8BBC27BE6A00E0A0B9C49708B3BF8A317091883681286130BC8985DB1602E714415D9330278273C7DE31EFDC7310F7121FD5A07415987D9ADC0A486DCDF93ACC44328387315D75E198C641A480CD86A1B9E587E8BE60E69CC928B2B9C52172E413042E9B23F10B0E16E79763C9B53DCF4BA80A29E3FB73C16B8E75B97EF363E2FFA31F71CF9DE5384E71B81C0AC4DFFE0C10E64F",
        "AC4032EF4F2D9AE39DF30B5C8FFDAC506CDEBE7B89998CAF74866A08CFE4FFE3A6824A4E10B9A6F0DD921F01A70C4AFAAB739D7700C29F52C57DB17C620A8652BE5E9001A8D66AD7C17669101999024AF4D027275AC1348BB8A762D0521BC98AE247150422EA1ED409939D54DA7460CDB5F6C6B250717CBEF180EB34118E98D119529A45D6F834566E3025E316A330EFBB77A86F0C1AB15B051AE3D428C8F8ACB70A8137150B8EEB10E183EDD19963DDD9E263E4770589EF6AA21E7F5F2FF381B539CCE3409D13CD566AFBB48D6C019181E1BCFE94B30269EDFE72FE9B6AA4BD7B5A0F1C71CFFF4C19C418E1F6EC017981BC087F2A7065B384B890D3191F2BFA",
        "801C0D34C58D93FE997177101F80535A4738CEBCBF389A99B36371EB",
    ),
    (
        "MODP-2048/256 (RFC 5114)",
        "87A8E61DB4B6663CFFBBD19C651959998CEEF608660DD0F25D2CEED4435E3B00E00DF8F1D61957D4FAF7DF4561B2AA3016C3D91134096FAA3BF4296D830E9A7C209E0C6497517ABD5A8A9D306BCF67ED91F9E6725B4758C022E0B1EF4275BF7B6C5BFC11D45F9088B941F54EB1E59BB8BC39A0BF12307F5C4FDB70C581B23F76B63ACAE1CAA6B7902D52526735488A0EF13C6D9A51BFA4AB3AD8347796524D8EF6A167B5A41825D967E144E5140564251CCACB83E6B486F6B3CA3F7971506026C0B857F689962856DED4010ABD0BE621C3A3960A54E710C375F26375D7014103A4B54330C198AF126116D2276E11715F693877FAD7EF09CADB094AE91E1A1597",
        "3FB32C9B73134D0B2E77506660EDBD484CA7B18F21EF205407F4793A1A0BA12510DBC15077BE463FFF4FED4AAC0BB555BE3A6C1B0C6B47B1BC3773BF7E8C6F62901228F8C28CBB18A55AE31341000A650196F931C77A57F2DDF463E5E9EC144B777DE62AAAB8A8628AC376D282D6ED3864E67982428EBC831D14348F6F2F9193B5045AF2767164E1DFC967C1FB3F2E55A4BD1BFFE83B9C80D052B985D182EA0ADB2A3B7313D3FE14C8484B1E052588B9B7D2BBD2DF016199ECD06E1557CD0915B3353BBB64E0EC377FD028370DF92B52C7891428CDC67EB6184B523D1DB246C32F63078490F00EF8D647D148D47954515E2327CFEF98C582664B4C0F6CC41659",
        "8CF83642A709A097B447997640129DA299B1A47D1EB3750BA308B0FE64F5FBD3",
    ),
];

fn hex_int(s: &str) -> BigUint {
    BigUint::parse_bytes(s.as_bytes(), 16).unwrap_or_default()
}

impl DhGroup {
    /// BSI TR-03110 standardised domain parameters 0, 1 and 2.
    pub fn by_pace_id(id: u32) -> Option<DhGroup> {
        let (name, p, g, q) = RFC5114.get(usize::try_from(id).ok()?)?;
        Some(DhGroup { name, p: hex_int(p), g: hex_int(g), q: Some(hex_int(q)) })
    }

    /// Parameters from a key's AlgorithmIdentifier, named after the RFC 5114 group they equal, if any.
    pub fn new(p: BigUint, g: BigUint, q: Option<BigUint>) -> Result<DhGroup, DhError> {
        let one = BigUint::one();
        if p.bits() < 1024 || (&p % 2u8).is_zero() {
            return Err(DhError::BadParameters("the prime is under 1024 bits or even"));
        }
        if g <= one || g >= &p - &one {
            return Err(DhError::BadParameters("the generator is out of range"));
        }
        if let Some(q) = &q {
            if q <= &one || q >= &p || !g.modpow(q, &p).is_one() {
                return Err(DhError::BadParameters("the generator does not have the stated order"));
            }
        }
        let name = (0..3)
            .filter_map(DhGroup::by_pace_id)
            .find(|known| known.p == p && known.g == g)
            .map_or("MODP (explicit)", |known| known.name);
        Ok(DhGroup { name, p, g, q })
    }

    /// Bytes in p: the public values and the shared secret are written at this length.
    pub fn size(&self) -> usize {
        self.p.bits().div_ceil(8)
    }

    /// A private exponent in [2, q-1], or of 256 bits where the order is not stated.
    pub fn random_private(&self) -> BigUint {
        let mut rng = rand::rngs::OsRng;
        let two = BigUint::from(2u8);
        match &self.q {
            Some(q) => rng.gen_biguint_range(&two, q),
            None => rng.gen_biguint(256) | &two,
        }
    }

    pub fn public(&self, private: &BigUint) -> Vec<u8> {
        super::ec::fixed_bytes(&self.g.modpow(private, &self.p), self.size())
    }

    /// The other side's public value, checked to lie in the group (and in the subgroup, where q is known).
    pub fn decode_public(&self, bytes: &[u8]) -> Result<BigUint, DhError> {
        let y = BigUint::from_bytes_be(bytes);
        let one = BigUint::one();
        if y <= one || y >= &self.p - &one {
            return Err(DhError::BadPublic);
        }
        if let Some(q) = &self.q {
            if !y.modpow(q, &self.p).is_one() {
                return Err(DhError::BadPublic);
            }
        }
        Ok(y)
    }

    /// y^x mod p at the length of p, the key agreement's shared secret.
    pub fn shared_secret(&self, private: &BigUint, public: &BigUint) -> Vec<u8> {
        super::ec::fixed_bytes(&public.modpow(private, &self.p), self.size())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn both_sides_agree_in_every_standard_group() {
        for id in 0..3 {
            let group = DhGroup::by_pace_id(id).unwrap();
            assert!(DhGroup::new(group.p.clone(), group.g.clone(), group.q.clone()).is_ok(), "{}", group.name);
            let (a, b) = (group.random_private(), group.random_private());
            let (pa, pb) = (group.public(&a), group.public(&b));
            assert_eq!(pa.len(), group.size());
            let ya = group.decode_public(&pa).unwrap();
            let yb = group.decode_public(&pb).unwrap();
            assert_eq!(group.shared_secret(&a, &yb), group.shared_secret(&b, &ya));
        }
    }

    #[test]
    fn values_outside_the_subgroup_are_refused() {
        let group = DhGroup::by_pace_id(0).unwrap();
        assert_eq!(group.decode_public(&[1]), Err(DhError::BadPublic));
        let p_minus_one = &group.p - BigUint::one();
        assert_eq!(group.decode_public(&p_minus_one.to_bytes_be()), Err(DhError::BadPublic));
        // 2 generates (nearly) the whole group, not the order-q subgroup.
        assert_eq!(group.decode_public(&[2]), Err(DhError::BadPublic));
    }
}
