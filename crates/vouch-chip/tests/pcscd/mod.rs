//! The real pcscd with the vpcd virtual reader, and the scenarios run through it. pcscd is started here and
//! stopped when the guard drops; a pcscd already running (a developer's) is used and left alone.

use std::time::Duration;

use vouch_chip::crypto::cipher::CipherKind;
use vouch_chip::emulator::chip::{ChipOptions, EmulatedChip};
use vouch_chip::emulator::passport::{AaSpec, TestPassport};
pub use vouch_chip::emulator::pcscd::Pcscd;
use vouch_chip::emulator::vpcd::{Emulator, DEFAULT_PORT};
use vouch_chip::pace::Password;
use vouch_chip::pki::passive_auth::PaStatus;
use vouch_chip::reader::{self, AuthStatus, ChipReading, ReadError, ReadRequest};
use vouch_chip::transport::{CardTransport, Pcsc};

use super::{mrz_password, spec, trust_for};

fn read(daemon: &Pcscd, passport: &TestPassport, password: Password, bac_only: bool) -> Result<ChipReading, ReadError> {
    let transport = Pcsc::establish().unwrap();
    let present = transport.wait_for_card(Some(&daemon.reader), Duration::from_secs(15)).unwrap();
    assert!(present.is_some(), "the emulated card never reached the reader");
    let mut card = transport.connect(&daemon.reader).unwrap();
    let atr = card.atr().to_vec();
    let trust = trust_for(passport);
    let request = ReadRequest { bac_only, ..ReadRequest::new(password, &trust) };
    reader::read_document(card.as_mut(), &atr, &request, &mut |_| {})
}

/// Puts another passport on the reader: lift the card, swap the chip, put it back.
fn swap(daemon: &Pcscd, emulator: &Emulator, passport: &TestPassport, options: ChipOptions) {
    let transport = Pcsc::establish().unwrap();
    emulator.remove();
    assert!(transport.wait_for_removal(&daemon.reader, Duration::from_secs(15)).unwrap());
    emulator.replace_chip(EmulatedChip::new(passport.clone(), options));
    emulator.insert();
}

pub fn scenarios(daemon: &Pcscd) {
    let mut s = spec();
    s.portrait.resize(20_000, 0);
    let passport = TestPassport::generate(&s).unwrap();
    let emulator = Emulator::start(EmulatedChip::new(passport.clone(), ChipOptions::default()), DEFAULT_PORT);

    // PACE, reading everything, passive and active authentication.
    let r = read(daemon, &passport, mrz_password(&passport), false).unwrap();
    assert_eq!(r.access_control.protocol, "PACE");
    assert_eq!(r.passive_authentication.status, PaStatus::Authenticated, "{:?}", r.passive_authentication.problems);
    assert_eq!(r.active_authentication.status, AuthStatus::Authenticated);
    assert_eq!(r.chip_authentication.status, AuthStatus::Authenticated, "{:?}", r.chip_authentication);
    assert_eq!(r.mrz.as_ref().unwrap().document_number, "L898902C3");
    assert_eq!(r.faces.len(), 1);
    let dg_apdus: usize = r.stats.phases.iter().filter(|p| p.name == "DG1" || p.name == "DG2").map(|p| p.apdus).sum();
    eprintln!(
        "pcscd PACE read: {} APDUs, extended {}, DG1+DG2 {} APDUs",
        r.stats.apdus, r.stats.extended_length, dg_apdus
    );

    // BAC on the same chip, with chip authentication after it.
    let r = read(daemon, &passport, mrz_password(&passport), true).unwrap();
    assert_eq!(r.access_control.protocol, "BAC");
    assert_eq!(r.passive_authentication.status, PaStatus::Authenticated);
    assert_eq!(r.chip_authentication.status, AuthStatus::Authenticated);

    // Wrong MRZ and wrong CAN.
    let wrong = Password::Mrz(vouch_chip::access_key::MrzKey::new("L898902C3", "740812", "340416").unwrap());
    assert!(matches!(read(daemon, &passport, wrong, false), Err(ReadError::AccessDenied(_))));
    assert!(matches!(read(daemon, &passport, Password::Can("999999".into()), false), Err(ReadError::AccessDenied(_))));

    // The card lifted in the middle of DG2, then put back: a clean error, then a good read.
    emulator.remove_after(20);
    let lifted = read(daemon, &passport, mrz_password(&passport), false);
    assert!(matches!(lifted, Err(ReadError::CardRemoved)), "{lifted:?}");
    emulator.insert();
    let r = read(daemon, &passport, mrz_password(&passport), false).unwrap();
    assert_eq!(r.passive_authentication.status, PaStatus::Authenticated);

    // A reader path without extended length reads in short blocks.
    swap(daemon, &emulator, &passport, ChipOptions { extended_length: false, ..ChipOptions::default() });
    let r = read(daemon, &passport, mrz_password(&passport), false).unwrap();
    assert!(!r.stats.extended_length);
    assert_eq!(r.passive_authentication.status, PaStatus::Authenticated);

    // A tampered portrait fails passive authentication.
    let mut tampered = passport.clone();
    let dg2 = tampered.files.get_mut(&0x0102).unwrap();
    let at = dg2.len() - 5;
    dg2[at] ^= 0x40;
    swap(daemon, &emulator, &tampered, ChipOptions::default());
    let r = read(daemon, &passport, mrz_password(&passport), false).unwrap();
    assert_eq!(r.passive_authentication.status, PaStatus::Denied);

    // A cloned chip fails active and chip authentication, and its data is still read.
    let mut clone = passport.clone();
    let other = TestPassport::generate(&s).unwrap();
    clone.aa_key = other.aa_key;
    clone.ca_key = other.ca_key;
    swap(daemon, &emulator, &clone, ChipOptions::default());
    let r = read(daemon, &passport, mrz_password(&passport), false).unwrap();
    assert_eq!(r.active_authentication.status, AuthStatus::Failed);
    assert_eq!(r.chip_authentication.status, AuthStatus::Failed);
    assert_eq!(r.passive_authentication.status, PaStatus::Authenticated);

    // Every PACE curve and cipher through the reader.
    for (curve, cipher) in
        [(13, CipherKind::Aes128), (16, CipherKind::Aes256), (12, CipherKind::Des3), (15, CipherKind::Aes192)]
    {
        let mut s = spec();
        s.pace = vec![(curve, cipher)];
        s.active_auth = AaSpec::None;
        let p = TestPassport::generate(&s).unwrap();
        swap(daemon, &emulator, &p, ChipOptions::default());
        let r = read(daemon, &p, mrz_password(&p), false).unwrap();
        assert_eq!((r.access_control.protocol, r.access_control.cipher), ("PACE", cipher));
        assert_eq!(r.passive_authentication.status, PaStatus::Authenticated);
    }
}
