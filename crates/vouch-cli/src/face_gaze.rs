//! `vouch faces gaze`: where the eyes look in each photo (iris model), beside the head's pose, so that a person can
//! check the measurement on real faces (`--marks` draws what the model found).

use std::path::{Path, PathBuf};

use anyhow::Context;
use vouch_vision::gaze::Gaze;
use vouch_vision::geometry::Point;
use vouch_vision::image::{Rgb, RgbImage};
use vouch_vision::FaceEngine;

struct Measured {
    head_yaw: f32,
    head_pitch: f32,
    roll: f32,
    gaze: Gaze,
}

impl Measured {
    /// Why the eyes are not measured, as the liveness check and the quality decide it.
    fn not_measured(&self) -> Option<String> {
        if self.roll.abs() > vouch_vision::gaze::MAX_ROLL_DEG {
            return Some(format!("face not upright (rolled {:.0}°)", self.roll));
        }
        self.gaze.implausible().map(str::to_string)
    }
}

fn measure(engine: &FaceEngine, img: &RgbImage) -> anyhow::Result<Option<Measured>> {
    let Some(face) = engine.detect(img)?.subject else { return Ok(None) };
    let pose = engine.head_pose(img, &face)?;
    let points = engine.landmarks68(img, &face)?;
    let gaze = engine.gaze(img, &points)?;
    Ok(Some(Measured { head_yaw: pose.yaw, head_pitch: pose.pitch, roll: face.roll_deg(), gaze }))
}

fn mean_sd(values: &[f32]) -> (f32, f32) {
    let n = values.len().max(1) as f32;
    let mean = values.iter().sum::<f32>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n;
    (mean, var.sqrt())
}

fn correlation(a: &[f32], b: &[f32]) -> f32 {
    let ((ma, sa), (mb, sb)) = (mean_sd(a), mean_sd(b));
    let n = a.len().max(1) as f32;
    let cov = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum::<f32>() / n;
    cov / (sa * sb).max(1e-6)
}

/// Prints each photo's head pose, eye rotation and line of sight, then how they relate over all photos; with
/// `marks`, writes each photo's eye band with the iris (circle), its centre and the eye corners drawn.
pub fn gaze(models: &Path, inputs: &[PathBuf], marks: Option<&Path>, threads: usize) -> anyhow::Result<()> {
    let (engine, _) = crate::faces::load(models, threads)?;
    let files = crate::faces::image_files(inputs)?;
    if let Some(dir) = marks {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    println!(
        "{:<40} {:>9} {:>10} {:>8} {:>9} {:>9} {:>10}",
        "photo", "head yaw", "head pitch", "eye yaw", "eye pitch", "sight yaw", "sight pitch"
    );
    let (mut head_yaw, mut eye_yaw, mut sight_yaw, mut head_pitch, mut eye_pitch) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut implausible = 0;
    for file in &files {
        let Some(img) = crate::faces::read_photo(file) else { continue };
        let Some(m) = measure(&engine, &img)? else { continue };
        if let Some(dir) = marks {
            let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let path = dir.join(format!("{stem}-eyes.png"));
            std::fs::write(&path, vouch_vision::image_io::encode_png(&eye_band_marked(&img, &m.gaze))?)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        let name = file.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        if let Some(why) = m.not_measured() {
            println!("{name:<40} {:>8.1}° {:>9.1}°  eyes not measured: {why}", m.head_yaw, m.head_pitch);
            implausible += 1;
            continue;
        }
        println!(
            "{name:<40} {:>8.1}° {:>9.1}° {:>7.1}° {:>8.1}° {:>8.1}° {:>9.1}°",
            m.head_yaw,
            m.head_pitch,
            m.gaze.yaw,
            m.gaze.pitch,
            m.head_yaw + m.gaze.yaw,
            m.head_pitch + m.gaze.pitch
        );
        head_yaw.push(m.head_yaw);
        eye_yaw.push(m.gaze.yaw);
        sight_yaw.push(m.head_yaw + m.gaze.yaw);
        head_pitch.push(m.head_pitch);
        eye_pitch.push(m.gaze.pitch);
    }
    let n = head_yaw.len();
    let sd = |v: &[f32]| mean_sd(v).1;
    println!();
    println!("{n} faces with measurable eyes in {} files ({implausible} faces without)", files.len());
    if n >= 2 {
        println!(
            "  spread (sd) of yaw: head {:.1}°, eyes {:.1}°, line of sight {:.1}°",
            sd(&head_yaw),
            sd(&eye_yaw),
            sd(&sight_yaw)
        );
        println!(
            "  correlation of eye with head rotation: yaw {:+.2}, pitch {:+.2}",
            correlation(&head_yaw, &eye_yaw),
            correlation(&head_pitch, &eye_pitch)
        );
        let (mean_yaw, _) = mean_sd(&eye_yaw);
        let (mean_pitch, sd_pitch) = mean_sd(&eye_pitch);
        println!("  eyes: yaw mean {mean_yaw:+.1}°, pitch mean {mean_pitch:+.1}° (sd {sd_pitch:.1}°)");
    }
    Ok(())
}

/// The band across both eyes, scaled to 512 px wide, with the irises, their centres and the eye corners drawn.
fn eye_band_marked(img: &RgbImage, gaze: &Gaze) -> RgbImage {
    let [right, left] = &gaze.eyes;
    let width = right.corners[0].distance(left.corners[1]).max(8.0);
    let (x0, x1) = (right.corners[0].x - 0.25 * width, left.corners[1].x + 0.25 * width);
    let cy = (right.iris_center.y + left.iris_center.y) / 2.0;
    let (y0, y1) = (cy - 0.2 * width, cy + 0.2 * width);
    let scale = 512.0 / (x1 - x0).max(1.0);
    let (w, h) = (512u32, ((y1 - y0) * scale).round().max(8.0) as u32);
    let mut out = RgbImage::from_fn(w, h, |x, y| {
        let v = vouch_vision::geometry::sample(img, x0 + x as f32 / scale, y0 + y as f32 / scale);
        Rgb(v.map(vouch_vision::geometry::round_u8))
    });
    let to_band = |p: Point| Point::new((p.x - x0) * scale, (p.y - y0) * scale);
    for eye in &gaze.eyes {
        let centre = to_band(eye.iris_center);
        let r = eye.iris_radius * scale;
        for k in 0..180 {
            let t = k as f32 / 180.0 * std::f32::consts::TAU;
            dot(&mut out, Point::new(centre.x + r * t.cos(), centre.y + r * t.sin()), [0, 255, 0]);
        }
        cross(&mut out, centre, [255, 0, 0]);
        for corner in eye.corners {
            cross(&mut out, to_band(corner), [255, 255, 0]);
        }
    }
    out
}

fn dot(img: &mut RgbImage, p: Point, colour: [u8; 3]) {
    if p.x >= 0.0 && p.y >= 0.0 && (p.x as u32) < img.width() && (p.y as u32) < img.height() {
        img.put_pixel(p.x as u32, p.y as u32, Rgb(colour));
    }
}

fn cross(img: &mut RgbImage, p: Point, colour: [u8; 3]) {
    for d in -4..=4 {
        let d = d as f32;
        dot(img, Point::new(p.x + d, p.y), colour);
        dot(img, Point::new(p.x, p.y + d), colour);
    }
}
