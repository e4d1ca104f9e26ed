//! How colourful a flattened page is: identity documents are printed in colour (tinted security backgrounds,
//! a colour portrait, coloured inks), so a page with almost no colour is a black-and-white copy or a greyscale
//! scan, the one page-tampering sign Vouch checks (DIS `colorProfileChangeDetected`).

use image::RgbImage;

/// Hasler and Süsstrunk's colourfulness of a page at which the colour profile counts as a document's. Measured
/// on the pale SPECIMEN pages with a grey portrait placeholder (ID-3 and ID-1, varied light): 5.6–15.4, so the
/// palest scores 0.47; the same pages in greyscale: 0. Real documents, with colour portraits and inks, are above.
pub const DOCUMENT_COLOURFULNESS: f32 = 12.0;
/// Below this score the page has lost its colour (`colorProfileChangeDetected`).
pub const COLOUR_PROFILE_CHANGED_BELOW: f32 = 0.3;

/// Hasler and Süsstrunk (2003): the spread and mean of the opponent channels rg = R−G and yb = (R+G)/2 − B,
/// in grey levels. 0 for a grey image; everyday photos reach 30–100.
pub fn colourfulness(page: &RgbImage) -> f32 {
    let n = f64::from(page.width()) * f64::from(page.height());
    if n == 0.0 {
        return 0.0;
    }
    let (mut rg_sum, mut yb_sum, mut rg_sq, mut yb_sq) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for p in page.pixels() {
        let [r, g, b] = p.0.map(f64::from);
        let rg = r - g;
        let yb = (r + g) / 2.0 - b;
        rg_sum += rg;
        yb_sum += yb;
        rg_sq += rg * rg;
        yb_sq += yb * yb;
    }
    let (rg_mean, yb_mean) = (rg_sum / n, yb_sum / n);
    let rg_var = (rg_sq / n - rg_mean * rg_mean).max(0.0);
    let yb_var = (yb_sq / n - yb_mean * yb_mean).max(0.0);
    ((rg_var + yb_var).sqrt() + 0.3 * (rg_mean * rg_mean + yb_mean * yb_mean).sqrt()) as f32
}

/// DIS's colour-profile score: 1 for a page as colourful as a printed document, towards 0 as its colour is lost.
pub fn colour_profile_score(page: &RgbImage) -> f32 {
    (colourfulness(page) / DOCUMENT_COLOURFULNESS).clamp(0.0, 1.0)
}
