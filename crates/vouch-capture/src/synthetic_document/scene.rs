//! A camera's view of a drawn page: a background, the page in perspective, then what a real camera and room do
//! to it (uneven light, glare, defocus, sensor noise, JPEG loss).

use image::{Rgb, RgbImage};
use rand::Rng;
use serde::Serialize;

use super::page::{self, DocumentKind, Holder};
use super::text::Font;
use super::warp::{self, Homography};
use super::SynthError;

/// How the camera sees the page. `Default` is a clean, well-lit, sharp shot; `varied` draws the conditions
/// a kiosk meets, and the named fields force one on purpose (a dark or blurred test page).
#[derive(Debug, Clone, Serialize)]
pub struct SceneOptions {
    pub width: u32,
    pub height: u32,
    /// The page's width as a fraction of the frame's.
    pub fill: f32,
    /// In-plane rotation in degrees.
    pub rotation_deg: f32,
    /// How far each corner strays from the rectangle, as a fraction of the page width (perspective).
    pub perspective: f32,
    /// Gaussian defocus in frame pixels; 0 is sharp.
    pub blur_sigma: f32,
    /// Overall exposure: 1 is normal, 0.25 a dark room, 1.6 overexposed.
    pub exposure: f32,
    /// Strength of a light gradient across the frame, 0 for even light.
    pub uneven_light: f32,
    /// Peak of a specular glare spot on the page, 0 for none, 1 burns to white.
    pub glare: f32,
    /// Sensor noise standard deviation in grey levels.
    pub noise: f32,
    /// JPEG quality the frame goes through; `None` keeps it lossless.
    pub jpeg_quality: Option<u8>,
    /// Draw the page at all; without it the frame holds only the background (no-document tests).
    pub with_document: bool,
}

impl Default for SceneOptions {
    fn default() -> SceneOptions {
        SceneOptions {
            width: 1280,
            height: 720,
            fill: 0.7,
            rotation_deg: 0.0,
            perspective: 0.0,
            blur_sigma: 0.0,
            exposure: 1.0,
            uneven_light: 0.0,
            glare: 0.0,
            noise: 0.0,
            jpeg_quality: None,
            with_document: true,
        }
    }
}

impl SceneOptions {
    /// Conditions a kiosk camera meets on a normal day: the holder's hand not quite square, some defocus,
    /// room light from one side, now and then a glint, compression. Nothing so bad a clerk would accept it.
    pub fn varied(rng: &mut impl Rng) -> SceneOptions {
        SceneOptions {
            fill: rng.gen_range(0.55..0.85),
            rotation_deg: rng.gen_range(-8.0..8.0),
            perspective: rng.gen_range(0.0..0.05),
            blur_sigma: if rng.gen_bool(0.5) { rng.gen_range(0.0..1.2) } else { 0.0 },
            exposure: rng.gen_range(0.8..1.15),
            uneven_light: rng.gen_range(0.0..0.3),
            glare: if rng.gen_bool(0.2) { rng.gen_range(0.1..0.35) } else { 0.0 },
            noise: rng.gen_range(0.0..5.0),
            jpeg_quality: Some(rng.gen_range(70..95)),
            ..SceneOptions::default()
        }
    }
}

/// One synthetic camera frame and its ground truth.
#[derive(Debug, Clone)]
pub struct Synthetic {
    pub image: RgbImage,
    pub kind: DocumentKind,
    pub holder: Holder,
    /// The MRZ lines joined with `\n`, where the page has one.
    pub mrz: Option<String>,
    /// The page's corners in the frame: top-left, top-right, bottom-right, bottom-left of the page as printed.
    /// Empty without a document.
    pub corners: Vec<[f32; 2]>,
    /// The MRZ's corners in the frame, in the same order.
    pub mrz_corners: Vec<[f32; 2]>,
    /// The drawn page before placement, upright, at 8 px/mm.
    pub page: RgbImage,
    /// Each MRZ line on the upright page (`page`'s pixels): first cell's left edge, caps' centre line, pitch.
    pub mrz_lines: Vec<[f32; 3]>,
}

/// Draws a page for a random holder and photographs it as `options` say.
pub fn render(
    font: &Font,
    kind: DocumentKind,
    portrait: Option<&RgbImage>,
    options: &SceneOptions,
    rng: &mut impl Rng,
) -> Result<Synthetic, SynthError> {
    let holder = Holder::random(rng);
    render_for(font, kind, holder, portrait, options, rng)
}

/// Draws `holder`'s page and photographs it as `options` say.
pub fn render_for(
    font: &Font,
    kind: DocumentKind,
    holder: Holder,
    portrait: Option<&RgbImage>,
    options: &SceneOptions,
    rng: &mut impl Rng,
) -> Result<Synthetic, SynthError> {
    let page = page::draw(font, kind, &holder, portrait, rng);
    photograph(&page, holder, options, rng)
}

/// Photographs a drawn page as `options` say. The same rng state gives the same backdrop and placement, so a
/// clip varies only what its options vary.
pub fn photograph(
    page: &page::Page,
    holder: Holder,
    options: &SceneOptions,
    rng: &mut impl Rng,
) -> Result<Synthetic, SynthError> {
    let kind = page.kind;
    let mut frame = backdrop(options.width, options.height, rng);
    let (mut corners, mut mrz_corners) = (Vec::new(), Vec::new());
    if options.with_document {
        let (pw, ph) = (f64::from(page.image.width()), f64::from(page.image.height()));
        let placed = place_corners(options, pw / ph, rng);
        if warp::place(&mut frame, &page.image, placed).is_some() {
            corners = placed.iter().map(|c| [c[0] as f32, c[1] as f32]).collect();
            let rect = [[0.0, 0.0], [pw - 1.0, 0.0], [pw - 1.0, ph - 1.0], [0.0, ph - 1.0]];
            if let (Some(h), Some([x, y, w, hgt])) = (Homography::from_points(rect, placed), page.mrz_box) {
                let (x, y, w, hgt) = (f64::from(x), f64::from(y), f64::from(w), f64::from(hgt));
                mrz_corners = [[x, y], [x + w, y], [x + w, y + hgt], [x, y + hgt]]
                    .iter()
                    .map(|p| {
                        let q = h.apply(*p);
                        [q[0] as f32, q[1] as f32]
                    })
                    .collect();
            }
            if options.glare > 0.0 {
                glare(&mut frame, &placed, options.glare, rng);
            }
        }
    }
    light(&mut frame, options, rng);
    if options.blur_sigma > 0.05 {
        frame = image::imageops::fast_blur(&frame, options.blur_sigma);
    }
    if options.noise > 0.0 {
        noise(&mut frame, options.noise, rng);
    }
    if let Some(quality) = options.jpeg_quality {
        frame = jpeg_round_trip(&frame, quality)?;
    }
    Ok(Synthetic {
        image: frame,
        kind,
        holder,
        mrz: page.mrz.clone(),
        corners,
        mrz_corners,
        page: page.image.clone(),
        mrz_lines: page.mrz_lines.clone(),
    })
}

/// The page's corners: centred with some slack, rotated, each corner nudged for perspective.
fn place_corners(options: &SceneOptions, aspect: f64, rng: &mut impl Rng) -> [[f64; 2]; 4] {
    let (fw, fh) = (f64::from(options.width), f64::from(options.height));
    let mut w = fw * f64::from(options.fill);
    let mut h = w / aspect;
    if h > fh * 0.92 {
        h = fh * 0.92;
        w = h * aspect;
    }
    let (sin, cos) = f64::from(options.rotation_deg).to_radians().sin_cos();
    let jitter = f64::from(options.perspective) * w;
    // Shrink until the rotated, perspective-nudged page fits the frame with a margin.
    let extent = |w: f64, h: f64, jitter: f64| {
        (w * cos.abs() + h * sin.abs() + 2.0 * jitter, w * sin.abs() + h * cos.abs() + 2.0 * jitter)
    };
    let (ex, ey) = extent(w, h, jitter);
    let shrink = (0.94 * fw / ex).min(0.94 * fh / ey).min(1.0);
    let (w, h) = (w * shrink, h * shrink);
    let jitter = jitter * shrink;
    let (ex, ey) = extent(w, h, jitter);
    let slack_x = ((fw - ex) / 2.0 * 0.8).max(0.0);
    let slack_y = ((fh - ey) / 2.0 * 0.8).max(0.0);
    let cx = fw / 2.0 + if slack_x > 0.0 { rng.gen_range(-slack_x..slack_x) } else { 0.0 };
    let cy = fh / 2.0 + if slack_y > 0.0 { rng.gen_range(-slack_y..slack_y) } else { 0.0 };
    [[-w / 2.0, -h / 2.0], [w / 2.0, -h / 2.0], [w / 2.0, h / 2.0], [-w / 2.0, h / 2.0]].map(|[x, y]| {
        let (dx, dy) =
            if jitter > 0.0 { (rng.gen_range(-jitter..jitter), rng.gen_range(-jitter..jitter)) } else { (0.0, 0.0) };
        [cx + x * cos - y * sin + dx, cy + x * sin + y * cos + dy]
    })
}

/// A desk, cloth or counter: a base colour, a soft gradient and one of a few textures.
fn backdrop(width: u32, height: u32, rng: &mut impl Rng) -> RgbImage {
    let base = [rng.gen_range(30..200u8), rng.gen_range(30..190u8), rng.gen_range(30..180u8)];
    let texture = rng.gen_range(0..3u8);
    let (fx, fy) = (rng.gen_range(0.01..0.08f32), rng.gen_range(0.005..0.05f32));
    let mut image = warp::filled(width, height, base);
    for (x, y, pixel) in image.enumerate_pixels_mut() {
        let (xf, yf) = (x as f32, y as f32);
        let shade = match texture {
            // Wood grain.
            0 => 18.0 * (xf * fx + 6.0 * (yf * fy).sin()).sin(),
            // Woven cloth.
            1 => 10.0 * ((xf * 0.9).sin() * (yf * 0.9).sin()),
            // A plain counter with a broad gradient.
            _ => 30.0 * (xf / width as f32 - 0.5),
        };
        *pixel = Rgb(base.map(|c| (f32::from(c) + shade).clamp(0.0, 255.0) as u8));
    }
    image
}

fn light(frame: &mut RgbImage, options: &SceneOptions, rng: &mut impl Rng) {
    let angle = rng.gen_range(0.0..std::f32::consts::TAU);
    let (dx, dy) = (angle.cos(), angle.sin());
    let (w, h) = (frame.width() as f32, frame.height() as f32);
    for (x, y, pixel) in frame.enumerate_pixels_mut() {
        let along = ((x as f32 / w - 0.5) * dx + (y as f32 / h - 0.5) * dy) * 2.0;
        let gain = options.exposure * (1.0 + options.uneven_light * along);
        *pixel = Rgb(pixel.0.map(|c| (f32::from(c) * gain).clamp(0.0, 255.0) as u8));
    }
}

/// A specular highlight: an elongated bright ellipse somewhere on the page.
fn glare(frame: &mut RgbImage, corners: &[[f64; 2]; 4], strength: f32, rng: &mut impl Rng) {
    let (u, v) = (rng.gen_range(0.2..0.8f64), rng.gen_range(0.2..0.8f64));
    let lerp = |a: [f64; 2], b: [f64; 2], t: f64| [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
    let top = lerp(corners[0], corners[1], u);
    let bottom = lerp(corners[3], corners[2], u);
    let [cx, cy] = lerp(top, bottom, v);
    let page_w = (corners[1][0] - corners[0][0]).hypot(corners[1][1] - corners[0][1]);
    let (rx, ry) = (page_w * rng.gen_range(0.08..0.2), page_w * rng.gen_range(0.04..0.1));
    let (sin, cos) = rng.gen_range(0.0..std::f64::consts::PI).sin_cos();
    for (x, y, pixel) in frame.enumerate_pixels_mut() {
        let (px, py) = (f64::from(x) - cx, f64::from(y) - cy);
        let (a, b) = ((px * cos + py * sin) / rx, (-px * sin + py * cos) / ry);
        let d = a * a + b * b;
        if d < 9.0 {
            // A flat burnt core with a soft falloff, as a lamp on laminate looks.
            let t = (strength * 1.6 * (-d / 2.0).exp() as f32).min(1.0);
            *pixel = Rgb(pixel.0.map(|c| (f32::from(c) * (1.0 - t) + 255.0 * t) as u8));
        }
    }
}

fn noise(frame: &mut RgbImage, sigma: f32, rng: &mut impl Rng) {
    for pixel in frame.pixels_mut() {
        // Sum of uniforms: close enough to Gaussian for sensor noise, without another dependency.
        let n: f32 = (0..4).map(|_| rng.gen_range(-1.0..1.0f32)).sum::<f32>() * 0.866 * sigma;
        *pixel = Rgb(pixel.0.map(|c| (f32::from(c) + n).clamp(0.0, 255.0) as u8));
    }
}

pub fn jpeg_round_trip(frame: &RgbImage, quality: u8) -> Result<RgbImage, SynthError> {
    let bytes = encode_jpeg(frame, quality)?;
    image::load_from_memory(&bytes).map(|i| i.to_rgb8()).map_err(|e| SynthError::Encode(e.to_string()))
}

pub fn encode_jpeg(frame: &RgbImage, quality: u8) -> Result<Vec<u8>, SynthError> {
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality)
        .encode_image(frame)
        .map_err(|e| SynthError::Encode(e.to_string()))?;
    Ok(bytes)
}
