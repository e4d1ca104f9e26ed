//! RGB images to the planar float tensors (NCHW) the models take.

use image::RgbImage;

/// Channel order a model was trained on. Getting this wrong does not fail; it silently costs accuracy, so
/// every model states it explicitly (and the tests measure the difference where it matters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelOrder {
    Rgb,
    Bgr,
}

/// Planar `[3, h, w]` data with `norm(channel_in_model_order, value)` applied.
pub fn planar(img: &RgbImage, order: ChannelOrder, norm: impl Fn(usize, f32) -> f32) -> Vec<f32> {
    let plane = (img.width() * img.height()) as usize;
    let mut data = vec![0f32; plane * 3];
    let (c0, rest) = data.split_at_mut(plane);
    let (c1, c2) = rest.split_at_mut(plane);
    let first = match order {
        ChannelOrder::Rgb => 0,
        ChannelOrder::Bgr => 2,
    };
    for (((p, a), b), c) in img.pixels().zip(c0).zip(c1).zip(c2) {
        let [r, g, bl] = p.0;
        let (x, z) = if first == 0 { (r, bl) } else { (bl, r) };
        *a = norm(0, f32::from(x));
        *b = norm(1, f32::from(g));
        *c = norm(2, f32::from(z));
    }
    data
}

/// ITU-R BT.601 luma, as OpenCV's RGB→grey.
#[inline]
pub fn luma(p: [u8; 3]) -> f32 {
    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
}

/// Planar `[1, h, w]` grey data with `norm` applied.
pub fn grey(img: &RgbImage, norm: impl Fn(f32) -> f32) -> Vec<f32> {
    img.pixels().map(|p| norm(luma(p.0).round())).collect()
}

/// ImageNet mean and standard deviation normalisation, in RGB order.
pub fn imagenet(channel: usize, v: f32) -> f32 {
    const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
    const STD: [f32; 3] = [0.229, 0.224, 0.225];
    let c = channel.min(2);
    (v / 255.0 - MEAN.get(c).copied().unwrap_or(0.0)) / STD.get(c).copied().unwrap_or(1.0)
}

pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.iter().map(|v| (v - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.iter().map(|e| e / sum.max(f32::MIN_POSITIVE)).collect()
}
