//! `vouch chip`: list readers, read a document chip, verify a chip dump offline, and run the card emulator.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Subcommand;
use vouch_chip::emulator::chip::{ChipOptions, EmulatedChip};
use vouch_chip::emulator::passport::{PassportSpec, TestPassport};
use vouch_chip::emulator::vpcd::{Emulator, DEFAULT_PORT};
use vouch_chip::lds::{face, mrz};
use vouch_chip::pace::Password;
use vouch_chip::pki::trust::TrustStore;
use vouch_chip::reader::{self, LengthMode, ReadRequest};
use vouch_chip::transport::{CardTransport, Pcsc};

#[derive(Subcommand)]
pub enum ChipCommand {
    /// List the PC/SC readers and whether each holds a card
    Readers,
    /// Read a document chip and print a JSON summary (MRZ, files, authentication, APDUs, bytes and time per phase)
    Read {
        /// The MRZ as printed (2 or 3 lines, joined or with line breaks)
        #[arg(long, conflicts_with_all = ["doc", "can"])]
        mrz: Option<String>,
        /// Document number (with --dob and --exp)
        #[arg(long, requires_all = ["dob", "exp"], conflicts_with = "can")]
        doc: Option<String>,
        /// Date of birth, YYMMDD
        #[arg(long)]
        dob: Option<String>,
        /// Date of expiry, YYMMDD
        #[arg(long)]
        exp: Option<String>,
        /// The 6-digit card access number (PACE only)
        #[arg(long)]
        can: Option<String>,
        /// CSCA trust store: a folder of PEM/DER certificates and ICAO master lists
        #[arg(long)]
        trust: Option<PathBuf>,
        /// Reader name (default: the first with a card)
        #[arg(long)]
        reader: Option<String>,
        /// Seconds to wait for a card
        #[arg(long, default_value_t = 30)]
        wait: u64,
        /// Write the portrait here
        #[arg(long)]
        portrait: Option<PathBuf>,
        /// Write every file read (COM.bin, SOD.bin, DG1.bin, ...) into this folder
        #[arg(long)]
        dump: Option<PathBuf>,
        /// Short APDUs only, even when the card announces extended length
        #[arg(long)]
        short: bool,
        /// BAC even when the chip offers PACE
        #[arg(long)]
        bac: bool,
    },
    /// Verify a folder of raw elementary files offline (COM, SOD, DG1..DG16, CardAccess, CardSecurity)
    Verify {
        dir: PathBuf,
        /// CSCA trust store folder
        #[arg(long)]
        trust: Option<PathBuf>,
    },
    /// Read a generated passport with a 20 KB portrait: APDUs, bytes and time per phase against the airtime floor
    Bench {
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Also read through a running pcscd and the vpcd reader (the emulator connects to --port)
        #[arg(long)]
        pcscd: bool,
        #[arg(long, default_value_t = DEFAULT_PORT)]
        port: u16,
    },
    /// DEMO: serve a generated TEST passport to the vpcd virtual reader of a running pcscd
    Emulate {
        /// vpcd port
        #[arg(long, default_value_t = DEFAULT_PORT)]
        port: u16,
        /// Portrait for DG2, JPEG or JPEG 2000 (default: the checkout's testdata/chip/portrait.jp2)
        #[arg(long)]
        portrait: Option<PathBuf>,
        /// Write the test CSCA (csca.pem) into this folder, for `vouch chip read --trust`
        #[arg(long)]
        trust_out: Option<PathBuf>,
        /// Write the passport's files into this folder, for `vouch chip verify`
        #[arg(long)]
        dump: Option<PathBuf>,
        /// Announce short APDUs only
        #[arg(long)]
        short: bool,
        /// Also offer PACE with Chip Authentication Mapping (brainpoolP256r1, AES-128)
        #[arg(long)]
        pace_cam: bool,
    },
}

fn trust_store(dir: Option<&Path>) -> anyhow::Result<TrustStore> {
    match dir {
        Some(d) => TrustStore::load_dir(d).with_context(|| format!("reading the trust store {}", d.display())),
        None => Ok(TrustStore::default()),
    }
}

fn password(
    mrz_text: Option<String>,
    doc: Option<String>,
    dob: Option<String>,
    exp: Option<String>,
    can: Option<String>,
) -> anyhow::Result<Password> {
    Password::from_parts(mrz_text.as_deref(), doc.as_deref(), dob.as_deref(), exp.as_deref(), can.as_deref()).map_err(
        |e| match e {
            vouch_chip::pace::PasswordError::Missing => {
                anyhow::anyhow!("give the access key: --mrz, or --doc with --dob and --exp, or --can")
            }
            other => other.into(),
        },
    )
}

pub fn run(command: ChipCommand) -> anyhow::Result<()> {
    match command {
        ChipCommand::Readers => {
            let readers = vouch_chip::list_readers()?;
            println!("{}", serde_json::to_string_pretty(&readers)?);
        }
        ChipCommand::Read { mrz, doc, dob, exp, can, trust, reader: name, wait, portrait, dump, short, bac } => {
            let password = password(mrz, doc, dob, exp, can)?;
            let trust = trust_store(trust.as_deref())?;
            let transport = Pcsc::establish()?;
            eprintln!("Place the document on the reader...");
            let Some(reader_name) = transport.wait_for_card(name.as_deref(), Duration::from_secs(wait))? else {
                bail!("no card within {wait} s");
            };
            let mut card = transport.connect(&reader_name)?;
            let atr = card.atr().to_vec();
            let request = ReadRequest {
                length: if short { LengthMode::Short } else { LengthMode::Auto },
                bac_only: bac,
                ..ReadRequest::new(password, &trust)
            };
            let reading = reader::read_document(card.as_mut(), &atr, &request, &mut |p| {
                eprint!("\r{:<8} {:>6} / {:<6} bytes", p.file, p.read, p.total);
                if p.read >= p.total {
                    eprintln!();
                }
            })?;
            if let (Some(path), Some(face)) = (&portrait, reading.faces.first()) {
                std::fs::write(path, &face.data)?;
            }
            if let Some(dir) = &dump {
                vouch_chip::offline::write_dump(dir, &reading.chip_files())?;
            }
            let mut json = serde_json::to_value(&reading)?;
            if let Some(object) = json.as_object_mut() {
                object.insert("reader".into(), serde_json::Value::String(reader_name));
                object.insert("trust_store".into(), serde_json::to_value(&trust.sources)?);
            }
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
        ChipCommand::Bench { runs, pcscd, port } => bench(runs.max(1), pcscd, port)?,
        ChipCommand::Verify { dir, trust } => {
            let trust = trust_store(trust.as_deref())?;
            let report = vouch_chip::offline::verify_folder(&dir, &trust)?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        ChipCommand::Emulate { port, portrait, trust_out, dump, short, pace_cam } => {
            let path = portrait
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/chip/portrait.jp2"));
            let jpeg = std::fs::read(&path).with_context(|| format!("reading the portrait {}", path.display()))?;
            let size = face::image_size(&jpeg).context("the portrait is not a JPEG or JPEG 2000 image")?;
            let mut spec = PassportSpec::specimen(jpeg, size);
            if pace_cam {
                // The specimen's chip authentication key is on brainpoolP256r1, as CAM requires.
                spec.pace_cam = vec![(13, vouch_chip::crypto::cipher::CipherKind::Aes128)];
            }
            let passport = TestPassport::generate(&spec).map_err(anyhow::Error::msg)?;
            if let Some(dir) = &trust_out {
                std::fs::create_dir_all(dir)?;
                std::fs::write(dir.join("csca.pem"), passport.csca_pem())?;
            }
            if let Some(dir) = &dump {
                vouch_chip::offline::write_dump(dir, &passport.chip_files())?;
            }
            tracing::warn!("DEMO: emulated TEST passport on vpcd port {port}; it is not a real document");
            eprintln!("DEMO emulated TEST passport on vpcd port {port} (Ctrl-C to stop)");
            eprintln!("MRZ: {}", passport.mrz);
            eprintln!("CAN: {}", passport.can);
            let options = ChipOptions { extended_length: !short, ..ChipOptions::default() };
            let _emulator = Emulator::start(EmulatedChip::new(passport, options), port);
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
    }
    Ok(())
}

/// One benchmark configuration's result.
#[derive(serde::Serialize)]
struct BenchRow {
    path: &'static str,
    length: &'static str,
    access_control: String,
    runs: usize,
    total_ms_median: f64,
    apdus: usize,
    dg1_dg2_apdus: usize,
    bytes_on_wire: usize,
    /// ISO 14443 airtime for the same bytes at 424 kbit/s: what no reader can beat.
    airtime_floor_ms: f64,
    phases_ms_median: Vec<(String, f64, usize)>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn bench_rows(
    path: &'static str,
    runs: usize,
    mut read: impl FnMut(bool) -> anyhow::Result<vouch_chip::reader::ChipReading>,
) -> anyhow::Result<Vec<BenchRow>> {
    let mut rows = Vec::new();
    for (extended, length) in [(true, "extended"), (false, "short (223-byte blocks)")] {
        let mut readings = Vec::new();
        for _ in 0..runs {
            readings.push(read(extended)?);
        }
        let Some(first) = readings.first() else { bail!("no runs") };
        let wire = first.stats.bytes_sent + first.stats.bytes_received;
        let phases = first
            .stats
            .phases
            .iter()
            .map(|p| {
                let ms = median(
                    readings
                        .iter()
                        .filter_map(|r| r.stats.phases.iter().find(|q| q.name == p.name))
                        .map(|q| q.ms)
                        .collect(),
                );
                (p.name.clone(), (ms * 10.0).round() / 10.0, p.apdus)
            })
            .collect();
        rows.push(BenchRow {
            path,
            length,
            access_control: format!(
                "{} {} {}",
                first.access_control.protocol,
                first.access_control.curve.unwrap_or(""),
                serde_json::to_value(first.access_control.cipher)?.as_str().unwrap_or("")
            ),
            runs,
            total_ms_median: (median(readings.iter().map(|r| r.stats.total_ms).collect()) * 10.0).round() / 10.0,
            apdus: first.stats.apdus,
            dg1_dg2_apdus: first
                .stats
                .phases
                .iter()
                .filter(|p| p.name == "DG1" || p.name == "DG2")
                .map(|p| p.apdus)
                .sum(),
            bytes_on_wire: wire,
            airtime_floor_ms: (wire as f64 * 8.0 / 424_000.0 * 1000.0 * 10.0).round() / 10.0,
            phases_ms_median: phases,
        });
    }
    Ok(rows)
}

/// Reads a generated passport with a 20,000-byte DG2 portrait: in-process against the emulated chip, and (with
/// `through_pcscd`) through a running pcscd and the vpcd reader.
pub fn bench(runs: usize, through_pcscd: bool, port: u16) -> anyhow::Result<()> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/faces/fr_obama.jpg");
    let mut jpeg = std::fs::read(&path)?;
    let size = face::jpeg_size(&jpeg).context("portrait")?;
    // A real DG2 portrait is 15 to 25 KB; the photo is cut to 20,000 bytes (its pixels are not decoded here).
    jpeg.resize(20_000, 0);
    let mut spec = PassportSpec::specimen(jpeg, size);
    spec.pace = vec![(13, vouch_chip::crypto::cipher::CipherKind::Aes128)];
    let passport = TestPassport::generate(&spec).map_err(anyhow::Error::msg)?;
    let mut trust = TrustStore::default();
    trust.add_file("csca.pem", passport.csca_pem().as_bytes());
    let password = Password::Mrz(vouch_chip::access_key::MrzKey::from_mrz(&mrz::parse(&passport.mrz)?)?);
    let request = |extended: bool| ReadRequest {
        data_groups: Some(vec![1, 2]),
        active_auth: false,
        length: if extended { LengthMode::Auto } else { LengthMode::Short },
        ..ReadRequest::new(password.clone(), &trust)
    };
    let mut rows = bench_rows("in-process emulator", runs, |extended| {
        let options = ChipOptions { extended_length: extended, ..ChipOptions::default() };
        let chip = EmulatedChip::new(passport.clone(), options.clone());
        let atr = chip.atr();
        let mut card = vouch_chip::emulator::LocalCard { chip, apdus: 0 };
        Ok(reader::read_document(&mut card, &atr, &request(extended), &mut |_| {})?)
    })?;
    if through_pcscd {
        let emulator = Emulator::start(EmulatedChip::new(passport.clone(), ChipOptions::default()), port);
        let transport = Pcsc::establish()?;
        let reader_name = transport
            .wait_for_card(None, Duration::from_secs(15))?
            .context("the emulated card never reached a reader")?;
        rows.extend(bench_rows("pcscd + vpcd", runs, |extended| {
            let mut card = transport.connect(&reader_name)?;
            let atr = card.atr().to_vec();
            Ok(reader::read_document(card.as_mut(), &atr, &request(extended), &mut |_| {})?)
        })?);
        drop(emulator);
    }
    println!("{}", serde_json::to_string_pretty(&rows)?);
    println!("{}", serde_json::to_string_pretty(&checking_bench(runs.max(5))?)?);
    println!("{}", serde_json::to_string_pretty(&chip_auth_bench(runs.max(5))?)?);
    Ok(())
}

/// Chip authentication alone, in-process (both sides' key agreement runs here): ECDH and DH keys with the
/// ciphers real passports use. Medians over `runs` of the phase after DG14.
fn chip_auth_bench(runs: usize) -> anyhow::Result<serde_json::Value> {
    use vouch_chip::crypto::cipher::CipherKind;
    use vouch_chip::emulator::passport::CaSpec;
    let portrait = std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/chip/portrait.jp2"))?;
    let size = face::image_size(&portrait).context("portrait size")?;
    let mut rows = Vec::new();
    for (name, parameter_id, cipher) in [
        ("ECDH brainpoolP256r1, AES-128", 13, CipherKind::Aes128),
        ("ECDH NIST P-256, 3DES", 12, CipherKind::Des3),
        ("ECDH brainpoolP384r1, AES-256", 16, CipherKind::Aes256),
        ("DH 1024-bit (RFC 5114), 3DES", 0, CipherKind::Des3),
        ("DH 2048-bit (RFC 5114), AES-128", 1, CipherKind::Aes128),
    ] {
        let mut spec = PassportSpec::specimen(portrait.clone(), size);
        spec.chip_auth = CaSpec::Key { parameter_id, cipher };
        let passport = TestPassport::generate(&spec).map_err(anyhow::Error::msg)?;
        let trust = TrustStore::default();
        let request = ReadRequest {
            data_groups: Some(vec![14]),
            active_auth: false,
            ..ReadRequest::new(Password::Can(passport.can.clone()), &trust)
        };
        let mut samples = Vec::new();
        let mut apdus = 0;
        for _ in 0..runs {
            let chip = EmulatedChip::new(passport.clone(), ChipOptions::default());
            let atr = chip.atr();
            let mut card = vouch_chip::emulator::LocalCard { chip, apdus: 0 };
            let reading = reader::read_document(&mut card, &atr, &request, &mut |_| {})?;
            if reading.chip_authentication.status != vouch_chip::reader::AuthStatus::Authenticated {
                bail!("{name}: chip authentication did not pass: {:?}", reading.chip_authentication);
            }
            let phase = reading.stats.phases.iter().find(|p| p.name == "chip_authentication");
            let phase = phase.context("no chip authentication phase")?;
            samples.push(phase.ms);
            apdus = phase.apdus;
        }
        rows.push(serde_json::json!({
            "chip_authentication": name,
            "apdus": apdus,
            "ms_p50": (median_ms(samples) * 10.0).round() / 10.0,
        }));
    }
    Ok(serde_json::json!({ "runs": runs, "chip_authentication_in_process": rows }))
}

fn median_ms(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples.get(samples.len() / 2).copied().unwrap_or(0.0)
}

/// What the server does with chip data once it has it: the DIS upload's decision (parse every file, passive
/// authentication against a CSCA, active authentication against the challenge) and decoding the JPEG 2000
/// portrait for face matching. Medians over `runs`.
fn checking_bench(runs: usize) -> anyhow::Result<serde_json::Value> {
    let portrait = std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/chip/portrait.jp2"))?;
    let size = face::image_size(&portrait).context("portrait size")?;
    let passport =
        TestPassport::generate(&PassportSpec::specimen(portrait.clone(), size)).map_err(anyhow::Error::msg)?;
    let mut trust = TrustStore::default();
    trust.add_file("csca.pem", passport.csca_pem().as_bytes());
    let challenge = [3u8; 8];
    let chip = EmulatedChip::new(passport.clone(), ChipOptions::default());
    let atr = chip.atr();
    let mut card = vouch_chip::emulator::LocalCard { chip, apdus: 0 };
    let request =
        ReadRequest { aa_challenge: Some(challenge), ..ReadRequest::new(Password::Can(passport.can.clone()), &trust) };
    let data =
        vouch_chip::chip_data::encode(&reader::read_document(&mut card, &atr, &request, &mut |_| {})?.chip_data());
    let mut decide = Vec::new();
    let mut jp2 = Vec::new();
    for _ in 0..runs {
        let started = std::time::Instant::now();
        let decoded = vouch_chip::chip_data::decode(&data)?;
        let (inspection, _) = vouch_chip::inspection::inspect(&decoded, Some(&challenge), &trust, None)?;
        anyhow::ensure!(
            inspection.data_authentication == vouch_chip::inspection::DataAuthentication::Authenticated,
            "the benchmark passport did not authenticate"
        );
        decide.push(started.elapsed().as_secs_f64() * 1000.0);
        let started = std::time::Instant::now();
        vouch_vision::image_io::decode(&portrait, vouch_vision::ImageLimits::default())?;
        jp2.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(serde_json::json!({
        "runs": runs,
        "chip_data_bytes": data.len(),
        "decide_chip_data_ms_p50": (median_ms(decide) * 10.0).round() / 10.0,
        "decode_jpeg2000_portrait_300x400_ms_p50": (median_ms(jp2) * 10.0).round() / 10.0,
    }))
}
