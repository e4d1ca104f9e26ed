//! What a 1:N `min_score` means, measured on a labelled folder (`vouch faces eval`): the false match rate of
//! each score among impostor pairs, the false-positive identification rate it implies for galleries of a given
//! size, and a real 1:N search over the folder (half of the identities enrolled, the other half strangers) with
//! and without a top-1 versus top-2 margin rule.

use vouch_vision::score::similarity_score;
use vouch_vision::FaceTemplate;

/// The thresholds reported.
const THRESHOLDS: [f32; 7] = [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9];
/// Gallery sizes the false-positive identification rate is modelled for.
const GALLERY_SIZES: [f64; 4] = [1_000.0, 10_000.0, 100_000.0, 1_000_000.0];
/// Margins (top-1 score minus top-2 score) tried as a second condition for a match.
const MARGINS: [f32; 3] = [0.0, 0.05, 0.1];

/// `1 - (1 - fmr)^n`: the chance that at least one of `n` strangers reaches the threshold, if their scores
/// against a probe are independent.
fn fpir(fmr: f64, n: f64) -> f64 {
    1.0 - (1.0 - fmr).powf(n)
}

/// Prints the per-threshold false match rate and the modelled false-positive identification rate for each
/// gallery size. `impostor`: every impostor pair's score.
pub fn print_fmr(impostor: &[f32]) {
    let pairs = impostor.len() as f64;
    println!(
        "1:N: false match rate per min_score over {} impostor pairs, and the rate of searches of a stranger",
        impostor.len()
    );
    println!(
        "that find someone (FPIR = 1 - (1 - FMR)^N), modelled for galleries of N; `<` where no impostor reached it"
    );
    print!("  {:>9} {:>10}", "min_score", "FMR");
    GALLERY_SIZES.iter().for_each(|n| print!(" {:>12}", format!("FPIR N={}", human(*n))));
    println!();
    for t in THRESHOLDS {
        let above = impostor.iter().filter(|s| **s > t).count();
        let (fmr, bound) = if above == 0 { (1.0 / pairs, "<") } else { (above as f64 / pairs, "") };
        print!("  {t:>9.2} {:>10}", format!("{bound}{:.2e}", fmr));
        GALLERY_SIZES.iter().for_each(|n| print!(" {:>12}", format!("{bound}{:.3}%", fpir(fmr, *n) * 100.0)));
        println!();
    }
}

fn human(n: f64) -> String {
    if n >= 1e6 {
        format!("{}M", n / 1e6)
    } else {
        format!("{}k", n / 1e3)
    }
}

/// One identity's templates.
pub struct Identity<'a> {
    pub templates: Vec<&'a FaceTemplate>,
}

/// The best and second-best scores of `probe` against the enrolled identities' first templates, with the index
/// of the best.
fn top_two(probe: &FaceTemplate, enrolled: &[&FaceTemplate]) -> (usize, f32, f32) {
    let (mut best, mut first, mut second) = (0, f32::MIN, f32::MIN);
    for (i, t) in enrolled.iter().enumerate() {
        let s = similarity_score(probe.cosine(t));
        if s > first {
            (second, first, best) = (first, s, i);
        } else if s > second {
            second = s;
        }
    }
    (best, first, second)
}

/// A real 1:N search: identities at even positions enrolled with their first photo, probed with their other
/// photos; those at odd positions search as strangers with every photo.
pub fn print_search(identities: &[Identity<'_>]) {
    let enrolled: Vec<&FaceTemplate> =
        identities.iter().step_by(2).filter_map(|i| i.templates.first().copied()).collect();
    let mut genuine = Vec::new(); // (right person first, top-1, top-2)
    for (index, identity) in identities.iter().step_by(2).enumerate() {
        for probe in identity.templates.iter().skip(1) {
            let (best, first, second) = top_two(probe, &enrolled);
            genuine.push((best == index, first, second));
        }
    }
    let strangers: Vec<(f32, f32)> = identities
        .iter()
        .skip(1)
        .step_by(2)
        .flat_map(|i| i.templates.iter().map(|p| top_two(p, &enrolled)).map(|(_, a, b)| (a, b)).collect::<Vec<_>>())
        .collect();
    println!(
        "1:N search over a gallery of {} enrolled identities: {} searches of enrolled people (their other photos), {} of strangers",
        enrolled.len(),
        genuine.len(),
        strangers.len()
    );
    println!("  {:>9} {:>7} {:>22} {:>22}", "min_score", "margin", "found first (FNIR)", "strangers matched");
    for t in THRESHOLDS {
        for margin in MARGINS {
            let passes = |first: f32, second: f32| first > t && first - second.max(0.0) >= margin;
            let found = genuine.iter().filter(|(right, a, b)| *right && passes(*a, *b)).count();
            let matched = strangers.iter().filter(|(a, b)| passes(*a, *b)).count();
            let rate = |n: usize, of: usize| if of == 0 { 0.0 } else { n as f64 * 100.0 / of as f64 };
            println!(
                "  {t:>9.2} {margin:>7.2} {:>22} {:>22}",
                format!("{found}/{} ({:.1}%)", genuine.len(), 100.0 - rate(found, genuine.len())),
                format!("{matched}/{} ({:.2}%)", strangers.len(), rate(matched, strangers.len()))
            );
        }
    }
}
