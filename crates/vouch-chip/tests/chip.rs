//! Reading generated test passports: in-process against the emulated chip, and through the real pcscd with the
//! vpcd virtual reader (the `through_pcscd` test starts pcscd itself and stops it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod pcscd;

use vouch_chip::access_key::MrzKey;
use vouch_chip::crypto::cipher::CipherKind;
use vouch_chip::crypto::hash::HashAlgorithm;
use vouch_chip::emulator::chip::{ChipOptions, EmulatedChip};
use vouch_chip::emulator::passport::{AaSpec, CaSpec, KeySpec, PassportSpec, TestPassport};
use vouch_chip::emulator::LocalCard;
use vouch_chip::lds::{self, face};
use vouch_chip::pace::Password;
use vouch_chip::pki::passive_auth::{HashCheck, PaStatus};
use vouch_chip::pki::trust::TrustStore;
use vouch_chip::reader::{self, AuthStatus, ChipReading, ReadError, ReadRequest};

pub fn spec() -> PassportSpec {
    let portrait = std::fs::read(vouch_testkit::repo_root().join("testdata/faces/fr_obama.jpg")).unwrap();
    let size = face::jpeg_size(&portrait).unwrap();
    PassportSpec::specimen(portrait, size)
}

pub fn trust_for(passport: &TestPassport) -> TrustStore {
    let mut store = TrustStore::default();
    store.add_file("csca.pem", passport.csca_pem().as_bytes());
    store
}

pub fn mrz_password(passport: &TestPassport) -> Password {
    Password::Mrz(MrzKey::from_mrz(&lds::mrz::parse(&passport.mrz).unwrap()).unwrap())
}

fn read_local(
    passport: &TestPassport,
    options: ChipOptions,
    password: Password,
    trust: &TrustStore,
    bac_only: bool,
) -> (Result<ChipReading, ReadError>, usize) {
    let atr = EmulatedChip::new(passport.clone(), options.clone()).atr();
    let mut card = LocalCard { chip: EmulatedChip::new(passport.clone(), options), apdus: 0 };
    let request = ReadRequest { bac_only, ..ReadRequest::new(password, trust) };
    let result = reader::read_document(&mut card, &atr, &request, &mut |_| {});
    (result, card.apdus)
}

#[test]
fn pace_on_every_curve_and_cipher_reads_an_authentic_passport() {
    let ciphers = [CipherKind::Des3, CipherKind::Aes128, CipherKind::Aes192, CipherKind::Aes256];
    // brainpoolP256r1, brainpoolP384r1, NIST P-256, NIST P-384 (and brainpoolP512r1), each with a cipher.
    for (curve, cipher) in [(13, ciphers[1]), (16, ciphers[3]), (12, ciphers[0]), (15, ciphers[2]), (17, ciphers[3])] {
        let mut s = spec();
        s.pace = vec![(curve, cipher)];
        s.active_auth = AaSpec::None;
        let passport = TestPassport::generate(&s).unwrap();
        let trust = trust_for(&passport);
        let (reading, _) = read_local(&passport, ChipOptions::default(), mrz_password(&passport), &trust, false);
        let reading = reading.unwrap();
        assert_eq!(reading.access_control.protocol, "PACE");
        assert_eq!(reading.access_control.cipher, cipher);
        let m = reading.mrz.as_ref().unwrap();
        assert_eq!((m.primary_identifier.as_str(), m.document_number.as_str()), ("ERIKSSON", "L898902C3"));
        assert!(m.checks.all_valid());
        assert_eq!(reading.faces.len(), 1);
        assert_eq!(reading.faces[0].format, face::ImageFormat::Jpeg);
        assert_eq!(
            reading.passive_authentication.status,
            PaStatus::Authenticated,
            "{:?}",
            reading.passive_authentication.problems
        );
    }
}

#[test]
fn the_can_opens_pace_and_bac_runs_when_pace_is_not_offered() {
    let mut s = spec();
    s.active_auth = AaSpec::None;
    let passport = TestPassport::generate(&s).unwrap();
    let trust = trust_for(&passport);
    let (r, _) = read_local(&passport, ChipOptions::default(), Password::Can("123456".into()), &trust, false);
    let r = r.unwrap();
    assert_eq!((r.access_control.protocol, r.access_control.password), ("PACE", "CAN"));

    s.pace = vec![];
    let bac_only = TestPassport::generate(&s).unwrap();
    let (r, _) = read_local(&bac_only, ChipOptions::default(), mrz_password(&bac_only), &trust_for(&bac_only), false);
    let r = r.unwrap();
    assert_eq!(r.access_control.protocol, "BAC");
    assert_eq!(r.passive_authentication.status, PaStatus::Authenticated);
}

#[test]
fn a_wrong_mrz_or_can_is_access_denied() {
    let passport = TestPassport::generate(&spec()).unwrap();
    let trust = trust_for(&passport);
    let wrong = Password::Mrz(vouch_chip::access_key::MrzKey::new("L898902C3", "740812", "120416").unwrap());
    let (r, _) = read_local(&passport, ChipOptions::default(), wrong.clone(), &trust, false);
    assert!(matches!(r, Err(ReadError::AccessDenied(_))), "{r:?}");
    let (r, _) = read_local(&passport, ChipOptions::default(), wrong, &trust, true);
    assert!(matches!(r, Err(ReadError::AccessDenied(_))), "{r:?}");
    let (r, _) = read_local(&passport, ChipOptions::default(), Password::Can("000000".into()), &trust, false);
    assert!(matches!(r, Err(ReadError::AccessDenied(_))), "{r:?}");
}

#[test]
fn passive_authentication_catches_tampering_a_forged_signature_and_an_unknown_csca() {
    let mut s = spec();
    s.active_auth = AaSpec::None;
    let passport = TestPassport::generate(&s).unwrap();
    let trust = trust_for(&passport);

    // A changed portrait byte.
    let mut tampered = passport.clone();
    let dg2 = tampered.files.get_mut(&0x0102).unwrap();
    let last = dg2.len() - 3;
    dg2[last] ^= 0x01;
    let (r, _) = read_local(&tampered, ChipOptions::default(), mrz_password(&passport), &trust, false);
    let pa = r.unwrap().passive_authentication;
    assert_eq!(pa.status, PaStatus::Denied);
    assert!(pa.data_groups.iter().any(|d| d.dg == 2 && d.result == HashCheck::Mismatch));

    // A flipped bit in the document signer's signature (the last bytes of EF.SOD).
    let mut forged = passport.clone();
    let sod = forged.files.get_mut(&lds::EF_SOD).unwrap();
    let last = sod.len() - 2;
    sod[last] ^= 0x01;
    let (r, _) = read_local(&forged, ChipOptions::default(), mrz_password(&passport), &trust, false);
    let pa = r.unwrap().passive_authentication;
    assert_eq!(pa.status, PaStatus::Denied, "{:?}", pa.problems);
    assert!(pa.problems[0].contains("signature"), "{:?}", pa.problems);

    // A trust store holding some other CSCA.
    let other = TestPassport::generate(&s).unwrap();
    let (r, _) = read_local(&passport, ChipOptions::default(), mrz_password(&passport), &trust_for(&other), false);
    let pa = r.unwrap().passive_authentication;
    assert_eq!(pa.status, PaStatus::Denied);
    assert!(pa.problems.iter().any(|p| p.contains("no CSCA")), "{:?}", pa.problems);

    // No trust store at all.
    let (r, _) = read_local(&passport, ChipOptions::default(), mrz_password(&passport), &TrustStore::default(), false);
    assert_eq!(r.unwrap().passive_authentication.status, PaStatus::AuthorityCertificatesNotProvided);

    // Garbage for a SOD.
    let mut garbage = passport.clone();
    garbage.files.insert(lds::EF_SOD, vec![0x77, 0x03, 0x30, 0x01, 0x00]);
    let (r, _) = read_local(&garbage, ChipOptions::default(), mrz_password(&passport), &trust, false);
    assert_eq!(r.unwrap().passive_authentication.status, PaStatus::InvalidSodFile);
}

#[test]
fn rsa_pss_and_rsa_pkcs1_signers_and_every_sod_hash_verify() {
    for (csca, ds, hash) in [
        (KeySpec::Rsa(2048), KeySpec::RsaPss(2048), HashAlgorithm::Sha256),
        (KeySpec::Ec(15), KeySpec::Rsa(2048), HashAlgorithm::Sha1),
        (KeySpec::Ec(17), KeySpec::Ec(16), HashAlgorithm::Sha512),
        (KeySpec::Ec(12), KeySpec::Ec(12), HashAlgorithm::Sha384),
        (KeySpec::Ec(12), KeySpec::Ec(12), HashAlgorithm::Sha224),
    ] {
        let mut s = spec();
        s.csca_key = csca;
        s.ds_key = ds;
        s.sod_hash = hash;
        s.active_auth = AaSpec::None;
        let passport = TestPassport::generate(&s).unwrap();
        let (r, _) =
            read_local(&passport, ChipOptions::default(), mrz_password(&passport), &trust_for(&passport), false);
        let pa = r.unwrap().passive_authentication;
        assert_eq!(pa.status, PaStatus::Authenticated, "{csca:?} {ds:?} {hash:?}: {:?}", pa.problems);
    }
}

#[test]
fn active_authentication_passes_with_rsa_and_ecdsa_and_fails_with_a_wrong_key() {
    for aa in [AaSpec::Rsa(1024), AaSpec::Ec(12)] {
        let mut s = spec();
        s.active_auth = aa;
        let passport = TestPassport::generate(&s).unwrap();
        let trust = trust_for(&passport);
        let (r, _) = read_local(&passport, ChipOptions::default(), mrz_password(&passport), &trust, false);
        let r = r.unwrap();
        assert_eq!(r.active_authentication.status, AuthStatus::Authenticated, "{aa:?}: {:?}", r.active_authentication);

        // A cloned chip: the data (and DG15) copied, but not the private key.
        let mut clone = passport.clone();
        clone.aa_key = TestPassport::generate(&s).unwrap().aa_key;
        let (r, _) = read_local(&clone, ChipOptions::default(), mrz_password(&passport), &trust, false);
        let r = r.unwrap();
        assert_eq!(r.active_authentication.status, AuthStatus::Failed, "{aa:?}");
        assert_eq!(r.passive_authentication.status, PaStatus::Authenticated);
    }
}

#[test]
fn chip_authentication_on_ecdh_and_dh_with_3des_and_aes_and_a_copied_chip_fails_it() {
    // (PACE offers, chip authentication domain parameters and cipher): 3DES through MSE:Set KAT, AES through
    // MSE:Set AT and GENERAL AUTHENTICATE; DH on RFC 5114 groups 0 and 1; BAC before chip authentication too.
    for (pace, id, cipher) in [
        (vec![(12, CipherKind::Aes128)], 13, CipherKind::Aes128),
        (vec![(13, CipherKind::Des3)], 12, CipherKind::Des3),
        (vec![], 0, CipherKind::Des3),
        (vec![(15, CipherKind::Aes192)], 1, CipherKind::Aes256),
        (vec![(16, CipherKind::Aes256)], 15, CipherKind::Aes192),
    ] {
        let mut s = spec();
        s.pace = pace;
        s.active_auth = AaSpec::None;
        s.chip_auth = CaSpec::Key { parameter_id: id, cipher };
        let passport = TestPassport::generate(&s).unwrap();
        let trust = trust_for(&passport);
        let (r, _) = read_local(&passport, ChipOptions::default(), mrz_password(&passport), &trust, false);
        let r = r.unwrap();
        let ca = &r.chip_authentication;
        assert_eq!(ca.status, AuthStatus::Authenticated, "{id} {cipher:?}: {ca:?}");
        assert!(ca.algorithm.as_deref().unwrap().ends_with(cipher.name()), "{ca:?}");
        // Everything after DG14 came under the new keys and still verifies.
        assert_eq!(r.passive_authentication.status, PaStatus::Authenticated, "{:?}", r.passive_authentication);
        assert!(r.faces.len() == 1 && r.mrz.is_some());
        let names: Vec<&str> = r.stats.phases.iter().map(|p| p.name.as_str()).collect();
        let at = |n: &str| names.iter().position(|x| *x == n).unwrap();
        assert!(at("DG14") < at("chip_authentication") && at("chip_authentication") < at("DG1"), "{names:?}");

        // A copied chip: every file the same, the private key not.
        let mut copy = passport.clone();
        copy.ca_key = TestPassport::generate(&s).unwrap().ca_key;
        let (r, _) = read_local(&copy, ChipOptions::default(), mrz_password(&passport), &trust, false);
        let r = r.unwrap();
        assert_eq!(r.chip_authentication.status, AuthStatus::Failed, "{id} {cipher:?}");
        assert!(r.chip_authentication.problem.as_deref().unwrap().contains("does not hold that key"));
        // It was read again without chip authentication, so the data is there to inspect, and verifies.
        assert_eq!(r.passive_authentication.status, PaStatus::Authenticated);
        assert!(r.mrz.is_some() && r.faces.len() == 1);
    }
}

#[test]
fn pace_with_chip_authentication_mapping_proves_the_chip_without_another_exchange() {
    for (curve, cipher) in [(13, CipherKind::Aes128), (12, CipherKind::Aes256), (16, CipherKind::Aes192)] {
        let mut s = spec();
        s.pace = vec![(curve, cipher)];
        s.pace_cam = vec![(curve, cipher)];
        s.chip_auth = CaSpec::Key { parameter_id: curve, cipher: CipherKind::Aes128 };
        s.active_auth = AaSpec::None;
        let passport = TestPassport::generate(&s).unwrap();
        let trust = trust_for(&passport);
        let (r, _) = read_local(&passport, ChipOptions::default(), Password::Can("123456".into()), &trust, false);
        let r = r.unwrap();
        let pace = r.access_control.pace.as_ref().unwrap();
        assert_eq!(pace.mapping, vouch_chip::security_infos::Mapping::ChipAuthentication, "CAM is preferred");
        let ca = &r.chip_authentication;
        assert_eq!(ca.status, AuthStatus::Authenticated, "{curve}: {ca:?}");
        assert!(ca.algorithm.as_deref().unwrap().starts_with("PACE-CAM"), "{ca:?}");
        assert!(!r.stats.phases.iter().any(|p| p.name == "chip_authentication"), "no separate exchange");
        assert_eq!(r.passive_authentication.status, PaStatus::Authenticated);

        let mut copy = passport.clone();
        copy.ca_key = TestPassport::generate(&s).unwrap().ca_key;
        let (r, _) = read_local(&copy, ChipOptions::default(), Password::Can("123456".into()), &trust, false);
        let r = r.unwrap();
        assert_eq!(r.chip_authentication.status, AuthStatus::Failed, "{curve}");
        assert!(r.chip_authentication.problem.as_deref().unwrap().contains("does not hold that key"));
    }
    // A chip authentication key on another curve cannot back PACE-CAM.
    let mut s = spec();
    s.pace_cam = vec![(12, CipherKind::Aes128)];
    assert!(TestPassport::generate(&s).is_err());
}

#[test]
fn the_inspection_takes_chip_authentication_only_from_this_sides_reader() {
    use vouch_chip::inspection::{inspect, ChipAuthentication, ChipAuthenticationType};
    let mut s = spec();
    s.active_auth = AaSpec::None;
    let passport = TestPassport::generate(&s).unwrap();
    let trust = trust_for(&passport);
    let (r, _) = read_local(&passport, ChipOptions::default(), mrz_password(&passport), &trust, false);
    let r = r.unwrap();
    let data = r.chip_data();
    let ca = Some(ChipAuthenticationType::ChipAuthentication);

    let (own, _) = inspect(&data, None, &trust, Some(&r.chip_authentication)).unwrap();
    assert_eq!((own.chip_authentication, own.chip_authentication_type), (ChipAuthentication::Authenticated, ca));

    // Uploaded data cannot carry chip authentication: it was not performed, as far as this side can tell.
    let (uploaded, _) = inspect(&data, None, &trust, None).unwrap();
    assert_eq!(
        (uploaded.chip_authentication, uploaded.chip_authentication_type),
        (ChipAuthentication::NotPerformed, ca)
    );

    let failed = vouch_chip::reader::ChipCheck::status(AuthStatus::Failed, Some("copied".into()));
    let (copy, _) = inspect(&data, None, &trust, Some(&failed)).unwrap();
    assert_eq!(copy.chip_authentication, ChipAuthentication::Denied);
    assert!(copy.problems.iter().any(|p| p.contains("copied")), "{:?}", copy.problems);

    // A DG14 swapped for one naming the attacker's key passes the key agreement but not EF.SOD.
    let mut swapped = data.clone();
    let other = TestPassport::generate(&s).unwrap();
    swapped.files.groups.insert(14, other.data_group(14).unwrap().clone());
    let (forged, _) = inspect(&swapped, None, &trust, Some(&r.chip_authentication)).unwrap();
    assert_eq!(forged.chip_authentication, ChipAuthentication::Denied);
    assert!(forged.problems.iter().any(|p| p.contains("DG14 does not match")), "{:?}", forged.problems);
}

#[test]
fn chip_authentication_not_offered_or_not_asked_for_says_so() {
    let mut s = spec();
    s.chip_auth = CaSpec::None;
    let passport = TestPassport::generate(&s).unwrap();
    let (r, _) = read_local(&passport, ChipOptions::default(), mrz_password(&passport), &trust_for(&passport), false);
    assert_eq!(r.unwrap().chip_authentication.status, AuthStatus::NotSupported);

    let passport = TestPassport::generate(&spec()).unwrap();
    let trust = trust_for(&passport);
    let atr = EmulatedChip::new(passport.clone(), ChipOptions::default()).atr();
    let mut card = LocalCard { chip: EmulatedChip::new(passport.clone(), ChipOptions::default()), apdus: 0 };
    let request =
        ReadRequest { active_auth: false, chip_auth: false, ..ReadRequest::new(mrz_password(&passport), &trust) };
    let r = reader::read_document(&mut card, &atr, &request, &mut |_| {}).unwrap();
    assert_eq!(r.chip_authentication.status, AuthStatus::NotPerformed);
    assert!(!r.stats.phases.iter().any(|p| p.name == "chip_authentication"));
}

#[test]
fn a_large_portrait_takes_few_apdus_with_extended_length_and_under_a_hundred_without() {
    let mut s = spec();
    s.active_auth = AaSpec::None;
    // Pad the portrait to about 20 KB, as a real DG2 is.
    s.portrait.resize(20_000, 0);
    let passport = TestPassport::generate(&s).unwrap();
    let trust = trust_for(&passport);
    let only = |groups: Vec<u8>, options: ChipOptions| {
        let atr = EmulatedChip::new(passport.clone(), options.clone()).atr();
        let mut card = LocalCard { chip: EmulatedChip::new(passport.clone(), options), apdus: 0 };
        let request = ReadRequest {
            data_groups: Some(groups),
            active_auth: false,
            ..ReadRequest::new(mrz_password(&passport), &trust)
        };
        reader::read_document(&mut card, &atr, &request, &mut |_| {}).unwrap()
    };
    let apdus_for = |r: &ChipReading, names: &[&str]| -> usize {
        r.stats.phases.iter().filter(|p| names.contains(&p.name.as_str())).map(|p| p.apdus).sum()
    };
    let extended = only(vec![1, 2], ChipOptions::default());
    assert!(extended.stats.extended_length);
    assert!(apdus_for(&extended, &["DG1", "DG2"]) <= 10, "{:?}", extended.stats.phases);
    let short = only(vec![1, 2], ChipOptions { extended_length: false, ..ChipOptions::default() });
    assert!(!short.stats.extended_length);
    let n = apdus_for(&short, &["DG1", "DG2"]);
    assert!(n <= 100 && n > 10, "{n}");
    assert_eq!(short.raw.get(&0x0102), extended.raw.get(&0x0102));
}

#[test]
fn through_pcscd() {
    let Some(daemon) = pcscd::Pcscd::start() else {
        panic!("pcscd with the vpcd driver is needed: apt-get install pcscd vsmartcard-vpcd (make test installs them)");
    };
    pcscd::scenarios(&daemon);
}

#[test]
fn a_dump_verifies_offline_and_a_tampered_file_is_caught() {
    let mut s = spec();
    s.active_auth = AaSpec::Ec(13);
    let passport = TestPassport::generate(&s).unwrap();
    let trust = trust_for(&passport);
    let (r, _) = read_local(&passport, ChipOptions::default(), mrz_password(&passport), &trust, false);
    let dir = tempfile::tempdir().unwrap();
    vouch_chip::offline::write_dump(dir.path(), &r.unwrap().chip_files()).unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"not a chip file").unwrap();
    let report = vouch_chip::offline::verify_folder(dir.path(), &trust).unwrap();
    assert_eq!(report.passive_authentication.status, PaStatus::Authenticated);
    assert!(report.files.iter().all(|f| f.parsed), "{:?}", report.files);
    assert_eq!(report.ignored, vec!["notes.txt".to_string()]);
    assert!(report.mrz.unwrap().checks.all_valid());

    let dg11 = dir.path().join("DG11.bin");
    let mut bytes = std::fs::read(&dg11).unwrap();
    bytes.truncate(bytes.len() - 4);
    std::fs::write(&dg11, bytes).unwrap();
    let report = vouch_chip::offline::verify_folder(dir.path(), &trust).unwrap();
    assert_eq!(report.passive_authentication.status, PaStatus::Denied);
    assert!(report.files.iter().any(|f| f.file == "DG11" && !f.parsed));
}

#[test]
fn chip_data_carries_the_files_and_a_signature_over_the_issued_challenge() {
    for aa in [AaSpec::Ec(13), AaSpec::Rsa(1024)] {
        let mut s = spec();
        s.active_auth = aa;
        let passport = TestPassport::generate(&s).unwrap();
        let trust = trust_for(&passport);
        let issued = [7u8, 1, 2, 3, 4, 5, 6, 8];
        let atr = EmulatedChip::new(passport.clone(), ChipOptions::default()).atr();
        let mut card = LocalCard { chip: EmulatedChip::new(passport.clone(), ChipOptions::default()), apdus: 0 };
        let request = ReadRequest { aa_challenge: Some(issued), ..ReadRequest::new(mrz_password(&passport), &trust) };
        let reading = reader::read_document(&mut card, &atr, &request, &mut |_| {}).unwrap();
        assert_eq!(reading.active_auth_exchange.as_ref().unwrap().challenge, issued);

        let uploaded = vouch_chip::chip_data::decode(&vouch_chip::chip_data::encode(&reading.chip_data())).unwrap();
        assert_eq!(uploaded.files, reading.chip_files());
        assert_eq!(uploaded.access_control.as_deref(), Some("PACE"));
        let report = vouch_chip::offline::verify_files(&uploaded.files, &trust);
        assert_eq!(report.passive_authentication.status, PaStatus::Authenticated);
        let infos = report.security_infos.as_ref();
        let dg15 = &uploaded.files.groups[&15];
        let signature = uploaded.aa_signature.as_deref().unwrap();
        let ok = vouch_chip::active_auth::verify(dg15, infos, &issued, signature);
        assert_eq!(ok.status, AuthStatus::Authenticated, "{ok:?}");
        // A signature over another challenge (a replayed upload) does not verify.
        let replay = vouch_chip::active_auth::verify(dg15, infos, &[0u8; 8], signature);
        assert_eq!(replay.status, AuthStatus::Failed);
    }
}

#[test]
fn portrait_sizes_come_from_jpeg_jp2_and_codestream_headers() {
    let dir = vouch_testkit::repo_path("testdata/chip");
    for name in ["portrait.jp2", "portrait.j2k", "portrait-gray.jp2"] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        assert_eq!(face::image_size(&bytes), Some((300, 400)), "{name}");
    }
    assert_eq!(face::image_size(b"not an image"), None);
}
