//! Finding the page in a frame: colour edges on a downscaled copy, a Hough transform voted along each edge's
//! own direction, the best-supported quadrilateral of two near-parallel pairs of lines, then each side refitted
//! on the full-resolution frame to sub-pixel edge points. Classical on purpose: it needs no model, runs in a
//! few milliseconds on two cores, and its failure is a plain "no quadrilateral had its four sides on edges".

use image::RgbImage;

/// The working copy's long side: coarse enough to drown print and fabric texture, fine enough that a
/// document filling a fifth of the frame still has sides tens of pixels long.
const WORK_LONG_SIDE: u32 = 400;
/// A working-pixel Sobel response below this is texture or noise (a 1-level step gives 4).
const EDGE_MIN: f32 = 36.0;
/// Votes saturate here, so one high-contrast border does not drown a faint one.
const EDGE_FULL: f32 = 160.0;
const ANGLE_BINS: usize = 180;
/// Each edge pixel votes for its own direction ±this many degrees.
const VOTE_SPREAD: i32 = 2;
const MAX_LINES: usize = 32;
/// Shape limits: ID-1 is 1.586, ID-2 and ID-3 1.42; perspective stretches either way.
const ASPECT_RANGE: (f32, f32) = (1.15, 1.95);
/// Each side must lie on edges for at least this share of its length.
const MIN_SIDE_SUPPORT: f32 = 0.5;
/// ... and for at least this share of the stretch next to each corner.
const MIN_END_SUPPORT: f32 = 0.3;
/// Corners may fall this far outside the frame (a fraction of its size) and still make a page.
const OUTSIDE_SLACK: f32 = 0.12;

/// A page's four corners in frame pixels, clockwise from the top-left of the page as the frame shows it: the
/// first side is a long side, so the page reads landscape (upright or upside down; orientation decides).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageQuad {
    pub corners: [[f32; 2]; 4],
    /// The share of the perimeter found on edges at full resolution, 0..1.
    pub confidence: f32,
}

impl PageQuad {
    /// The mean of the two long sides and of the two short sides, in frame pixels.
    pub fn side_lengths(&self) -> (f32, f32) {
        let side = |i: usize| {
            let a = self.corners.get(i).copied().unwrap_or_default();
            let b = self.corners.get((i + 1) % 4).copied().unwrap_or_default();
            (a[0] - b[0]).hypot(a[1] - b[1])
        };
        ((side(0) + side(2)) / 2.0, (side(1) + side(3)) / 2.0)
    }

    /// Mean long side over mean short side: the page's apparent aspect.
    pub fn aspect(&self) -> f32 {
        let (long, short) = self.side_lengths();
        if short > 0.0 {
            long / short
        } else {
            0.0
        }
    }

    pub fn area(&self) -> f32 {
        shoelace(&self.corners).abs()
    }

    /// The same page turned half a turn: the corner order for a page seen upside down.
    pub fn rotated_half(&self) -> PageQuad {
        let [a, b, c, d] = self.corners;
        PageQuad { corners: [c, d, a, b], confidence: self.confidence }
    }

    pub fn out_of_image(&self, width: u32, height: u32) -> bool {
        self.corners.iter().any(|&[x, y]| x < 0.0 || y < 0.0 || x > width as f32 - 1.0 || y > height as f32 - 1.0)
    }
}

/// The frame downscaled by an integer factor, each colour channel its own plane.
struct Planes {
    width: usize,
    height: usize,
    factor: u32,
    channels: [Vec<f32>; 3],
}

impl Planes {
    fn downscale(frame: &RgbImage) -> Planes {
        let factor = frame.width().max(frame.height()).div_ceil(WORK_LONG_SIDE).max(1);
        let (width, height) = ((frame.width() / factor) as usize, (frame.height() / factor) as usize);
        let mut channels = [vec![0f32; width * height], vec![0f32; width * height], vec![0f32; width * height]];
        for (x, y, pixel) in frame.enumerate_pixels() {
            let (wx, wy) = ((x / factor) as usize, (y / factor) as usize);
            if wx < width && wy < height {
                for (plane, value) in channels.iter_mut().zip(pixel.0) {
                    if let Some(cell) = plane.get_mut(wy * width + wx) {
                        *cell += f32::from(value);
                    }
                }
            }
        }
        let area = (factor * factor) as f32;
        for plane in &mut channels {
            plane.iter_mut().for_each(|v| *v /= area);
        }
        Planes { width, height, factor, channels }
    }
}

/// Per working pixel: the strongest channel's Sobel gradient.
struct Gradients {
    width: usize,
    height: usize,
    gx: Vec<f32>,
    gy: Vec<f32>,
}

impl Gradients {
    // Every index is an interior pixel of planes the loops' bounds were taken from.
    #[allow(clippy::indexing_slicing)]
    fn of(planes: &Planes) -> Gradients {
        let (w, h) = (planes.width, planes.height);
        let (mut gx, mut gy) = (vec![0f32; w * h], vec![0f32; w * h]);
        for y in 1..h.saturating_sub(1) {
            for x in 1..w.saturating_sub(1) {
                let mut best = (0.0f32, 0.0f32, 0.0f32);
                for p in &planes.channels {
                    let at = |dx: usize, dy: usize| p[(y + dy - 1) * w + x + dx - 1];
                    let sx = at(2, 0) + 2.0 * at(2, 1) + at(2, 2) - at(0, 0) - 2.0 * at(0, 1) - at(0, 2);
                    let sy = at(0, 2) + 2.0 * at(1, 2) + at(2, 2) - at(0, 0) - 2.0 * at(1, 0) - at(2, 0);
                    let m = sx * sx + sy * sy;
                    if m > best.2 {
                        best = (sx, sy, m);
                    }
                }
                gx[y * w + x] = best.0;
                gy[y * w + x] = best.1;
            }
        }
        Gradients { width: w, height: h, gx, gy }
    }

    fn at(&self, x: i64, y: i64) -> (f32, f32) {
        if x < 0 || y < 0 || x >= self.width as i64 || y >= self.height as i64 {
            return (0.0, 0.0);
        }
        let i = y as usize * self.width + x as usize;
        (self.gx.get(i).copied().unwrap_or(0.0), self.gy.get(i).copied().unwrap_or(0.0))
    }
}

/// A line `x cos θ + y sin θ = ρ` in working pixels.
#[derive(Debug, Clone, Copy)]
struct Line {
    theta_deg: f32,
    rho: f32,
}

impl Line {
    fn intersect(&self, other: &Line) -> Option<[f32; 2]> {
        let (s1, c1) = self.theta_deg.to_radians().sin_cos();
        let (s2, c2) = other.theta_deg.to_radians().sin_cos();
        let det = c1 * s2 - s1 * c2;
        if det.abs() < 1e-3 {
            return None;
        }
        Some([(self.rho * s2 - other.rho * s1) / det, (c1 * other.rho - c2 * self.rho) / det])
    }
}

/// The smallest angle between two undirected line directions, in degrees (0..90).
fn angle_between(a: f32, b: f32) -> f32 {
    let d = (a - b).rem_euclid(180.0);
    d.min(180.0 - d)
}

fn hough(gradients: &Gradients) -> Vec<Line> {
    let (w, h) = (gradients.width as f32, gradients.height as f32);
    let max_rho = w.hypot(h).ceil() as i64;
    let rho_bins = (2 * max_rho + 1) as usize;
    let mut acc = vec![0f32; ANGLE_BINS * rho_bins];
    let table: Vec<(f32, f32)> = (0..ANGLE_BINS).map(|t| (t as f32).to_radians().sin_cos()).collect();
    for y in 1..gradients.height.saturating_sub(1) {
        for x in 1..gradients.width.saturating_sub(1) {
            let (gx, gy) = gradients.at(x as i64, y as i64);
            let magnitude = gx.hypot(gy);
            if magnitude < EDGE_MIN {
                continue;
            }
            let weight = (magnitude / EDGE_FULL).min(1.0);
            let normal = gy.atan2(gx).to_degrees().rem_euclid(180.0).round() as i32;
            for d in -VOTE_SPREAD..=VOTE_SPREAD {
                let t = (normal + d).rem_euclid(ANGLE_BINS as i32) as usize;
                if let Some(&(sin, cos)) = table.get(t) {
                    let rho = (x as f32 * cos + y as f32 * sin).round() as i64 + max_rho;
                    if let Some(cell) = acc.get_mut(t * rho_bins + rho as usize) {
                        *cell += weight;
                    }
                }
            }
        }
    }
    // Peaks, strongest first, none within a few degrees and pixels of a stronger one.
    let min_votes = 0.15 * w.min(h);
    let mut order: Vec<usize> = (0..acc.len()).filter(|&i| acc.get(i).copied().unwrap_or(0.0) >= min_votes).collect();
    order.sort_by(|&a, &b| acc.get(b).unwrap_or(&0.0).total_cmp(acc.get(a).unwrap_or(&0.0)));
    let mut lines: Vec<Line> = Vec::new();
    for i in order {
        let line = Line { theta_deg: (i / rho_bins) as f32, rho: (i % rho_bins) as f32 - max_rho as f32 };
        let near = lines.iter().any(|l| {
            let dt = (l.theta_deg - line.theta_deg).abs();
            // Near 0° and 180° the same line has the opposite ρ.
            (dt <= 3.0 && (l.rho - line.rho).abs() <= 4.0) || (dt >= 177.0 && (l.rho + line.rho).abs() <= 4.0)
        });
        if !near {
            lines.push(line);
            if lines.len() == MAX_LINES {
                break;
            }
        }
    }
    lines
}

fn shoelace(points: &[[f32; 2]; 4]) -> f32 {
    let mut sum = 0.0;
    for (i, p) in points.iter().enumerate() {
        let q = points.get((i + 1) % 4).copied().unwrap_or(*p);
        sum += p[0] * q[1] - q[0] * p[1];
    }
    sum / 2.0
}

/// Clockwise (on screen, y down), the first side a long side, and of the two long sides the higher one first.
fn canonical_order(corners: [[f32; 2]; 4]) -> [[f32; 2]; 4] {
    let mut c = corners;
    if shoelace(&c) < 0.0 {
        c.reverse();
    }
    let len = |a: [f32; 2], b: [f32; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
    let [a, b, d, e] = c;
    if len(a, b) + len(d, e) < len(b, d) + len(e, a) {
        c.rotate_left(1);
    }
    let [a, b, d, e] = c;
    if (d[1] + e[1]) < (a[1] + b[1]) {
        c.rotate_left(2);
    }
    c
}

/// How much of the segment from `a` to `b` lies on an edge running its way: over its whole length, and over
/// the stretch of `END` of it at each end. A page's sides run right into its corners; a quadrilateral that
/// borrowed a background line for one side has a side that runs on past the page's corner, unsupported.
struct Support {
    whole: f32,
    ends: f32,
}

const END: f32 = 0.12;

fn side_support(gradients: &Gradients, a: [f32; 2], b: [f32; 2]) -> Support {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let length = dx.hypot(dy);
    if length < 2.0 {
        return Support { whole: 0.0, ends: 0.0 };
    }
    let (nx, ny) = (-dy / length, dx / length);
    let steps = length as usize;
    let (mut hits, mut first, mut last, mut end_steps) = (0usize, 0usize, 0usize, 0usize);
    for s in 0..steps {
        let t = (s as f32 + 0.5) / steps as f32;
        let (x, y) = (a[0] + dx * t, a[1] + dy * t);
        let on_edge = [-1.0f32, 0.0, 1.0].iter().any(|o| {
            let (gx, gy) = gradients.at((x + nx * o).round() as i64, (y + ny * o).round() as i64);
            let m = gx.hypot(gy);
            // The gradient must point across the side, within about 25°.
            m >= EDGE_MIN * 0.6 && (gx * nx + gy * ny).abs() >= 0.9 * m
        });
        if t < END {
            end_steps += 1;
        }
        if on_edge {
            hits += 1;
            if t < END {
                first += 1;
            } else if t > 1.0 - END {
                last += 1;
            }
        }
    }
    let end_steps = end_steps.max(1) as f32;
    Support { whole: hits as f32 / steps as f32, ends: (first as f32 / end_steps).min(last as f32 / end_steps) }
}

/// The mean colour step across the segment from `a` to `b`: the largest channel difference between points a
/// few pixels either side. A page's edge is a step from paper to background all along; a stripe of wood
/// grain or fabric that happens to run parallel to it is a small step, or none.
fn step_across(planes: &Planes, a: [f32; 2], b: [f32; 2]) -> f32 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let length = dx.hypot(dy);
    if length < 2.0 {
        return 0.0;
    }
    let (nx, ny) = (-dy / length * 2.5, dx / length * 2.5);
    let at = |plane: &Vec<f32>, x: f32, y: f32| {
        let (x, y) = (x.round(), y.round());
        if x < 0.0 || y < 0.0 || x >= planes.width as f32 || y >= planes.height as f32 {
            return None;
        }
        plane.get(y as usize * planes.width + x as usize).copied()
    };
    let samples = 24;
    let (mut sum, mut n) = (0.0, 0usize);
    for i in 0..samples {
        let t = (i as f32 + 0.5) / samples as f32;
        let (x, y) = (a[0] + dx * t, a[1] + dy * t);
        let step = planes
            .channels
            .iter()
            .filter_map(|p| Some((at(p, x + nx, y + ny)? - at(p, x - nx, y - ny)?).abs()))
            .fold(None, |m: Option<f32>, v| Some(m.map_or(v, |m| m.max(v))));
        if let Some(step) = step {
            sum += step;
            n += 1;
        }
    }
    if n == 0 {
        0.0
    } else {
        sum / n as f32
    }
}

/// The best-supported page-shaped quadrilateral on the working copy: the most perimeter on edges, each
/// side weighted by the colour step across it.
fn best_quad(lines: &[Line], gradients: &Gradients, planes: &Planes) -> Option<([[f32; 2]; 4], f32)> {
    let (w, h) = (gradients.width as f32, gradients.height as f32);
    let min_gap = 0.15 * w.min(h);
    let pairs: Vec<(Line, Line)> = lines
        .iter()
        .enumerate()
        .flat_map(|(i, a)| lines.iter().skip(i + 1).map(move |b| (*a, *b)))
        .filter(|(a, b)| {
            angle_between(a.theta_deg, b.theta_deg) <= 20.0 && {
                // The distance between near-parallel lines, measured at the frame centre.
                let centre = |l: &Line| {
                    let (s, c) = l.theta_deg.to_radians().sin_cos();
                    l.rho - (w / 2.0 * c + h / 2.0 * s)
                };
                let same = (a.theta_deg - b.theta_deg).abs() < 90.0;
                let gap = if same { centre(a) - centre(b) } else { centre(a) + centre(b) };
                gap.abs() >= min_gap
            }
        })
        .collect();
    let slack = OUTSIDE_SLACK * w.max(h);
    let mut best: Option<([[f32; 2]; 4], f32)> = None;
    for (i, (a1, a2)) in pairs.iter().enumerate() {
        for (b1, b2) in pairs.iter().skip(i + 1) {
            let cross = angle_between(a1.theta_deg, b1.theta_deg);
            if cross < 55.0 {
                continue;
            }
            let (Some(p0), Some(p1), Some(p2), Some(p3)) =
                (a1.intersect(b1), b1.intersect(a2), a2.intersect(b2), b2.intersect(a1))
            else {
                continue;
            };
            let corners = canonical_order([p0, p1, p2, p3]);
            if corners.iter().any(|&[x, y]| x < -slack || y < -slack || x > w + slack || y > h + slack) {
                continue;
            }
            let quad = PageQuad { corners, confidence: 0.0 };
            let aspect = quad.aspect();
            if !(ASPECT_RANGE.0..=ASPECT_RANGE.1).contains(&aspect) || quad.area() < 0.04 * w * h {
                continue;
            }
            let mut supported = 0.0;
            let mut weakest = 1.0f32;
            for s in 0..4 {
                let a = corners.get(s).copied().unwrap_or_default();
                let b = corners.get((s + 1) % 4).copied().unwrap_or_default();
                let support = side_support(gradients, a, b);
                // Rounded ID-1 corners leave part of each end bare; a borrowed line leaves all of one.
                weakest = weakest.min(if support.ends >= MIN_END_SUPPORT { support.whole } else { 0.0 });
                supported += support.whole * step_across(planes, a, b) * (a[0] - b[0]).hypot(a[1] - b[1]);
            }
            if weakest >= MIN_SIDE_SUPPORT && best.is_none_or(|(_, score)| supported > score) {
                best = Some((corners, supported));
            }
        }
    }
    best
}

/// One channel of the frame, sampled bilinearly; 0 outside.
fn channel_at(frame: &RgbImage, channel: usize, x: f32, y: f32) -> Option<f32> {
    let (w, h) = (frame.width() as f32, frame.height() as f32);
    if x < 0.0 || y < 0.0 || x > w - 1.0 || y > h - 1.0 {
        return None;
    }
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(frame.width() - 1), (y0 + 1).min(frame.height() - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let p = |x, y| frame.get_pixel(x, y).0.get(channel).copied().map_or(0.0, f32::from);
    let top = p(x0, y0) + (p(x1, y0) - p(x0, y0)) * fx;
    let bottom = p(x0, y1) + (p(x1, y1) - p(x0, y1)) * fx;
    Some(top + (bottom - top) * fy)
}

/// A line as a point on it and its unit direction.
type FittedLine = ([f32; 2], [f32; 2]);

/// A line through points by total least squares.
fn fit_line(points: &[[f32; 2]]) -> Option<FittedLine> {
    if points.len() < 2 {
        return None;
    }
    let n = points.len() as f32;
    let (mx, my) = points.iter().fold((0.0, 0.0), |(sx, sy), p| (sx + p[0], sy + p[1]));
    let (mx, my) = (mx / n, my / n);
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for p in points {
        let (dx, dy) = (p[0] - mx, p[1] - my);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    let angle = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    Some(([mx, my], [angle.cos(), angle.sin()]))
}

fn intersect_lines(a: FittedLine, b: FittedLine) -> Option<[f32; 2]> {
    let ((p, d), (q, e)) = (a, b);
    let det = d[0] * e[1] - d[1] * e[0];
    if det.abs() < 1e-4 {
        return None;
    }
    let t = ((q[0] - p[0]) * e[1] - (q[1] - p[1]) * e[0]) / det;
    Some([p[0] + d[0] * t, p[1] + d[1] * t])
}

/// Refits one side at full resolution: along the side, the strongest step across it in the channel where
/// page and background differ most, to a fraction of a pixel; outliers (a finger, a glint) dropped.
fn refine_side(frame: &RgbImage, a: [f32; 2], b: [f32; 2], reach: f32) -> Option<(FittedLine, f32)> {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let length = dx.hypot(dy);
    if length < 8.0 {
        return None;
    }
    let (nx, ny) = (-dy / length, dx / length);
    let along = |t: f32| [a[0] + dx * t, a[1] + dy * t];
    // The channel with the largest difference across the side.
    let contrast = |c: usize| {
        (0..16)
            .filter_map(|i| {
                let [x, y] = along(0.1 + 0.8 * i as f32 / 15.0);
                let inside = channel_at(frame, c, x + nx * reach, y + ny * reach)?;
                let outside = channel_at(frame, c, x - nx * reach, y - ny * reach)?;
                Some(inside - outside)
            })
            .sum::<f32>()
    };
    let contrasts = [contrast(0), contrast(1), contrast(2)];
    let (channel, difference) = contrasts.into_iter().enumerate().max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))?;
    // Only steps the way the page differs from its background count: a background stripe's far edge does not.
    let polarity = difference.signum();
    let samples = 48;
    let step = 0.5f32;
    let half = (reach / step).ceil() as i32;
    let mut points = Vec::with_capacity(samples);
    for i in 0..samples {
        let [x, y] = along(0.06 + 0.88 * i as f32 / (samples - 1) as f32);
        let profile: Vec<Option<f32>> = (-half - 2..=half + 2)
            .map(|k| channel_at(frame, channel, x + nx * k as f32 * step, y + ny * k as f32 * step))
            .collect();
        // The step across two pixels, so a defocused edge still stands out of the noise.
        let d_at = |j: usize| match (profile.get(j.wrapping_sub(2)), profile.get(j + 2)) {
            (Some(Some(b)), Some(Some(a))) => Some((a - b) * polarity),
            _ => None,
        };
        let mut best: Option<(usize, f32)> = None;
        for j in 2..profile.len().saturating_sub(2) {
            if let Some(d) = d_at(j) {
                if best.is_none_or(|(_, v)| d > v) {
                    best = Some((j, d));
                }
            }
        }
        let Some((j, peak)) = best else { continue };
        if peak < 8.0 {
            continue;
        }
        // Parabola through the step's peak and its neighbours for the sub-step position.
        let offset = match (d_at(j.wrapping_sub(1)), d_at(j + 1)) {
            (Some(l), Some(r)) if (l - 2.0 * peak + r).abs() > 1e-3 => {
                (0.5 * (l - r) / (l - 2.0 * peak + r)).clamp(-0.5, 0.5)
            }
            _ => 0.0,
        };
        let k = (j as f32 + offset) - (half + 2) as f32;
        points.push([x + nx * k * step, y + ny * k * step]);
    }
    let mut line = fit_line(&points)?;
    let residual = |line: &FittedLine, p: &[f32; 2]| {
        let ((px, py), (ux, uy)) = ((line.0[0], line.0[1]), (line.1[0], line.1[1]));
        ((p[0] - px) * uy - (p[1] - py) * ux).abs()
    };
    for tolerance in [3.0, 1.5] {
        let kept: Vec<[f32; 2]> = points.iter().copied().filter(|p| residual(&line, p) <= tolerance).collect();
        if kept.len() >= samples / 3 {
            line = fit_line(&kept)?;
            points = kept;
        }
    }
    Some((line, points.len() as f32 / samples as f32))
}

/// The page in `frame`, or `None` when no quadrilateral of a document's shape has its four sides on edges.
pub fn locate_page(frame: &RgbImage) -> Option<PageQuad> {
    let planes = Planes::downscale(frame);
    if planes.width < 16 || planes.height < 16 {
        return None;
    }
    let gradients = Gradients::of(&planes);
    let lines = hough(&gradients);
    let (coarse, _) = best_quad(&lines, &gradients, &planes)?;
    let factor = planes.factor as f32;
    // Working pixel centres sit at factor/2 - 0.5 in frame pixels.
    let full: Vec<[f32; 2]> =
        coarse.iter().map(|&[x, y]| [(x + 0.5) * factor - 0.5, (y + 0.5) * factor - 0.5]).collect();
    // Twice: from the coarse quadrilateral with a wide search, then from that fit with a narrow one.
    let mut corners = [[0f32; 2]; 4];
    for (i, c) in corners.iter_mut().enumerate() {
        *c = full.get(i).copied()?;
    }
    let mut found = 0.0;
    for reach in [3.0 * factor + 2.0, factor + 2.0] {
        let mut sides = Vec::with_capacity(4);
        found = 0.0;
        for i in 0..4 {
            let a = corners.get(i).copied()?;
            let b = corners.get((i + 1) % 4).copied()?;
            let side = refine_side(frame, a, b, reach);
            found += side.map_or(0.0, |(_, share)| share / 4.0);
            sides.push(side.map(|(line, _)| line));
        }
        // A side with too few edge points to fit keeps the coarser corners.
        let refined: Option<Vec<[f32; 2]>> =
            (0..4).map(|i| intersect_lines((*sides.get((i + 3) % 4)?)?, (*sides.get(i)?)?)).collect();
        let Some(refined) = refined else { break };
        // A refit that moved a corner far from the coarse one latched onto something else.
        if refined.iter().zip(&full).any(|(r, c)| (r[0] - c[0]).hypot(r[1] - c[1]) > 4.0 * factor) {
            break;
        }
        for (corner, r) in corners.iter_mut().zip(refined) {
            *corner = r;
        }
    }
    Some(PageQuad { corners, confidence: found })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corners_come_out_clockwise_from_the_top_left_of_a_landscape_page() {
        // Given anticlockwise, starting at the bottom right.
        let order = canonical_order([[300.0, 200.0], [300.0, 20.0], [10.0, 20.0], [10.0, 200.0]]);
        assert_eq!(order, [[10.0, 20.0], [300.0, 20.0], [300.0, 200.0], [10.0, 200.0]]);
        // A page held upright (long sides vertical) still comes out with a long side first.
        let tall = canonical_order([[10.0, 10.0], [110.0, 10.0], [110.0, 170.0], [10.0, 170.0]]);
        let quad = PageQuad { corners: tall, confidence: 1.0 };
        assert!(quad.aspect() > 1.5, "{tall:?}");
    }

    #[test]
    fn a_blank_frame_has_no_page() {
        let frame = RgbImage::from_pixel(640, 480, image::Rgb([120, 110, 100]));
        assert!(locate_page(&frame).is_none());
    }
}
