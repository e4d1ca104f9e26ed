//! The flat page: a passport data page (125 × 88 mm) or an ID card side (85.6 × 54 mm), drawn at 8 px/mm.

use image::{Rgb, RgbImage};
use rand::seq::SliceRandom;
use rand::Rng;
use serde::Serialize;

use super::text::Font;

pub const PX_PER_MM: f32 = 8.0;
/// ICAO 9303 part 3: MRZ characters sit on a 2.54 mm pitch, 2.0 to 2.4 mm high.
const MRZ_PITCH_MM: f32 = 2.54;
const MRZ_CAP_MM: f32 = 2.3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// An ID-3 passport data page with a TD3 MRZ.
    PassportDataPage,
    /// The front of an ID-1 card: portrait and visual zone, no MRZ.
    IdCardFront,
    /// The back of an ID-1 card with its TD1 MRZ.
    IdCardBack,
}

impl DocumentKind {
    /// Width and height in millimetres.
    pub fn size_mm(self) -> (f32, f32) {
        match self {
            DocumentKind::PassportDataPage => (125.0, 88.0),
            DocumentKind::IdCardFront | DocumentKind::IdCardBack => (85.6, 53.98),
        }
    }

    pub fn parse(s: &str) -> Option<DocumentKind> {
        Some(match s {
            "passport" | "td3" => DocumentKind::PassportDataPage,
            "id-front" => DocumentKind::IdCardFront,
            "id-back" | "td1" => DocumentKind::IdCardBack,
            _ => return None,
        })
    }
}

/// Who the synthetic document is for. Invented names from a fixed list; never a real person's data.
#[derive(Debug, Clone, Serialize)]
pub struct Holder {
    pub surname: String,
    pub given_names: String,
    pub document_number: String,
    pub nationality: String,
    /// YYMMDD.
    pub date_of_birth: String,
    pub sex: String,
    pub date_of_expiry: String,
}

const SURNAMES: [&str; 12] = [
    "ERIKSSON",
    "OKAFOR",
    "TAMM",
    "GARCIA<LOPEZ",
    "NGUYEN",
    "MUELLER",
    "KOWALSKA",
    "SILVA",
    "BROWN",
    "VAN<DER<BERG",
    "IVANOVA",
    "OCONNOR",
];
const GIVEN: [&str; 12] = [
    "ANNA<MARIA",
    "CHIDI",
    "MARI",
    "JOSE<LUIS",
    "LINH",
    "JONAS",
    "ZOFIA",
    "BEATRIZ",
    "OLIVER",
    "SANNE",
    "OLGA",
    "SEAN<PATRICK",
];
const STATES: [&str; 4] = ["UTO", "XXA", "XXB", "XXC"];
const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

fn date(rng: &mut impl Rng, from_year: u32, to_year: u32) -> String {
    let year = rng.gen_range(from_year..=to_year) % 100;
    format!("{year:02}{:02}{:02}", rng.gen_range(1..=12), rng.gen_range(1..=28))
}

impl Holder {
    pub fn random(rng: &mut impl Rng) -> Holder {
        let pick = |rng: &mut _, list: &[&str]| list.choose(rng).copied().unwrap_or("UTO").to_string();
        let letters = rng.gen_range(1..=2);
        let number: String = (0..9)
            .map(|i| {
                let pool = if i < letters { LETTERS } else { ALNUM };
                char::from(pool.choose(rng).copied().unwrap_or(b'0'))
            })
            .collect();
        Holder {
            surname: pick(rng, &SURNAMES),
            given_names: pick(rng, &GIVEN),
            document_number: number,
            nationality: pick(rng, &STATES),
            date_of_birth: date(rng, 1940, 2007),
            sex: if rng.gen_bool(0.5) { "F".into() } else { "M".into() },
            date_of_expiry: date(rng, 2027, 2036),
        }
    }

    /// The MRZ this holder's document prints, lines joined with `\n`; `None` on a card front.
    pub fn mrz(&self, kind: DocumentKind) -> Option<String> {
        let given = self.given_names.replace('<', " ");
        let fields = vouch_core::mrz::MrzFields {
            document_code: "P",
            issuing_state: &self.nationality,
            surname: &self.surname,
            given_names: &given,
            document_number: &self.document_number,
            nationality: &self.nationality,
            date_of_birth: &self.date_of_birth,
            sex: &self.sex,
            date_of_expiry: &self.date_of_expiry,
        };
        match kind {
            DocumentKind::PassportDataPage => Some(lines(&vouch_core::mrz::td3(&fields, ""), 44)),
            DocumentKind::IdCardBack => {
                Some(lines(&vouch_core::mrz::td1(&vouch_core::mrz::MrzFields { document_code: "ID", ..fields }), 30))
            }
            DocumentKind::IdCardFront => None,
        }
    }
}

fn lines(text: &str, width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(width).map(|l| l.iter().collect::<String>()).collect::<Vec<_>>().join("\n")
}

/// A drawn page and what is on it.
pub struct Page {
    pub kind: DocumentKind,
    pub image: RgbImage,
    pub mrz: Option<String>,
    /// The MRZ's bounding box on the page in pixels: x, y, width, height.
    pub mrz_box: Option<[f32; 4]>,
    /// Each MRZ line on the page in pixels: the first cell's left edge, the caps' centre line, the pitch.
    pub mrz_lines: Vec<[f32; 3]>,
}

fn mm(v: f32) -> f32 {
    v * PX_PER_MM
}

/// A pale security-print background: a tint crossed by fine wavy lines.
fn background(image: &mut RgbImage, rng: &mut impl Rng) {
    let tint = [rng.gen_range(225..250u8), rng.gen_range(225..250u8), rng.gen_range(215..245u8)];
    let (f1, f2, amp) = (rng.gen_range(0.02..0.05f32), rng.gen_range(0.01..0.03f32), rng.gen_range(8.0..20.0f32));
    for (x, y, pixel) in image.enumerate_pixels_mut() {
        let (xf, yf) = (x as f32, y as f32);
        let wave = (xf * f1 + amp * (yf * f2).sin()).sin() * (yf * f1 * 0.7 + amp * (xf * f2).sin()).cos();
        let line = if wave.abs() > 0.96 { 22u8 } else { 0 };
        *pixel = Rgb(tint.map(|c| c.saturating_sub(line)));
    }
}

fn fill_rect(image: &mut RgbImage, x: f32, y: f32, w: f32, h: f32, color: [u8; 3]) {
    for py in (y.max(0.0) as u32)..((y + h).max(0.0) as u32) {
        for px in (x.max(0.0) as u32)..((x + w).max(0.0) as u32) {
            if let Some(p) = image.get_pixel_mut_checked(px, py) {
                *p = Rgb(color);
            }
        }
    }
}

fn paste_portrait(image: &mut RgbImage, portrait: Option<&RgbImage>, x: f32, y: f32, w: f32, h: f32) {
    let Some(face) = portrait else {
        // A grey silhouette where no photo is given.
        fill_rect(image, x, y, w, h, [200, 200, 200]);
        fill_rect(image, x + w * 0.3, y + h * 0.2, w * 0.4, h * 0.35, [150, 150, 150]);
        fill_rect(image, x + w * 0.15, y + h * 0.6, w * 0.7, h * 0.4, [150, 150, 150]);
        return;
    };
    // Crop the photo to the frame's aspect around its centre, as a passport photo is cut.
    let (fw, fh) = (face.width() as f32, face.height() as f32);
    let (cw, ch) = if fw / fh > w / h { (fh * w / h, fh) } else { (fw, fw * h / w) };
    let cropped =
        image::imageops::crop_imm(face, ((fw - cw) / 2.0) as u32, ((fh - ch) / 3.0) as u32, cw as u32, ch as u32)
            .to_image();
    let resized = image::imageops::resize(&cropped, w as u32, h as u32, image::imageops::FilterType::Triangle);
    image::imageops::overlay(image, &resized, i64::from(x as u32), i64::from(y as u32));
}

/// `740812` as `12 AUG 1974`-style visual-zone text (the century guessed as for a birth date).
fn viz_date(yymmdd: &str, birth: bool) -> String {
    const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    let iso = vouch_core::mrz::iso_date(yymmdd, birth, 2026).unwrap_or_default();
    let month = iso.get(5..7).and_then(|m| m.parse::<usize>().ok()).and_then(|m| MONTHS.get(m.wrapping_sub(1)));
    match (iso.get(8..10), month, iso.get(0..4)) {
        (Some(d), Some(m), Some(y)) => format!("{d} {m} {y}"),
        _ => yymmdd.to_string(),
    }
}

/// Draws the page. `portrait` goes where the layout puts the holder's photo.
pub fn draw(font: &Font, kind: DocumentKind, holder: &Holder, portrait: Option<&RgbImage>, rng: &mut impl Rng) -> Page {
    let (w_mm, h_mm) = kind.size_mm();
    let mut image = RgbImage::new(mm(w_mm) as u32, mm(h_mm) as u32);
    background(&mut image, rng);
    let ink = [20, 20, 30];
    let label = [90, 90, 110];
    let heading = [40, 40, 90];
    match kind {
        DocumentKind::PassportDataPage => {
            font.draw(&mut image, "PASSPORT  SPECIMEN", mm(5.0), mm(6.5), mm(2.6), None, heading);
            font.draw(&mut image, "UTOPIA", mm(w_mm - 30.0), mm(6.5), mm(2.6), None, heading);
        }
        _ => {
            font.draw(&mut image, "UTOPIA  IDENTITY CARD  SPECIMEN", mm(4.0), mm(6.0), mm(2.0), None, heading);
        }
    }

    let viz = |image: &mut RgbImage, x: f32, top: f32, rows: &[(&str, String)]| {
        for (i, (name, value)) in rows.iter().enumerate() {
            let y = top + i as f32 * 7.0;
            font.draw(image, name, mm(x), mm(y), mm(1.5), None, label);
            font.draw(image, value, mm(x), mm(y + 3.6), mm(2.4), None, ink);
        }
    };
    let rows = vec![
        ("SURNAME", holder.surname.replace('<', " ")),
        ("GIVEN NAMES", holder.given_names.replace('<', " ")),
        ("NATIONALITY", holder.nationality.clone()),
        ("DATE OF BIRTH", viz_date(&holder.date_of_birth, true)),
        ("SEX", holder.sex.clone()),
        ("DATE OF EXPIRY", viz_date(&holder.date_of_expiry, false)),
    ];
    let mrz = holder.mrz(kind);
    let mut mrz_box = None;
    let mut mrz_lines = Vec::new();
    match kind {
        DocumentKind::PassportDataPage => {
            paste_portrait(&mut image, portrait, mm(6.0), mm(12.0), mm(32.0), mm(42.0));
            viz(&mut image, 42.0, 12.0, &rows);
            font.draw(&mut image, "DOCUMENT NO", mm(90.0), mm(12.0), mm(1.5), None, label);
            font.draw(&mut image, &holder.document_number, mm(90.0), mm(15.6), mm(2.4), None, ink);
        }
        DocumentKind::IdCardFront => {
            paste_portrait(&mut image, portrait, mm(4.0), mm(10.0), mm(24.0), mm(32.0));
            viz(&mut image, 31.0, 11.0, &rows.iter().take(5).cloned().collect::<Vec<_>>());
            font.draw(&mut image, &holder.document_number, mm(60.0), mm(49.0), mm(2.4), None, ink);
        }
        DocumentKind::IdCardBack => {
            font.draw(&mut image, "ADDRESS", mm(5.0), mm(12.0), mm(1.5), None, label);
            font.draw(&mut image, "1 SPECIMEN STREET  UTOPIA", mm(5.0), mm(15.6), mm(2.4), None, ink);
            font.draw(&mut image, "AUTHORITY  UTOPIA TEST OFFICE", mm(5.0), mm(22.0), mm(2.0), None, ink);
        }
    }
    if let Some(text) = &mrz {
        // A white MRZ band, as on real documents, then the lines from the bottom up.
        let count = text.lines().count() as f32;
        let (left, bottom, pitch_line) = match kind {
            DocumentKind::PassportDataPage => (6.0, h_mm - 5.0, 7.5),
            _ => (3.5, h_mm - 4.5, 4.7),
        };
        let top = bottom - (count - 1.0) * pitch_line - MRZ_CAP_MM;
        let width = text.lines().map(|l| l.chars().count()).max().unwrap_or(0) as f32 * MRZ_PITCH_MM;
        fill_rect(&mut image, mm(left - 1.5), mm(top - 2.0), mm(width + 3.0), mm(bottom - top + 3.5), [246, 246, 242]);
        for (i, line) in text.lines().enumerate() {
            let baseline = bottom - (count - 1.0 - i as f32) * pitch_line;
            font.draw(&mut image, line, mm(left), mm(baseline), mm(MRZ_CAP_MM), Some(mm(MRZ_PITCH_MM)), ink);
            mrz_lines.push([mm(left), mm(baseline - MRZ_CAP_MM / 2.0), mm(MRZ_PITCH_MM)]);
        }
        mrz_box = Some([mm(left), mm(top), mm(width), mm(bottom - top)]);
    }
    Page { kind, image, mrz, mrz_box, mrz_lines }
}
