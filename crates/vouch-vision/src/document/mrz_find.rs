//! Finding the MRZ without the page: in a flat scan with no page edges, a crop of the MRZ band, or a photo
//! whose corners are cut off, the MRZ itself is the landmark. On a reduced copy of the frame, ink is smeared
//! along rows (and, for a frame turned a quarter, along columns) so each line of print becomes one long thin
//! blob; an MRZ is two or three such blobs, parallel, as long as each other, starting together, a line apart.
//! Each candidate comes back as the rectangle around its lines, to be flattened and read both ways up: the
//! check digits, not this finder, decide which reading (if any) is an MRZ.

use super::locate::PageQuad;
use super::mrz_zone::InkMap;
use crate::mrz::GreyFrame;

/// The reduced copy's longest side at most.
const WORK_SIDE: usize = 960;
/// A line of print at least this many times longer than thick (an MRZ line is about 30 to 40 times).
const MIN_ELONGATION: f32 = 10.0;
/// Lines of one MRZ lie within this many degrees of each other.
const MAX_ANGLE_DIFFERENCE: f32 = 3.0;
/// A region reaches this share of its longest line beyond each end of it.
pub const MARGIN: f32 = 0.15;
/// How far from the reduced frame's axes a line may be turned, in degrees.
const MAX_TILT: f32 = 25.0;

/// An MRZ as found: the rectangle around its lines in frame pixels, corners clockwise from the top-left as the
/// text reads one way (the other way is [`PageQuad::rotated_half`]), and how many lines it has.
#[derive(Debug, Clone, Copy)]
pub struct MrzRegion {
    pub quad: PageQuad,
    pub lines: usize,
    /// The longest line's length in frame pixels.
    pub line_length: f32,
}

/// One line of print, in reduced-frame pixels.
#[derive(Debug, Clone, Copy)]
struct Segment {
    centre: [f32; 2],
    /// Unit vector along the line.
    along: [f32; 2],
    length: f32,
    thickness: f32,
}

fn dot(a: [f32; 2], b: [f32; 2]) -> f32 {
    a[0] * b[0] + a[1] * b[1]
}

/// The frame averaged over `factor`² blocks.
fn reduce(frame: &GreyFrame, factor: usize) -> GreyFrame {
    if factor <= 1 {
        let data = (0..frame.height()).flat_map(|y| (0..frame.width()).map(move |x| (x, y)));
        return GreyFrame::from_luma(frame.width(), frame.height(), data.map(|(x, y)| frame.pixel(x, y)).collect());
    }
    let (w, h) = (frame.width() / factor, frame.height() / factor);
    let mut data = Vec::with_capacity(w * h);
    let n = (factor * factor) as f32;
    for y in 0..h {
        for x in 0..w {
            let mut sum = 0.0;
            for dy in 0..factor {
                for dx in 0..factor {
                    sum += frame.pixel(x * factor + dx, y * factor + dy);
                }
            }
            data.push(sum / n);
        }
    }
    GreyFrame::from_luma(w, h, data)
}

/// Ink smeared along rows (or columns, `transposed`) across gaps up to `gap`, as a mask over the (possibly
/// transposed) frame, with its width and height. Runs of ink longer than `rule` are left out first: no
/// character is that wide, but the ruled line of a card's frame is, and it would join the MRZ line under it.
fn smear(ink: &InkMap, transposed: bool, gap: usize, rule: usize) -> (Vec<bool>, usize, usize) {
    let (w, h) = if transposed { (ink.height, ink.width) } else { (ink.width, ink.height) };
    let at = |x: usize, y: usize| if transposed { ink.at(y, x) } else { ink.at(x, y) };
    let mut mask = vec![false; w * h];
    let mut row = vec![false; w];
    for y in 0..h {
        for (x, cell) in row.iter_mut().enumerate() {
            *cell = at(x, y);
        }
        let mut x = 0;
        while x < w {
            let start = x;
            while x < w && row.get(x).copied().unwrap_or(false) {
                x += 1;
            }
            if x - start > rule {
                for cell in row.iter_mut().take(x).skip(start) {
                    *cell = false;
                }
            }
            x += 1;
        }
        let mut last_ink: Option<usize> = None;
        for x in 0..w {
            if !row.get(x).copied().unwrap_or(false) {
                continue;
            }
            let from = match last_ink {
                Some(prev) if x - prev <= gap => prev,
                _ => x,
            };
            for cell in mask.iter_mut().skip(y * w + from).take(x - from + 1) {
                *cell = true;
            }
            last_ink = Some(x);
        }
    }
    (mask, w, h)
}

/// The long thin blobs of `mask`, as segments in the frame's own (untransposed) coordinates.
fn segments(mask: &[bool], w: usize, h: usize, transposed: bool, min_length: f32) -> Vec<Segment> {
    let mut seen = vec![false; w * h];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    let mut pixels: Vec<[f32; 2]> = Vec::new();
    for start in 0..w * h {
        if seen.get(start).copied().unwrap_or(true) || !mask.get(start).copied().unwrap_or(false) {
            continue;
        }
        pixels.clear();
        stack.push(start);
        if let Some(s) = seen.get_mut(start) {
            *s = true;
        }
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            pixels.push([x as f32, y as f32]);
            let neighbours = [
                (x > 0).then(|| i - 1),
                (x + 1 < w).then_some(i + 1),
                (y > 0).then(|| i - w),
                (y + 1 < h).then_some(i + w),
            ];
            for j in neighbours.into_iter().flatten() {
                if mask.get(j).copied().unwrap_or(false) && !seen.get(j).copied().unwrap_or(true) {
                    if let Some(s) = seen.get_mut(j) {
                        *s = true;
                    }
                    stack.push(j);
                }
            }
        }
        if (pixels.len() as f32) < min_length / 2.0 {
            continue;
        }
        // Short pieces too: a line's fillers may have broken it.
        if let Some(segment) = segment_of(&pixels, transposed) {
            if segment.length >= min_length / 4.0 && segment.length >= 3.0 * segment.thickness {
                out.push(segment);
            }
        }
    }
    out
}

/// A blob's centre, direction, length and thickness from its pixels' moments and extent.
fn segment_of(pixels: &[[f32; 2]], transposed: bool) -> Option<Segment> {
    let n = pixels.len() as f32;
    let (mx, my) = pixels.iter().fold((0.0, 0.0), |(a, b), p| (a + p[0], b + p[1]));
    let (mx, my) = (mx / n, my / n);
    let (sxx, sxy, syy) = pixels.iter().fold((0.0, 0.0, 0.0), |(a, b, c), p| {
        let (dx, dy) = (p[0] - mx, p[1] - my);
        (a + dx * dx, b + dx * dy, c + dy * dy)
    });
    let angle = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    if angle.abs().to_degrees() > MAX_TILT {
        return None;
    }
    let along = [angle.cos(), angle.sin()];
    let across = [-along[1], along[0]];
    let (mut lo, mut hi, mut var) = (f32::MAX, f32::MIN, 0.0);
    for p in pixels {
        let d = [p[0] - mx, p[1] - my];
        let s = dot(d, along);
        lo = lo.min(s);
        hi = hi.max(s);
        var += dot(d, across).powi(2);
    }
    // A band of thickness T has variance T²/12 across it.
    let thickness = (12.0 * var / n).sqrt().max(1.0);
    let centre_shift = (lo + hi) / 2.0;
    let centre = [mx + along[0] * centre_shift, my + along[1] * centre_shift];
    let swap = |v: [f32; 2]| if transposed { [v[1], v[0]] } else { v };
    Some(Segment { centre: swap(centre), along: swap(along), length: hi - lo + 1.0, thickness })
}

fn parallel(a: &Segment, b: &Segment) -> bool {
    let angle = dot(a.along, b.along).abs().clamp(0.0, 1.0).acos().to_degrees();
    angle <= MAX_ANGLE_DIFFERENCE
}

/// Where a segment starts and ends along `along` (from the origin).
fn extent(s: &Segment, along: [f32; 2]) -> (f32, f32) {
    let c = dot(s.centre, along);
    (c - s.length / 2.0, c + s.length / 2.0)
}

/// Pieces of one line that the smear did not join (faint fillers, a fold, a hologram over the print) are
/// joined: parallel, on one line, close along it.
fn merge_collinear(mut segments: Vec<Segment>) -> Vec<Segment> {
    loop {
        let mut merged = None;
        'search: for (i, a) in segments.iter().enumerate() {
            for (j, b) in segments.iter().enumerate().skip(i + 1) {
                if !parallel(a, b) {
                    continue;
                }
                let across = [-a.along[1], a.along[0]];
                let off = dot([b.centre[0] - a.centre[0], b.centre[1] - a.centre[1]], across);
                let thickness = a.thickness.max(b.thickness);
                let ((a0, a1), (b0, b1)) = (extent(a, a.along), extent(b, a.along));
                let gap = (b0 - a1).max(a0 - b1);
                if off.abs() <= 0.5 * thickness && gap <= 3.0 * thickness {
                    let (lo, hi) = (a0.min(b0), a1.max(b1));
                    let mid = (lo + hi) / 2.0 - dot(a.centre, a.along);
                    let centre = [
                        a.centre[0] + a.along[0] * mid + across[0] * off / 2.0,
                        a.centre[1] + a.along[1] * mid + across[1] * off / 2.0,
                    ];
                    merged = Some((i, j, Segment { centre, along: a.along, length: hi - lo, thickness }));
                    break 'search;
                }
            }
        }
        let Some((i, j, joined)) = merged else { return segments };
        segments.remove(j);
        segments.remove(i);
        segments.push(joined);
    }
}

/// Whether `b` can be the MRZ line after `a`: parallel, starting together, one line further across (a first
/// line may end early: its fillers are faint). Returns the spacing from `a` to `b` across the lines.
fn next_line(a: &Segment, b: &Segment) -> Option<f32> {
    if !parallel(a, b) || a.length.min(b.length) < 0.3 * a.length.max(b.length) {
        return None;
    }
    let across = [-a.along[1], a.along[0]];
    let offset = [b.centre[0] - a.centre[0], b.centre[1] - a.centre[1]];
    let spacing = dot(offset, across);
    let thickness = a.thickness.max(b.thickness);
    // Aligned at the start; the start is either end, as the frame may be turned either way.
    let ((a0, a1), (b0, b1)) = (extent(a, a.along), extent(b, a.along));
    let tolerance = (0.06 * a.length.max(b.length)).max(2.0 * thickness);
    let aligned = (a0 - b0).abs() <= tolerance || (a1 - b1).abs() <= tolerance;
    let apart = spacing.abs() >= 1.1 * thickness && spacing.abs() <= 4.0 * thickness;
    (apart && aligned).then_some(spacing)
}

/// Groups of three lines (TD1), then of two, each in order across, longest first.
fn groups(segments: &[Segment], min_length: f32) -> Vec<Vec<Segment>> {
    let anchor = |s: &Segment| s.length >= min_length && s.length >= MIN_ELONGATION * s.thickness;
    let mut pairs: Vec<(usize, usize, f32)> = Vec::new();
    for (i, a) in segments.iter().enumerate() {
        for (j, b) in segments.iter().enumerate() {
            if i != j && (anchor(a) || anchor(b)) {
                if let Some(spacing) = next_line(a, b).filter(|s| *s > 0.0) {
                    pairs.push((i, j, spacing));
                }
            }
        }
    }
    let mut out: Vec<Vec<Segment>> = Vec::new();
    for &(i, j, s1) in &pairs {
        for &(j2, k, s2) in &pairs {
            if j2 == j && (0.8..=1.25).contains(&(s2 / s1)) {
                out.push([i, j, k].iter().filter_map(|&x| segments.get(x).copied()).collect());
            }
        }
    }
    // Every pair too, inside a triple or not: a line of other print can sit an MRZ line's spacing above it.
    for &(i, j, _) in &pairs {
        out.push([i, j].iter().filter_map(|&x| segments.get(x).copied()).collect());
    }
    let longest = |g: &Vec<Segment>| g.iter().map(|s| s.length).fold(0.0, f32::max);
    out.sort_by(|a, b| longest(b).total_cmp(&longest(a)));
    out
}

/// The rectangle around a group's lines, in reduced-frame pixels, and the longest line's length: 15 % of that
/// length beyond each end, most of a line's spacing above the first and below the last.
fn region(group: &[Segment]) -> Option<([[f32; 2]; 4], f32)> {
    let first = group.first()?;
    let last = group.last()?;
    let mut along = first.along;
    // Reading left to right (or top to bottom) first; the other way is tried by the caller.
    if along[0] + along[1] < 0.0 {
        along = [-along[0], -along[1]];
    }
    let across = [-along[1], along[0]];
    let origin = first.centre;
    let rel = |p: [f32; 2]| {
        [dot([p[0] - origin[0], p[1] - origin[1]], along), dot([p[0] - origin[0], p[1] - origin[1]], across)]
    };
    let (mut lo, mut hi) = (f32::MAX, f32::MIN);
    let (mut top, mut bottom) = (f32::MAX, f32::MIN);
    for s in group {
        let [a, c] = rel(s.centre);
        lo = lo.min(a - s.length / 2.0);
        hi = hi.max(a + s.length / 2.0);
        top = top.min(c);
        bottom = bottom.max(c);
    }
    let spacing = if group.len() > 1 {
        (rel(last.centre)[1] - rel(first.centre)[1]).abs() / (group.len() - 1) as f32
    } else {
        first.thickness * 2.0
    };
    // Generous along the lines: the last fillers of a line (and what follows them) can be too faint to smear
    // into it, so the longest line found may stop characters short.
    let span = hi - lo;
    let margin = span * MARGIN;
    let (lo, hi) = (lo - margin, hi + margin);
    let (top, bottom) = (top - 0.9 * spacing, bottom + 0.9 * spacing);
    let at = |a: f32, c: f32| [origin[0] + along[0] * a + across[0] * c, origin[1] + along[1] * a + across[1] * c];
    Some(([at(lo, top), at(hi, top), at(hi, bottom), at(lo, bottom)], span))
}

/// Candidate MRZs in `frame`, the likeliest first.
pub fn find_regions(frame: &GreyFrame) -> Vec<MrzRegion> {
    let side = frame.width().max(frame.height());
    if side < 32 {
        return Vec::new();
    }
    let factor = side.div_ceil(WORK_SIDE).max(1);
    let work = reduce(frame, factor);
    let work_side = work.width().max(work.height());
    let ink = InkMap::with_radius(&work, (work_side / 64).max(6));
    let mut found = Vec::new();
    // The gap between characters is unknown until the MRZ is found: a narrow smear for large print, a wide
    // one for small print whose fillers stand a pitch apart.
    for (transposed, gap) in [(false, 80), (true, 80), (false, 40), (true, 40)] {
        let gap = (work_side / gap).max(4);
        let (mask, w, h) = smear(&ink, transposed, gap, 4 * gap);
        let min_length = w.min(h).max(w / 2) as f32 / 5.0;
        let segments = merge_collinear(segments(&mask, w, h, transposed, min_length));
        for group in groups(&segments, min_length) {
            let Some((corners, length)) = region(&group) else { continue };
            // A reduced pixel's centre in frame pixels (centres on integers, as `GreyFrame::sample` has them).
            let scale = factor as f32;
            let offset = (scale - 1.0) / 2.0;
            let corners = corners.map(|[x, y]| [x * scale + offset, y * scale + offset]);
            found.push(MrzRegion {
                quad: PageQuad { corners, confidence: 0.0 },
                lines: group.len(),
                line_length: length * scale,
            });
        }
    }
    // An MRZ is the longest print on its page: longest first, whichever way the frame is turned; the same
    // lines found by both smears once.
    found.sort_by(|a, b| b.line_length.total_cmp(&a.line_length));
    let mut kept: Vec<MrzRegion> = Vec::with_capacity(found.len());
    for region in found {
        if !kept.iter().any(|k| same_place(k, &region)) {
            kept.push(region);
        }
    }
    kept
}

/// Two regions around the same lines: as many lines, centres closer than a quarter of their height.
fn same_place(a: &MrzRegion, b: &MrzRegion) -> bool {
    let centre = |r: &MrzRegion| {
        let [x, y] = r.quad.corners.iter().fold([0.0, 0.0], |[sx, sy], [x, y]| [sx + x, sy + y]);
        [x / 4.0, y / 4.0]
    };
    let height = |r: &MrzRegion| {
        let [tl, _, _, bl] = r.quad.corners;
        (bl[0] - tl[0]).hypot(bl[1] - tl[1])
    };
    let ([ax, ay], [bx, by]) = (centre(a), centre(b));
    a.lines == b.lines && (ax - bx).hypot(ay - by) < 0.25 * height(a).min(height(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two lines of evenly spaced blocks (an MRZ's shape) on white, turned by `turn` quarter turns.
    fn two_lines(width: usize, height: usize, transposed: bool) -> GreyFrame {
        let mut data = vec![0.9f32; width * height];
        let mut paint = |x: usize, y: usize| {
            let (x, y) = if transposed { (y, x) } else { (x, y) };
            if let Some(p) = data.get_mut(y * width + x) {
                *p = 0.1;
            }
        };
        for line in 0..2 {
            let top = 200 + line * 40;
            for c in 0..44 {
                let left = 60 + c * 16;
                for y in top..top + 22 {
                    for x in left..left + 10 {
                        paint(x, y);
                    }
                }
            }
        }
        GreyFrame::from_luma(width, height, data)
    }

    #[test]
    fn two_long_parallel_lines_are_found_either_way_round() {
        for transposed in [false, true] {
            let (w, h) = if transposed { (400, 900) } else { (900, 400) };
            let frame = two_lines(w, h, transposed);
            let regions = find_regions(&frame);
            let first = regions.first().unwrap_or_else(|| panic!("nothing found (transposed {transposed})"));
            assert_eq!(first.lines, 2);
            assert!((first.line_length - 700.0).abs() < 60.0, "{}", first.line_length);
        }
    }

    #[test]
    fn a_blank_frame_has_no_mrz() {
        let frame = GreyFrame::from_luma(640, 480, vec![0.8; 640 * 480]);
        assert!(find_regions(&frame).is_empty());
    }
}
