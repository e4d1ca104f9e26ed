//! Synthetic identity-document pages, for tests, for training the MRZ recogniser and for the DEMO file camera:
//! an ICAO passport data page (ID-3, TD3 MRZ) or the front and back of an ID card (ID-1, TD1 MRZ), drawn with
//! the OCR-B font, a portrait and visual-zone text, then placed in perspective on a varied background with blur,
//! noise, uneven light, glare and JPEG loss. Every page says SPECIMEN: nothing drawn here passes for a document.
//! The same seed draws the same page, so a test's input is reproducible.

mod clip;
mod page;
mod scene;
mod text;
mod warp;

pub use clip::{clip, ClipFrame, ClipPhase};
pub use page::{DocumentKind, Holder, Page};
pub use scene::{encode_jpeg, render, render_for, SceneOptions, Synthetic};
pub use text::Font;
pub use warp::Homography;

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("the font cannot be read: {0}")]
    Font(String),
    #[error("the image cannot be encoded: {0}")]
    Encode(String),
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    fn font() -> Font {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/OCRB.otf");
        Font::from_bytes(std::fs::read(path).unwrap()).unwrap()
    }

    fn shot(kind: DocumentKind, options: &SceneOptions, seed: u64) -> Synthetic {
        render(&font(), kind, None, options, &mut StdRng::seed_from_u64(seed)).unwrap()
    }

    fn mean_luma(image: &image::RgbImage) -> f64 {
        image.pixels().map(|p| p.0.iter().map(|&c| f64::from(c)).sum::<f64>() / 3.0).sum::<f64>()
            / f64::from(image.width() * image.height())
    }

    /// Mean absolute horizontal gradient: falls as the frame defocuses.
    fn sharpness(image: &image::RgbImage) -> f64 {
        let grey = image::imageops::grayscale(image);
        let mut sum = 0.0;
        for y in 0..grey.height() {
            for x in 1..grey.width() {
                sum += (f64::from(grey.get_pixel(x, y).0[0]) - f64::from(grey.get_pixel(x - 1, y).0[0])).abs();
            }
        }
        sum / f64::from(grey.width() * grey.height())
    }

    #[test]
    fn a_clip_shows_the_same_page_empty_then_arriving_then_held_still() {
        let holder = Holder::random(&mut StdRng::seed_from_u64(3));
        let frames = clip(&font(), DocumentKind::PassportDataPage, &holder, None, (320, 180), 5).unwrap();
        assert_eq!(frames.len(), clip::PHASES.iter().map(|(_, n)| n).sum::<usize>());
        let of = |phase| frames.iter().filter(move |f| f.phase == phase);
        assert!(of(ClipPhase::Empty).all(|f| f.shot.corners.is_empty()));
        let mrz = holder.mrz(DocumentKind::PassportDataPage);
        assert!(of(ClipPhase::Steady).all(|f| f.shot.mrz == mrz), "one holder's page throughout");
        // Held still: the corners move by a fraction of a pixel's worth of tremor, not across the frame.
        let steady: Vec<&Vec<[f32; 2]>> = of(ClipPhase::Steady).map(|f| &f.shot.corners).collect();
        for pair in steady.windows(2) {
            for (a, b) in pair[0].iter().zip(pair[1].iter()) {
                assert!((a[0] - b[0]).hypot(a[1] - b[1]) < 2.0, "{a:?} -> {b:?}");
            }
        }
        // Arriving: the page turns into place, so its corners travel.
        let arriving: Vec<&Vec<[f32; 2]>> = of(ClipPhase::Arriving).map(|f| &f.shot.corners).collect();
        let (first, last) = (arriving[0], arriving[arriving.len() - 1]);
        assert!(first.iter().zip(last.iter()).any(|(a, b)| (a[0] - b[0]).hypot(a[1] - b[1]) > 10.0));
    }

    #[test]
    fn the_same_seed_draws_the_same_frame_and_another_seed_does_not() {
        let options = SceneOptions::varied(&mut StdRng::seed_from_u64(3));
        let a = shot(DocumentKind::PassportDataPage, &options, 7);
        let b = shot(DocumentKind::PassportDataPage, &options, 7);
        let c = shot(DocumentKind::PassportDataPage, &options, 8);
        assert_eq!(a.image.as_raw(), b.image.as_raw());
        assert_eq!(a.mrz, b.mrz);
        assert_ne!(a.image.as_raw(), c.image.as_raw());
        assert_ne!(a.mrz, c.mrz);
    }

    #[test]
    fn every_drawn_mrz_parses_with_valid_check_digits() {
        for seed in 0..40 {
            for (kind, format, lines) in [
                (DocumentKind::PassportDataPage, vouch_core::mrz::MrzFormat::Td3, 2),
                (DocumentKind::IdCardBack, vouch_core::mrz::MrzFormat::Td1, 3),
            ] {
                let page = page::draw(
                    &font(),
                    kind,
                    &Holder::random(&mut StdRng::seed_from_u64(seed)),
                    None,
                    &mut StdRng::seed_from_u64(seed),
                );
                let text = page.mrz.unwrap();
                assert_eq!(text.lines().count(), lines);
                let mrz = vouch_core::mrz::parse(&text).unwrap();
                assert_eq!(mrz.format, format);
                assert!(mrz.checks.all_valid(), "{text}: {:?}", mrz.checks);
            }
        }
        let front = page::draw(
            &font(),
            DocumentKind::IdCardFront,
            &Holder::random(&mut StdRng::seed_from_u64(1)),
            None,
            &mut StdRng::seed_from_u64(1),
        );
        assert!(front.mrz.is_none() && front.mrz_box.is_none());
    }

    #[test]
    fn the_page_and_its_mrz_lie_inside_the_frame_where_the_labels_say() {
        for seed in 0..10 {
            let options = SceneOptions::varied(&mut StdRng::seed_from_u64(seed));
            let s = shot(DocumentKind::PassportDataPage, &options, seed);
            assert_eq!(s.corners.len(), 4);
            assert_eq!(s.mrz_corners.len(), 4);
            for [x, y] in s.corners.iter().chain(&s.mrz_corners) {
                assert!((0.0..1280.0).contains(x) && (0.0..720.0).contains(y), "{x},{y} seed {seed}");
            }
            // The MRZ band is near-white paper with dark print: its centre is brighter than the backdrop
            // would be on average, and the band lies in the page's lower part.
            let centre = |q: &[[f32; 2]]| q.iter().fold([0.0, 0.0], |a, p| [a[0] + p[0] / 4.0, a[1] + p[1] / 4.0]);
            let (page, mrz) = (centre(&s.corners), centre(&s.mrz_corners));
            let down = [s.corners[3][0] - s.corners[0][0], s.corners[3][1] - s.corners[0][1]];
            assert!((mrz[0] - page[0]) * down[0] + (mrz[1] - page[1]) * down[1] > 0.0);
        }
        let empty =
            shot(DocumentKind::PassportDataPage, &SceneOptions { with_document: false, ..Default::default() }, 1);
        assert!(empty.corners.is_empty() && empty.mrz_corners.is_empty());
    }

    #[test]
    fn dark_blurred_and_glare_options_change_the_frame_as_asked() {
        let clean = shot(DocumentKind::IdCardBack, &SceneOptions::default(), 5);
        let dark = shot(DocumentKind::IdCardBack, &SceneOptions { exposure: 0.3, ..Default::default() }, 5);
        let blurred = shot(DocumentKind::IdCardBack, &SceneOptions { blur_sigma: 3.0, ..Default::default() }, 5);
        let glare = shot(DocumentKind::IdCardBack, &SceneOptions { glare: 0.9, ..Default::default() }, 5);
        assert!(mean_luma(&dark.image) < mean_luma(&clean.image) * 0.4);
        assert!(sharpness(&blurred.image) < sharpness(&clean.image) * 0.6);
        let burnt = |i: &image::RgbImage| i.pixels().filter(|p| p.0.iter().all(|&c| c >= 250)).count();
        assert!(burnt(&glare.image) > burnt(&clean.image) + 500);
    }
}
