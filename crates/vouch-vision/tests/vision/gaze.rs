//! Eye gaze on real photos, and on the same photos with the eyes turned in their sockets: the region around each
//! iris is warped so that the iris moves while the eye corners and the rest of the face stay where they were.

use image::RgbImage;
use vouch_vision::active::{evaluate, Assertion, FrameObservation, LivenessType};
use vouch_vision::gaze::Gaze;
use vouch_vision::geometry::{round_u8, sample, Point};

use super::faces::{engine, photo, subject};

/// Iris moves in eye widths: 0.15 sideways is a turn of about 26° by the eye model (an adult eye turns up to
/// about 35° each way), 0.08 up or down about 13°. The model reads a warped iris's move at a quarter to two
/// fifths of that (the lids it sees do not move with it): the thresholds below are what it measures.
const SIDE: f32 = 0.15;
const UP: f32 = 0.08;

fn gaze(img: &RgbImage) -> Gaze {
    let points = engine().landmarks68(img, &subject(img)).unwrap();
    engine().gaze(img, &points).unwrap()
}

/// Moves each iris by (`dx`, `dy`) eye widths (+: image right, down). The disc of 0.25 eye widths about an iris
/// centre (the iris, radius about 0.2) moves whole; beyond it the pull fades smoothly to nothing at 0.45, before
/// the corners (0.5 away).
fn turn_eyes(img: &RgbImage, dx: f32, dy: f32) -> RgbImage {
    let g = gaze(img);
    let eyes: Vec<(Point, f32, f32, f32)> =
        g.eyes.iter().map(|e| (e.iris_center, e.width(), dx * e.width(), dy * e.width())).collect();
    RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let (px, py) = (x as f32, y as f32);
        let (mut sx, mut sy) = (px, py);
        for &(c, width, shift_x, shift_y) in &eyes {
            let d = Point::new(px, py).distance(c) / width;
            let t = ((0.45 - d) / 0.2).clamp(0.0, 1.0);
            let w = t * t * (3.0 - 2.0 * t);
            sx -= w * shift_x;
            sy -= w * shift_y;
        }
        image::Rgb(sample(img, sx, sy).map(round_u8))
    })
}

#[test]
#[ignore = "writes the turned eyes to target/ for a person to look at"]
fn write_turned_eyes() {
    let img = photo("fr_obama.jpg");
    for (name, dx, dy) in [("straight", 0.0, 0.0), ("left", -SIDE, 0.0), ("right", SIDE, 0.0), ("up", 0.0, -UP)] {
        let out = turn_eyes(&img, dx, dy);
        let g = gaze(&out);
        let [a, b] = [g.eyes[0].corners[0], g.eyes[1].corners[1]];
        let band = vouch_vision::geometry::Rect { x0: a.x - 20.0, x1: b.x + 20.0, y0: a.y - 30.0, y1: a.y + 30.0 };
        let crop =
            vouch_vision::geometry::resize_region(&out, band, 512, (512.0 * band.height() / band.width()) as u32);
        crop.save(vouch_testkit::repo_root().join(format!("target/eyes-{name}.png"))).unwrap();
        println!("{name}: yaw {:.1} pitch {:.1}", g.yaw, g.pitch);
    }
}

#[test]
fn the_iris_model_finds_each_iris_between_its_eye_corners() {
    for name in ["fr_obama.jpg", "fr_obama2.jpg", "fr_biden.jpg", "skimage_astronaut.png"] {
        let g = gaze(&photo(name));
        assert!(g.plausible(), "{name}: {g:?}");
        for eye in &g.eyes {
            let [a, b] = eye.corners;
            assert!(a.x < eye.iris_center.x && eye.iris_center.x < b.x, "{name}: {eye:?}");
            let r = eye.iris_radius / eye.width();
            assert!((0.14..0.3).contains(&r), "{name}: iris radius {r} eye widths");
            assert!(eye.opening() > 0.15, "{name}: open eyes read {}", eye.opening());
        }
    }
    // Mirrored, the eyes look the other way by as much.
    let img = photo("fr_obama2.jpg");
    let (g, m) = (gaze(&img), gaze(&image::imageops::flip_horizontal(&img)));
    assert!(g.yaw > 8.0, "obama2 looks to his right: {g:?}");
    assert!((g.yaw + m.yaw).abs() < 4.0, "{} against mirrored {}", g.yaw, m.yaw);
}

#[test]
fn eyes_turned_in_their_sockets_turn_the_measured_gaze_the_same_way() {
    let img = photo("fr_obama.jpg");
    let straight = gaze(&img);
    let to_image_left = gaze(&turn_eyes(&img, -SIDE, 0.0));
    let to_image_right = gaze(&turn_eyes(&img, SIDE, 0.0));
    // Image left is the subject's right: positive yaw, like the head's.
    assert!(to_image_left.yaw - straight.yaw > 5.0, "{} → {}", straight.yaw, to_image_left.yaw);
    assert!(straight.yaw - to_image_right.yaw > 5.0, "{} → {}", straight.yaw, to_image_right.yaw);
    let up = gaze(&turn_eyes(&img, 0.0, -UP));
    let down = gaze(&turn_eyes(&img, 0.0, UP));
    assert!(up.pitch - straight.pitch > 4.0, "{} → {}", straight.pitch, up.pitch);
    assert!(straight.pitch - down.pitch > 2.5, "{} → {}", straight.pitch, down.pitch);
    // The head did not move: its pose reads the same.
    let face = subject(&img);
    let (head, head_turned) =
        (engine().head_pose(&img, &face).unwrap(), engine().head_pose(&turn_eyes(&img, -0.1, 0.0), &face).unwrap());
    assert!((head.yaw - head_turned.yaw).abs() < 2.0, "{head:?} → {head_turned:?}");
}

fn observe(img: &RgbImage) -> FrameObservation {
    engine().observe(img).unwrap()
}

#[test]
fn eye_gaze_liveness_passes_when_only_the_eyes_follow_the_corners() {
    use Assertion::*;
    let img = photo("fr_obama.jpg");
    // The customer's right (TOP_RIGHT) is image left in the unmirrored frame.
    let (left, right) = (observe(&turn_eyes(&img, SIDE, 0.0)), observe(&turn_eyes(&img, -SIDE, 0.0)));
    assert!(left.eyes.is_some() && right.eyes.is_some(), "{left:?} {right:?}");
    let frames = |corners: [Assertion; 4]| -> Vec<(Assertion, FrameObservation)> {
        corners.into_iter().zip([left.clone(), right.clone(), left.clone(), right.clone()]).collect()
    };
    let followed = evaluate(
        LivenessType::EyeGazeLiveness,
        &frames([EyeGazeTopLeft, EyeGazeTopRight, EyeGazeTopLeft, EyeGazeTopRight]),
    );
    assert!(followed.passed() && followed.challenge > 0.9, "{followed:?}");
    let opposite = evaluate(
        LivenessType::EyeGazeLiveness,
        &frames([EyeGazeTopRight, EyeGazeTopLeft, EyeGazeTopRight, EyeGazeTopLeft]),
    );
    assert!(!opposite.passed(), "{opposite:?}");

    // Judged by the head alone, the same frames show no turn: the eyes are what passed them.
    let blind: Vec<_> = frames([EyeGazeTopLeft, EyeGazeTopRight, EyeGazeTopLeft, EyeGazeTopRight])
        .into_iter()
        .map(|(a, mut o)| {
            o.eyes = Option::None;
            (a, o)
        })
        .collect();
    let head_only = evaluate(LivenessType::EyeGazeLiveness, &blind);
    assert!(!head_only.passed() && head_only.challenge < 0.3, "{head_only:?}");
    assert!(head_only.reason.contains("head alone"), "{}", head_only.reason);
}

fn shared_photo(relative: &str) -> RgbImage {
    let bytes = std::fs::read(vouch_testkit::shared_testdata(relative)).unwrap();
    vouch_vision::decode(&bytes, vouch_vision::ImageLimits::default()).unwrap()
}

#[test]
fn the_quality_eye_gaze_is_high_for_eyes_on_the_camera_and_low_for_eyes_aside() {
    let eye_gaze = |img: &RgbImage| engine().quality(img, &subject(img)).unwrap().eye_gaze;
    // Document portraits look into the camera; these LFW photos (face_dev) look far to one side, eyes only.
    for name in ["documents_dev/fastmrz/mrva.jpg", "documents_dev/fastmrz/td3.jpg"] {
        let q = eye_gaze(&shared_photo(name));
        assert!(q.preconditions_met && q.score > 0.7, "{name}: {q:?}");
    }
    for name in
        ["Ann_Veneman/Ann_Veneman_0001.jpg", "Holly_Hunter/Holly_Hunter_0004.jpg", "Celine_Dion/Celine_Dion_0006.jpg"]
    {
        let q = eye_gaze(&shared_photo(&format!("face_dev/{name}")));
        assert!(q.preconditions_met && q.score < 0.3, "{name}: {q:?}");
    }
    // The same face with its eyes turned aside scores lower.
    let img = photo("fr_obama.jpg");
    let (straight, aside) = (eye_gaze(&img), eye_gaze(&turn_eyes(&img, 0.2, 0.0)));
    assert!(straight.score - aside.score > 0.08, "{straight:?} → {aside:?}");
    // A face rolled onto its side cannot be measured: the preconditions say so.
    let rolled = image::imageops::rotate90(&img);
    let q = engine().quality(&rolled, &subject(&rolled)).unwrap();
    assert!(!q.eye_gaze.preconditions_met, "{q:?}");
}
