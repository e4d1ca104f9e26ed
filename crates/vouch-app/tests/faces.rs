//! Enrolling and comparing faces with the real models on real photos (`testdata/faces`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use vouch_app::faces::{Enrolment, FaceService, Pick};
use vouch_app::AppCode;
use vouch_vision::image::{Rgb, RgbImage};

fn service() -> FaceService {
    FaceService::new(Some(vouch_testkit::models_dir()), 1)
}

fn photo(name: &str) -> Vec<u8> {
    vouch_testkit::fixture(&format!("faces/{name}"))
}

/// Two photos side by side, as one JPEG.
fn side_by_side(left: &str, right: &str) -> Vec<u8> {
    let limits = vouch_vision::ImageLimits::default();
    let (a, b) =
        (vouch_vision::decode(&photo(left), limits).unwrap(), vouch_vision::decode(&photo(right), limits).unwrap());
    let mut canvas = RgbImage::from_pixel(a.width() + b.width(), a.height().max(b.height()), Rgb([128, 128, 128]));
    for (x, y, p) in a.enumerate_pixels() {
        canvas.put_pixel(x, y, *p);
    }
    for (x, y, p) in b.enumerate_pixels() {
        canvas.put_pixel(a.width() + x, y, *p);
    }
    vouch_vision::image_io::encode_jpeg(&canvas, 90).unwrap()
}

async fn template(faces: &FaceService, name: &str) -> Vec<u8> {
    match faces.enrol(photo(name), Pick::OnlyOne).await.unwrap().0 {
        Enrolment::Face { template, others: 0, .. } => template,
        _ => panic!("{name} shows one face"),
    }
}

#[tokio::test]
async fn the_same_person_matches_and_another_does_not() {
    let faces = service();
    let obama = template(&faces, "fr_obama.jpg").await;
    let same = faces.compare(&obama, &template(&faces, "fr_obama2.jpg").await).await.unwrap();
    let other = faces.compare(&obama, &template(&faces, "fr_biden.jpg").await).await.unwrap();
    assert!(same > 0.5 && other < 0.5, "same person {same}, another {other}");
}

#[tokio::test]
async fn a_photo_of_two_gives_the_largest_face_or_is_refused() {
    let faces = service();
    let two = side_by_side("fr_obama.jpg", "fr_biden.jpg");
    assert!(matches!(faces.enrol(two.clone(), Pick::OnlyOne).await.unwrap().0, Enrolment::Multiple));
    let (enrolled, kept) = faces.enrol(two.clone(), Pick::Largest).await.unwrap();
    assert!(matches!(enrolled, Enrolment::Face { others: 1, .. }));
    assert_eq!(kept, two, "the photo comes back to be stored");
    let blank = vouch_vision::image_io::encode_jpeg(&RgbImage::from_pixel(320, 240, Rgb([128, 128, 128])), 90).unwrap();
    assert!(matches!(faces.enrol(blank, Pick::Largest).await.unwrap().0, Enrolment::NoFace));
}

#[tokio::test]
async fn what_is_not_an_image_or_a_template_is_the_callers_error() {
    let faces = service();
    let err = faces.enrol(b"not an image".to_vec(), Pick::Largest).await.err().unwrap();
    assert_eq!(err.code, AppCode::InvalidImage);
    let good = template(&faces, "fr_obama.jpg").await;
    let err = faces.compare(&good, &good[..good.len() / 2]).await.unwrap_err();
    assert!(matches!(err.code, AppCode::CorruptedTemplate | AppCode::IncompatibleTemplate), "{err:?}");
}

#[tokio::test]
async fn a_probe_of_several_frames_is_their_quality_weighted_mean_and_skips_frames_without_a_face() {
    use vouch_app::faces::{probe_template, subject_template};
    use vouch_vision::FaceTemplate;
    let faces = service();
    let limits = faces.limits;
    let blank = vouch_vision::image_io::encode_jpeg(&RgbImage::from_pixel(320, 240, Rgb([90, 90, 90])), 90).unwrap();
    let frames = vec![photo("fr_obama.jpg"), blank.clone(), photo("fr_obama2.jpg")];
    let (fused, each, weights) = faces
        .run(move |engine| {
            let fused = probe_template(engine, &frames, limits)?;
            let mut each = Vec::new();
            let mut weights = Vec::new();
            for name in ["fr_obama.jpg", "fr_obama2.jpg"] {
                let img = vouch_vision::decode(&photo(name), limits)?;
                let face = engine.detect(&img)?.subject.unwrap();
                let sharpness = vouch_vision::quality::face_stats(&img, face.rect).sharpness();
                weights.push(vouch_vision::quality::frame_weight(sharpness, &face));
                each.push(subject_template(engine, &photo(name), limits)?.unwrap());
            }
            Ok((fused.unwrap(), each, weights))
        })
        .await
        .unwrap();
    assert!(weights.iter().all(|w| *w > 0.0), "{weights:?}");
    let expected = FaceTemplate::fuse(&[(&each[0], weights[0]), (&each[1], weights[1])], 3).unwrap();
    assert!(fused.cosine(&expected) > 0.9999, "the blank frame is left out, the faces weighted");
    // Between its frames: closer to each than they are to each other.
    let apart = each[0].cosine(&each[1]);
    assert!(fused.cosine(&each[0]) > apart && fused.cosine(&each[1]) > apart);

    let none = faces.run(move |engine| probe_template(engine, &[blank], limits)).await.unwrap();
    assert!(none.is_none(), "no frame shows a face");
}
