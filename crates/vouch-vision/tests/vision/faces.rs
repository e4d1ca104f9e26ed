//! The face engine on the real models and real public-domain photos (testdata/faces/README.md).

use std::path::Path;
use std::sync::OnceLock;

use image::{Rgb, RgbImage};
use vouch_vision::engine::Warning;
use vouch_vision::geometry::{Point, Rect};
use vouch_vision::liveness::LIVE_THRESHOLD;
use vouch_vision::score::{similarity_score, MATCH_SCORE};
use vouch_vision::segment::{coverage, mean_in};
use vouch_vision::tensor::ChannelOrder;
use vouch_vision::track::Tracker;
use vouch_vision::{decode, EngineConfig, Face, FaceEngine, FaceTemplate, ImageLimits, VisionError};

pub(crate) fn engine() -> &'static FaceEngine {
    static ENGINE: OnceLock<FaceEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        FaceEngine::load(&EngineConfig { models_dir: vouch_testkit::repo_root().join("models"), threads: 2 })
            .expect("models load")
    })
}

pub(crate) fn photo(name: &str) -> RgbImage {
    let bytes = std::fs::read(vouch_testkit::repo_root().join("testdata/faces").join(name)).unwrap();
    decode(&bytes, ImageLimits::default()).unwrap()
}

pub(crate) fn subject(img: &RgbImage) -> Face {
    engine().detect(img).unwrap().subject.expect("a face")
}

fn template(name: &str) -> FaceTemplate {
    let img = photo(name);
    engine().template(&img, &subject(&img)).unwrap()
}

#[test]
fn the_same_person_matches_and_different_people_do_not() {
    let (obama, obama2, biden, astronaut) = (
        template("fr_obama.jpg"),
        template("fr_obama2.jpg"),
        template("fr_biden.jpg"),
        template("skimage_astronaut.png"),
    );
    let genuine = similarity_score(obama.cosine(&obama2));
    assert!(genuine > MATCH_SCORE, "obama vs obama2 scored {genuine}");
    for (name, other) in [("biden", &biden), ("astronaut", &astronaut)] {
        let impostor = similarity_score(obama.cosine(other));
        assert!(impostor < MATCH_SCORE, "obama vs {name} scored {impostor}");
    }
    // The RGBA copy of obama2 decodes to the same face.
    assert!(template("fr_32bit.png").cosine(&obama2) > 0.99);
    // The template survives its binary format.
    let back = FaceTemplate::from_bytes(&obama.to_bytes(), &engine().template_tag()).unwrap();
    assert!((back.cosine(&obama2) - obama.cosine(&obama2)).abs() < 1e-6);
}

fn aligned(name: &str) -> RgbImage {
    let img = photo(name);
    vouch_vision::embed::align(&img, &subject(&img)).unwrap()
}

#[test]
fn the_embedder_gives_the_same_template_at_every_optimisation_level() {
    // The engine keeps whichever level runs fastest on this CPU, so every level must compute the same template.
    use ort::session::builder::GraphOptimizationLevel as Level;
    let models = vouch_testkit::repo_root().join("models");
    let path = models.join(vouch_vision::engine::EMBEDDER);
    let tag = engine().template_tag();
    let crop = aligned("fr_obama2.jpg");
    let at = |level| {
        let model = vouch_vision::runtime::Model::load(vouch_vision::engine::EMBEDDER, &path, 1, level).unwrap();
        vouch_vision::embed::Embedder::new(model, tag).embed(&crop).unwrap()
    };
    let (basic, all) = (at(Level::Level1), at(Level::Level3));
    assert!(basic.cosine(&all) > 0.9999, "{}", basic.cosine(&all));
    assert!(engine().embedder().embed(&crop).unwrap().cosine(&basic) > 0.9999);
}

#[test]
fn a_large_frame_is_scaled_once_and_the_selfie_reads_the_same() {
    // A 1280×720 frame: the detector scales it to 640×360 and the liveness crop is taken from that, not from
    // the full frame again. The result must be the one the full frame gives.
    let face_photo = photo("fr_obama.jpg");
    let scaled = image::imageops::resize(&face_photo, 480, 600, image::imageops::FilterType::Triangle);
    let mut frame = RgbImage::from_pixel(1280, 720, Rgb([118, 124, 130]));
    image::imageops::replace(&mut frame, &scaled, 400, 60);
    let selfie = engine().analyze_selfie(&frame).unwrap().unwrap();
    let face = engine().detect(&frame).unwrap().subject.unwrap();
    let full = engine().passive_liveness(&frame, &face).unwrap();
    assert!(selfie.liveness >= LIVE_THRESHOLD, "{} (full frame {full})", selfie.liveness);
    assert!((selfie.liveness - full).abs() < 0.02, "{} against {full} from the full frame", selfie.liveness);
    assert!(selfie.template.cosine(&template("fr_obama.jpg")) > 0.9);
}

#[test]
fn the_int8_embedder_keeps_the_decisions_and_its_templates_are_its_own() {
    let registry = vouch_vision::registry::ModelRegistry::open(&vouch_testkit::repo_root().join("models")).unwrap();
    let int8 = vouch_vision::engine::load_embedder(&registry, vouch_vision::engine::EmbedderKind::Int8, 2).unwrap();
    assert_ne!(int8.tag, engine().template_tag(), "templates of the two embedders must never be compared");
    let t = |name: &str| int8.embed(&aligned(name)).unwrap();
    let (obama, obama2, biden) = (t("fr_obama.jpg"), t("fr_obama2.jpg"), t("fr_biden.jpg"));
    assert!(similarity_score(obama.cosine(&obama2)) > MATCH_SCORE);
    assert!(similarity_score(obama.cosine(&biden)) < MATCH_SCORE);
    // Quantisation moves the template a little, not to another face.
    let fp32 = template("fr_obama.jpg");
    assert!(obama.values.iter().zip(&fp32.values).map(|(a, b)| a * b).sum::<f32>() > 0.95);
}

#[test]
fn the_astronaut_is_found_with_landmarks_on_her_eyes_nose_and_mouth() {
    let img = photo("skimage_astronaut.png");
    let detection = engine().detect(&img).unwrap();
    assert_eq!(detection.faces.len(), 1);
    assert!(detection.warnings.is_empty(), "{:?}", detection.warnings);
    let face = detection.subject.unwrap();
    assert!(face.confidence > 0.9);
    // Positions read off the photo by hand (the drawing is in the commit that added this test).
    let expected = [(205.0, 101.0), (247.0, 103.0), (224.0, 129.0), (202.0, 138.0), (244.0, 141.0)];
    for (got, (x, y)) in face.landmarks.iter().zip(expected) {
        assert!(got.distance(Point::new(x, y)) < 6.0, "landmark {got:?} is not near ({x}, {y})");
    }
    let c = face.rect.center();
    assert!((c.x - 225.0).abs() < 12.0 && (c.y - 117.0).abs() < 15.0, "box {:?}", face.rect);
}

#[test]
fn an_image_without_a_face_yields_no_face() {
    // The lower right of the astronaut photo: her suit and the flag, no face.
    let img = image::imageops::crop_imm(&photo("skimage_astronaut.png"), 256, 256, 256, 256).to_image();
    let detection = engine().detect(&img).unwrap();
    assert!(detection.faces.is_empty(), "found {:?}", detection.faces);
    assert!(engine().analyze_selfie(&img).unwrap().is_none());
    // A flat grey frame, as from a covered camera.
    let grey = RgbImage::from_pixel(640, 480, Rgb([90, 90, 90]));
    assert!(engine().detect(&grey).unwrap().faces.is_empty());
}

fn side_by_side(a: &RgbImage, b: &RgbImage) -> RgbImage {
    let h = a.height().max(b.height());
    let mut out = RgbImage::from_pixel(a.width() + b.width(), h, Rgb([200, 200, 200]));
    image::imageops::replace(&mut out, a, 0, 0);
    image::imageops::replace(&mut out, b, i64::from(a.width()), 0);
    out
}

#[test]
fn two_people_in_one_image_give_a_multiple_faces_warning() {
    let obama = image::imageops::resize(&photo("fr_obama.jpg"), 455, 568, image::imageops::FilterType::Triangle);
    let astronaut = photo("skimage_astronaut.png");
    let composite = side_by_side(&obama, &astronaut);
    let detection = engine().detect(&composite).unwrap();
    assert_eq!(detection.faces.len(), 2, "{:?}", detection.faces);
    assert!(detection.warnings.contains(&Warning::MultipleFacesDetected));
    let selfie = engine().analyze_selfie(&composite).unwrap().unwrap();
    assert!(selfie.warnings.contains(&Warning::MultipleFacesDetected));
}

/// A print or screen replay: the photo shown on a display with a bezel, re-photographed. The halftone dots of
/// a print and the moiré between screen pixels and camera sensor both appear as a fine periodic pattern.
fn recapture(img: &RgbImage) -> RgbImage {
    let (w, h) = img.dimensions();
    let border = w / 10;
    let mut out = RgbImage::from_pixel(w, h, Rgb([18, 18, 22]));
    let inner = image::imageops::resize(img, w - 2 * border, h - 2 * border, image::imageops::FilterType::Triangle);
    for (x, y, p) in inner.enumerate_pixels() {
        let (fx, fy) = (x as f32, y as f32);
        // Moiré: two slightly rotated gratings beating against each other.
        let moire = ((fx * 0.9 + fy * 0.15).sin() * (fx * 0.12 - fy * 0.85).sin()) * 28.0;
        // Halftone: a dot screen.
        let dots = if (x % 4 < 2) ^ (y % 4 < 2) { 14.0 } else { -14.0 };
        let px = p.0.map(|c| (f32::from(c) * 0.85 + 20.0 + moire + dots).clamp(0.0, 255.0) as u8);
        out.put_pixel(x + border, y + border, Rgb(px));
    }
    out
}

/// Every simulated replay scores lower than its original, and on average far lower (in log-odds). This is a
/// synthetic attack: the model is untested on real ones (models/MODELS.md says what that means).
#[test]
fn a_recaptured_photo_scores_lower_liveness_than_the_original() {
    let names = ["fr_obama.jpg", "fr_obama2.jpg", "fr_biden.jpg", "skimage_astronaut.png"];
    let mut drop = 0.0;
    for name in names {
        let original = photo(name);
        let live = engine().passive_liveness(&original, &subject(&original)).unwrap();
        let replay = recapture(&original);
        let spoof = engine().passive_liveness(&replay, &subject(&replay)).unwrap();
        eprintln!("{name}: original {live:.4}, recapture {spoof:.4}");
        assert!(live > LIVE_THRESHOLD, "{name}: original scored {live}");
        assert!(spoof < live, "{name}: recapture {spoof} vs original {live}");
        drop += logit(live) - logit(spoof);
    }
    assert!(drop / names.len() as f32 > 3.0, "mean log-odds drop {}", drop / names.len() as f32);
}

fn logit(p: f32) -> f32 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

/// The liveness model's pre-processing, measured: BGR beats RGB on live photos, and the 2.7× crop keeps a face
/// at the frame's edge live where a tight crop does not.
#[test]
fn passive_liveness_preprocessing_is_bgr_with_a_2_7x_crop() {
    let model = engine().liveness_model();
    let (mut bgr, mut rgb) = (0.0, 0.0);
    let names = ["fr_obama.jpg", "fr_obama2.jpg", "fr_biden.jpg", "skimage_astronaut.png"];
    for name in names {
        let img = photo(name);
        let face = subject(&img);
        bgr += logit(model.score_with(&img, &face, ChannelOrder::Bgr, 2.7).unwrap());
        rgb += logit(model.score_with(&img, &face, ChannelOrder::Rgb, 2.7).unwrap());
    }
    eprintln!("mean live log-odds: BGR {:.2}, RGB {:.2}", bgr / 4.0, rgb / 4.0);
    assert!(bgr > rgb + 1.0, "BGR {bgr} vs RGB {rgb}");
    let img = photo("fr_obama_partial_face.jpg");
    let face = subject(&img);
    let wide = model.score_with(&img, &face, ChannelOrder::Bgr, 2.7).unwrap();
    let tight = model.score_with(&img, &face, ChannelOrder::Bgr, 1.5).unwrap();
    eprintln!("partial face: 2.7× {wide:.3}, 1.5× {tight:.3}");
    assert!(wide > 0.9 && wide > tight, "2.7× {wide} vs 1.5× {tight}");
}

#[test]
fn eyes_read_open_and_read_closed_when_painted_over_with_skin() {
    let mut img = photo("fr_obama.jpg");
    let face = subject(&img);
    let points = engine().landmarks68(&img, &face).unwrap();
    let open = engine().eyes_open(&img, &points).unwrap();
    assert!(open[0] > 0.5 && open[1] > 0.5, "open eyes read {open:?}");
    // Closed lids look like skin: fill each eye's region with the cheek's colour.
    let cheek = *img.get_pixel(face.landmarks[2].x as u32 - 40, face.landmarks[2].y as u32);
    for eye in vouch_vision::attributes::eye_boxes(&points) {
        let r = Rect {
            x0: eye.x0 + eye.width() * 0.1,
            y0: eye.y0 + eye.height() * 0.25,
            x1: eye.x1 - eye.width() * 0.1,
            y1: eye.y1 - eye.height() * 0.25,
        };
        for y in r.y0 as u32..r.y1 as u32 {
            for x in r.x0 as u32..r.x1 as u32 {
                img.put_pixel(x, y, cheek);
            }
        }
    }
    let closed = engine().eyes_open(&img, &points).unwrap();
    assert!(closed[0] < 0.5 && closed[1] < 0.5, "covered eyes read {closed:?}");
}

#[test]
fn head_pose_yaw_changes_sign_in_a_mirrored_photo() {
    let img = photo("fr_obama2.jpg");
    let pose = engine().head_pose(&img, &subject(&img)).unwrap();
    let mirrored = image::imageops::flip_horizontal(&img);
    let mirrored_pose = engine().head_pose(&mirrored, &subject(&mirrored)).unwrap();
    assert!(pose.yaw.abs() > 8.0, "{pose:?}");
    assert!(pose.yaw.signum() != mirrored_pose.yaw.signum(), "{pose:?} vs {mirrored_pose:?}");
    assert!((pose.yaw + mirrored_pose.yaw).abs() < 6.0, "{pose:?} vs {mirrored_pose:?}");
}

#[test]
fn quality_drops_for_blur_and_darkness_and_the_selfie_says_why() {
    let img = photo("fr_obama.jpg");
    let face = subject(&img);
    let sharp = engine().quality(&img, &face).unwrap();
    let blurred = image::imageops::blur(&img, 6.0);
    let soft = engine().quality(&blurred, &face).unwrap();
    assert!(
        soft.sharpness.score < sharp.sharpness.score - 0.3,
        "{} vs {}",
        soft.sharpness.score,
        sharp.sharpness.score
    );
    let dark = RgbImage::from_fn(img.width(), img.height(), |x, y| Rgb(img.get_pixel(x, y).0.map(|c| c / 5)));
    let dim = engine().quality(&dark, &face).unwrap();
    assert!(dim.brightness.score < sharp.brightness.score / 3.0);
    assert_eq!(sharp.face_relative_area_in_image.score, 1.0);
    let selfie = engine().analyze_selfie(&dark).unwrap().expect("face still found");
    assert!(selfie.warnings.contains(&Warning::FaceTooDark), "{:?}", selfie.warnings);
    let clean = engine().analyze_selfie(&img).unwrap().unwrap();
    assert!(clean.warnings.is_empty(), "{:?}", clean.warnings);
}

#[test]
fn aspects_give_an_adult_age_and_a_bounded_gender_score() {
    for name in ["fr_obama.jpg", "fr_biden.jpg", "skimage_astronaut.png"] {
        let img = photo(name);
        let a = engine().aspects(&img, &subject(&img)).unwrap();
        assert!((20.0..80.0).contains(&a.age), "{name}: {a:?}");
        assert!((0.0..=1.0).contains(&a.gender), "{name}: {a:?}");
    }
}

#[test]
fn the_tracker_follows_a_moving_face_across_preview_frames() {
    let photo = image::imageops::resize(&photo("fr_obama.jpg"), 320, 400, image::imageops::FilterType::Triangle);
    let mut tracker = Tracker::default();
    let mut last_x = None;
    for step in 0..6u32 {
        let mut frame = RgbImage::from_pixel(640, 480, Rgb([120, 130, 140]));
        image::imageops::replace(&mut frame, &photo, i64::from(40 + step * 12), 40);
        let boxes = engine().fast_detector().detect(&frame).unwrap();
        let track = tracker.update(&boxes, 640, 480).expect("face tracked");
        assert_eq!(track.age, step + 1);
        if let Some(prev) = last_x {
            assert!(track.rect.center().x > prev, "the box moves with the face");
        }
        last_x = Some(track.rect.center().x);
    }
}

/// A PNG that claims 20000×20000 pixels: eight bytes of signature and one IHDR chunk.
fn png_header(width: u32, height: u32) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 { 0xEDB8_8320 ^ (crc >> 1) } else { crc >> 1 };
            }
        }
        !crc
    }
    let mut chunk = b"IHDR".to_vec();
    chunk.extend_from_slice(&width.to_be_bytes());
    chunk.extend_from_slice(&height.to_be_bytes());
    chunk.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&chunk);
    png.extend_from_slice(&crc32(&chunk).to_be_bytes());
    png
}

#[test]
fn images_are_checked_before_they_are_decoded() {
    let bomb = png_header(20000, 20000);
    assert!(bomb.len() < 64);
    assert!(matches!(decode(&bomb, ImageLimits::default()), Err(VisionError::ImageTooLarge { width: 20000, .. })));
    assert!(matches!(decode(b"not an image at all", ImageLimits::default()), Err(VisionError::ImageFormat)));
    assert!(matches!(decode(&png_header(8, 8), ImageLimits::default()), Err(VisionError::ImageTooSmall { .. })));
    let truncated = &std::fs::read(vouch_testkit::repo_root().join("testdata/faces/fr_obama.jpg")).unwrap()[..2000];
    assert!(decode(truncated, ImageLimits::default()).is_err());
}

fn copy_models(to: &Path, skip: &str, corrupt: &str) {
    for entry in std::fs::read_dir(vouch_testkit::repo_root().join("models")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name == skip {
            continue;
        }
        if name == corrupt {
            let mut bytes = std::fs::read(&path).unwrap();
            let n = bytes.len();
            bytes[n / 2] ^= 0xFF;
            std::fs::write(to.join(&name), bytes).unwrap();
        } else {
            std::os::unix::fs::symlink(&path, to.join(&name)).unwrap();
        }
    }
}

#[test]
fn a_missing_or_altered_model_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    copy_models(dir.path(), "face_embed512.onnx", "");
    let err = FaceEngine::load(&EngineConfig { models_dir: dir.path().into(), threads: 1 }).unwrap_err();
    assert!(matches!(&err, VisionError::ModelMissing { file, .. } if file == "face_embed512.onnx"), "{err}");
    assert!(err.to_string().contains("face_embed512.onnx"));

    let dir = tempfile::tempdir().unwrap();
    copy_models(dir.path(), "", "face_liveness.onnx");
    let err = FaceEngine::load(&EngineConfig { models_dir: dir.path().into(), threads: 1 }).unwrap_err();
    assert!(matches!(&err, VisionError::ModelCorrupt { file, .. } if file == "face_liveness.onnx"), "{err}");
}

// ---- liveness over several frames ----

mod active {
    use super::*;
    use vouch_vision::active::{evaluate, Assertion, EvaluationError, FrameObservation, LivenessType};

    fn observe(img: &RgbImage) -> FrameObservation {
        engine().observe(img).unwrap()
    }

    fn mirrored(name: &str) -> RgbImage {
        image::imageops::flip_horizontal(&photo(name))
    }

    /// obama2 has his head turned ~17° to his right; its mirror, the same to his left. fr_obama looks
    /// straight with the head ~8° lower.
    fn gaze_frames(corners: [Assertion; 4]) -> Vec<(Assertion, FrameObservation)> {
        let (right, left) = (observe(&photo("fr_obama2.jpg")), observe(&mirrored("fr_obama2.jpg")));
        let frames = [left.clone(), right.clone(), left, right];
        corners.into_iter().zip(frames).collect()
    }

    #[test]
    fn eye_gaze_passes_when_the_head_follows_the_corners_and_fails_otherwise() {
        use Assertion::*;
        let followed = evaluate(
            LivenessType::EyeGazeLiveness,
            &gaze_frames([EyeGazeTopLeft, EyeGazeTopRight, EyeGazeTopLeft, EyeGazeTopRight]),
        );
        assert!(followed.passed(), "{followed:?}");
        let opposite = evaluate(
            LivenessType::EyeGazeLiveness,
            &gaze_frames([EyeGazeTopRight, EyeGazeTopLeft, EyeGazeTopRight, EyeGazeTopLeft]),
        );
        assert!(!opposite.passed() && opposite.error.is_none(), "{opposite:?}");

        // A photo held still in front of the camera never moves.
        let still = observe(&photo("fr_obama2.jpg"));
        let frames: Vec<_> = [EyeGazeTopLeft, EyeGazeTopRight, EyeGazeBottomRight, EyeGazeBottomLeft]
            .into_iter()
            .map(|a| (a, still.clone()))
            .collect();
        let held = evaluate(LivenessType::EyeGazeLiveness, &frames);
        assert!(held.score < 0.1, "{held:?}");

        // Top right to bottom right: the head tilts down.
        let down = [
            (EyeGazeTopRight, observe(&photo("fr_obama2.jpg"))),
            (EyeGazeBottomRight, observe(&photo("fr_obama.jpg"))),
        ];
        assert!(evaluate(LivenessType::EyeGazeLiveness, &down).passed());
        let up = [(EyeGazeBottomRight, down[0].1.clone()), (EyeGazeTopRight, down[1].1.clone())];
        assert!(!evaluate(LivenessType::EyeGazeLiveness, &up).passed());
    }

    #[test]
    fn a_different_person_or_a_missing_face_invalidates_the_frames() {
        use Assertion::*;
        let mut frames = gaze_frames([EyeGazeTopLeft, EyeGazeTopRight, EyeGazeTopLeft, EyeGazeTopRight]);
        frames[2].1 = observe(&photo("fr_biden.jpg"));
        assert_eq!(evaluate(LivenessType::EyeGazeLiveness, &frames).error, Some(EvaluationError::InvalidData));
        frames[2].1 = observe(&RgbImage::from_pixel(640, 480, Rgb([120, 120, 120])));
        assert_eq!(evaluate(LivenessType::EyeGazeLiveness, &frames).error, Some(EvaluationError::InvalidData));
        // No frames of the type asked for.
        assert_eq!(evaluate(LivenessType::SmileLiveness, &frames).error, Some(EvaluationError::NotEnoughData));
    }

    #[test]
    fn smile_needs_a_wider_mouth_than_the_neutral_frames() {
        use Assertion::*;
        // fr_obama smiles broadly; fr_obama2 (and its mirror) much less.
        let (broad, slight, slight_m) =
            (observe(&photo("fr_obama.jpg")), observe(&photo("fr_obama2.jpg")), observe(&mirrored("fr_obama2.jpg")));
        let smiled = evaluate(
            LivenessType::SmileLiveness,
            &[(Neutral, slight.clone()), (Smile, broad.clone()), (Neutral, slight_m.clone())],
        );
        assert!(smiled.passed(), "{smiled:?}");
        let reversed = evaluate(
            LivenessType::SmileLiveness,
            &[(Neutral, broad.clone()), (Smile, slight.clone()), (Neutral, broad)],
        );
        assert!(!reversed.passed(), "{reversed:?}");
        let unchanged = evaluate(LivenessType::SmileLiveness, &[(Neutral, slight.clone()), (Smile, slight.clone())]);
        assert!(!unchanged.passed(), "{unchanged:?}");
        assert_eq!(
            evaluate(LivenessType::SmileLiveness, &[(Smile, slight)]).error,
            Some(EvaluationError::NotEnoughData)
        );
    }

    /// A close-up: the frame is three eye-distances wide around the eyes.
    fn close_up(img: &RgbImage) -> RgbImage {
        let face = subject(img);
        let d = face.eye_distance();
        let c = face.landmarks[0].midpoint(face.landmarks[1]);
        let rect = Rect { x0: c.x - 1.5 * d, x1: c.x + 1.5 * d, y0: c.y - 1.3 * d, y1: c.y + 2.0 * d };
        vouch_vision::geometry::resize_region(img, rect, 600, 660)
    }

    #[test]
    fn magnifeye_needs_a_sharp_close_up_of_open_eyes() {
        let img = photo("fr_obama.jpg");
        let near = close_up(&img);
        let close = evaluate(LivenessType::MagnifeyeLiveness, &[(Assertion::Magnifeye, observe(&near))]);
        assert!(close.passed(), "{close:?}");
        let far = evaluate(LivenessType::MagnifeyeLiveness, &[(Assertion::Magnifeye, observe(&img))]);
        assert!(!far.passed(), "{far:?}");
        let blurred = image::imageops::blur(&near, 6.0);
        let soft = evaluate(LivenessType::MagnifeyeLiveness, &[(Assertion::Magnifeye, observe(&blurred))]);
        assert!(!soft.passed(), "{soft:?}");
    }

    #[test]
    fn passive_type_passes_a_live_photo_and_fails_its_screen_recapture() {
        let img = photo("skimage_astronaut.png");
        let live = evaluate(LivenessType::PassiveLiveness, &[(Assertion::None, observe(&img))]);
        assert!(live.passed(), "{live:?}");
        let screen = evaluate(LivenessType::PassiveLiveness, &[(Assertion::None, observe(&recapture(&img)))]);
        assert!(!screen.passed(), "{screen:?}");
    }
}

fn chip_portrait(name: &str) -> RgbImage {
    let bytes = std::fs::read(vouch_testkit::repo_root().join("testdata/chip").join(name)).unwrap();
    decode(&bytes, ImageLimits::default()).unwrap()
}

#[test]
fn jpeg2000_chip_portraits_decode_and_match_the_holder() {
    let obama = template("fr_obama.jpg");
    let biden = template("fr_biden.jpg");
    for name in ["portrait.jp2", "portrait.j2k", "portrait-gray.jp2"] {
        let img = chip_portrait(name);
        assert_eq!((img.width(), img.height()), (300, 400), "{name}");
        let t = engine().template(&img, &subject(&img)).unwrap();
        let genuine = similarity_score(t.cosine(&obama));
        assert!(genuine > MATCH_SCORE, "{name} vs obama scored {genuine}");
        let impostor = similarity_score(t.cosine(&biden));
        assert!(impostor < MATCH_SCORE, "{name} vs biden scored {impostor}");
    }
    // Limits are checked from the header, before decoding.
    let bytes = std::fs::read(vouch_testkit::repo_root().join("testdata/chip/portrait.jp2")).unwrap();
    let tight = ImageLimits { max_side: 200, ..ImageLimits::default() };
    assert!(matches!(decode(&bytes, tight), Err(VisionError::ImageTooLarge { width: 300, height: 400, .. })));
    // A file cut inside its headers is an error; one cut inside the codestream decodes at lower quality, as
    // JPEG 2000 is meant to; a garbled one is an error or a picture, never a crash.
    for cut in [120, 20] {
        assert!(decode(&bytes[..cut], ImageLimits::default()).is_err(), "cut at {cut}");
    }
    let _ = decode(&bytes[..bytes.len() / 2], ImageLimits::default());
    let mut garbled = bytes.clone();
    for b in garbled.iter_mut().skip(200).step_by(7) {
        *b ^= 0x5A;
    }
    let _ = decode(&garbled, ImageLimits::default());
}

#[test]
fn the_segmentation_keeps_the_person_and_drops_the_background() {
    // On every real photo: the face is the person, the top corners (flags, curtains, a rocket) are background.
    for name in ["fr_obama.jpg", "fr_obama2.jpg", "fr_biden.jpg", "skimage_astronaut.png", "fr_32bit.png"] {
        let img = photo(name);
        let face = subject(&img);
        let mask = engine().segmenter().person_mask(&img).unwrap();
        assert_eq!(mask.dimensions(), img.dimensions());
        let measured = coverage(&mask, face.rect);
        let (person, corners) = (measured.face, measured.top_corners);
        println!("{name}: face {person:.3}, top corners {corners:.3}");
        assert!(person > 0.9, "{name}: the face reads as background ({person:.3})");
        assert!(corners < 0.1, "{name}: the corners read as the person ({corners:.3})");
    }
    // Nobody in a flat grey frame.
    let grey = RgbImage::from_pixel(640, 480, Rgb([128, 128, 128]));
    let mask = engine().segmenter().person_mask(&grey).unwrap();
    let all = mean_in(&mask, Rect { x0: 0.0, y0: 0.0, x1: 640.0, y1: 480.0 });
    println!("grey frame: {all:.3}");
    assert!(all < 0.1, "a grey frame reads as a person ({all:.3})");
    // The cut-out keeps the colours and carries the mask as alpha.
    let img = photo("fr_obama.jpg");
    let cut = engine().segmenter().remove_background(&img).unwrap();
    let (x, y) = (5, 5);
    assert_eq!(&cut.get_pixel(x, y).0[..3], &img.get_pixel(x, y).0);
    assert!(cut.get_pixel(x, y).0[3] < 26, "a corner stays transparent");
}
