"""Train Vouch's MRZ character recogniser and export it to ONNX.

The recogniser reads one MRZ character cell at a time. Its input is the *cell contract* that
`vouch-vision`'s MRZ reader follows when it samples a located MRZ line out of a camera frame:

  * a line is resampled to a grey strip in which the character pitch is 16 px and the text's cap band is
    centred on row 16 of a 32-row strip (OCR-B caps of 2.0 to 2.4 mm on the 2.54 mm pitch give 12.6 to
    15.1 px);
  * cell i is the 24 x 32 window centred on character i, 4 px of each neighbour included;
  * pixels are 0 (black) to 1 (white); the graph standardises each window itself.

Input `cells` [N, 1, 32, 24] float32; output `logits` [N, 37] over CLASSES.

Training data are rendered here from OCR-B (models/OCRB.otf) with what a kiosk camera does to a page: paper
tint and security-print patterns, ink shade, rotation, shear and scale, locator error, low resolution,
defocus, uneven light, glare, sensor noise and JPEG; and with what real print does to the font, as the real
specimen photos in ../shared/testdata/documents_dev show it (looked at, never trained on): heavier strokes
(ink spread, bold OCR-B, laser engraving), lighter ones, characters off their place, condensed or expanded
print, uneven ink, and folds or hologram stripes across the line. The held-out set is drawn from a different seed and
never trained on; its accuracy is printed and written next to the model. A second, independent held-out
check lives in Rust (vouch-vision's tests), on pages drawn by another renderer.

The network is small and trained with plain numpy (no deep-learning framework to install): three 3x3
convolutions with max-pooling, then two dense layers.

Usage: python train_mrz.py --font models/OCRB.otf --out models/mrz_ocr.onnx
"""

import argparse
import io
import json
import math
import time

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

CLASSES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<"
PITCH = 16
STRIP_H = 32
CELL_W = 24
SUPER = 4  # render at 4x, then reduce, for sub-pixel placement and honest anti-aliasing
MARGIN = 2  # cells of paper drawn either side of a snippet


# ---------------------------------------------------------------------------------------------------------
# Rendering


class Renderer:
    def __init__(self, font_path):
        self.font_path = font_path
        self.fonts = {}

    def font(self, cap_px):
        """An OCR-B face whose capital H is `cap_px` high (at the 4x render scale)."""
        key = int(round(cap_px))
        if key not in self.fonts:
            probe = ImageFont.truetype(self.font_path, 400)
            box = probe.getbbox("H")
            ratio = (box[3] - box[1]) / 400
            self.fonts[key] = ImageFont.truetype(self.font_path, max(8, int(round(key / ratio))))
        return self.fonts[key]


def random_text(rng, n):
    """MRZ-like text: runs of filler, names, numbers."""
    out = []
    while len(out) < n:
        kind = rng.random()
        run = int(rng.integers(1, 9))
        if kind < 0.28:
            out += ["<"] * run
        elif kind < 0.62:
            out += [CLASSES[int(rng.integers(10, 36))] for _ in range(run)]
        elif kind < 0.92:
            out += [CLASSES[int(rng.integers(0, 10))] for _ in range(run)]
        else:
            out += [CLASSES[int(rng.integers(0, 37))] for _ in range(run)]
    return "".join(out[:n])


def render_strip(renderer, rng, text, hard=True, pitch_error=0.02):
    """The 1x strip (32 x (n + 2*MARGIN) * 16) a camera and the locator would hand the recogniser.

    `pitch_error` is the relative error of the locator's pitch. It accumulates along the line: on the 14-
    character training snippets 2 % moves the last cell by 4.5 px, which teaches tolerance; on a full line the
    reader measures the pitch from the line's whole length, so the held-out lines use 0.3 % (2 px at the end
    of a 44-character line)."""
    n = len(text)
    width = (n + 2 * MARGIN) * PITCH
    s = SUPER
    paper = float(rng.uniform(160, 250))
    ink = float(rng.uniform(0, min(90, paper - 90)))
    canvas = Image.new("L", (width * s, STRIP_H * s), int(paper))
    draw = ImageDraw.Draw(canvas)

    # Security print behind the MRZ: faint waves or fine lines on some documents.
    if rng.random() < 0.5:
        amp = rng.uniform(5, 35)
        f1, f2 = rng.uniform(0.005, 0.03), rng.uniform(0.01, 0.06)
        phase = rng.uniform(0, 6.28)
        shade = int(max(0, paper - rng.uniform(10, 45)))
        for k in range(int(rng.integers(2, 7))):
            pts = []
            y0 = rng.uniform(0, STRIP_H * s)
            for x in range(0, width * s, 8):
                pts.append((x, y0 + amp * math.sin(x * f1 + phase + k) + 10 * math.sin(x * f2)))
            draw.line(pts, fill=shade, width=int(rng.integers(1, 4)))

    cap = rng.uniform(12.6, 15.2) if hard else 14.5
    pitch = PITCH * (rng.uniform(1 - pitch_error, 1 + pitch_error) if hard else 1.0)
    font = renderer.font(cap * s)
    baseline = (STRIP_H / 2 + cap / 2) * s
    start = MARGIN * PITCH * s
    # Real print is not the font file: heavier (ink spread, the bold OCR-B of some passports, laser engraving
    # that burns wider than the glyph) or lighter (a worn ribbon, a thin laser), each character a little off
    # its place, and printed narrower or wider than OCR-B's own proportions.
    weight = rng.choice(["font", "bold", "light"], p=[0.5, 0.3, 0.2]) if hard else "font"
    stroke = int(rng.integers(1, 6)) if weight == "bold" else 0
    jitter = 0.5 * s if hard else 0.0
    glyphs = Image.new("L", canvas.size, 0)
    gdraw = ImageDraw.Draw(glyphs)
    for i, c in enumerate(text):
        cx = start + (i + 0.5) * pitch * s + rng.uniform(-jitter, jitter)
        cy = baseline + rng.uniform(-jitter, jitter)
        gdraw.text((cx, cy), c, font=font, fill=255, anchor="ms", stroke_width=stroke, stroke_fill=255)
    if weight == "light":
        glyphs = glyphs.filter(ImageFilter.MinFilter(5))
    if hard and rng.random() < 0.5:
        # Condensed or expanded print, about each character's centre (the pitch stays the standard's).
        squeeze = float(rng.uniform(0.88, 1.1))
        glyphs = squeeze_cells(glyphs, start, pitch * s, len(text), squeeze)
    ink_layer = np.full((STRIP_H * s, width * s), float(ink), dtype=np.float32)
    if hard and rng.random() < 0.25:
        # Engraved or toner print: the ink itself is uneven.
        ink_layer += rng.normal(0, rng.uniform(8, 30), ink_layer.shape).astype(np.float32)
    alpha = np.asarray(glyphs, dtype=np.float32) / 255.0
    base = np.asarray(canvas, dtype=np.float32)
    canvas = Image.fromarray(np.clip(base * (1 - alpha) + ink_layer * alpha, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    if hard and rng.random() < 0.2:
        # A fold, a laminate seam or a hologram stripe across the line: a band lighter or darker than the paper.
        x0 = rng.uniform(0, width * s)
        band = rng.uniform(1, 10) * s
        shade = int(np.clip(paper + rng.choice([-1, 1]) * rng.uniform(15, 60), 0, 255))
        overlay = Image.new("L", canvas.size, shade)
        mask = Image.new("L", canvas.size, 0)
        ImageDraw.Draw(mask).rectangle([x0, 0, x0 + band, STRIP_H * s], fill=int(rng.uniform(80, 200)))
        canvas = Image.composite(overlay, canvas, mask)

    # Pose and locator error: rotation, shear, vertical and horizontal offset about the strip centre.
    if hard:
        # Residual tilt after the reader has found the line: the ends stray at most ~5 px from where it put
        # them, which on the 14-character training snippets is the full +-2 degrees.
        tilt = min(2.0, math.degrees(math.atan(5.1 / (width / 2))))
        theta = math.radians(rng.uniform(-tilt, tilt))
        shear = rng.uniform(-0.12, 0.12)
        dx = rng.uniform(-2.5, 2.5) * s
        dy = rng.uniform(-2.5, 2.5) * s
        cx, cy = width * s / 2, STRIP_H * s / 2
        cos, sin = math.cos(theta), math.sin(theta)
        # Output pixel -> input pixel (PIL's affine is the inverse map).
        a, b = cos, -sin + shear
        d, e = sin, cos
        c0 = cx - a * cx - b * cy + dx
        f0 = cy - d * cx - e * cy + dy
        canvas = canvas.transform(canvas.size, Image.AFFINE, (a, b, c0, d, e, f0), resample=Image.BICUBIC,
                                  fillcolor=int(paper))

    # The camera's resolution: the page may have been seen at half this pitch, then resampled up.
    scale = rng.uniform(0.5, 1.15) if hard else 1.0
    low = (max(8, int(round(width * scale))), max(8, int(round(STRIP_H * scale))))
    img = canvas.resize(low, Image.BOX)
    if hard:
        # Defocus, capped so that the blur at the strip's own scale stays under 1.6 px: worse than that the
        # page check asks for a sharper frame before any reading is tried.
        if rng.random() < 0.7:
            sigma = float(rng.uniform(0.2, 1.6)) * scale
            img = img.filter(ImageFilter.GaussianBlur(sigma))
        arr = np.asarray(img, dtype=np.float32)
        h, w = arr.shape
        # Uneven light and exposure.
        gx = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
        gy = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
        gain = rng.uniform(0.65, 1.2) * (1 + rng.uniform(-0.35, 0.35) * gx + rng.uniform(-0.2, 0.2) * gy)
        arr = arr * gain
        # Glare: a soft blob toward white.
        if rng.random() < 0.25:
            bx, by = rng.uniform(0, w), rng.uniform(-h, 2 * h)
            rx, ry = rng.uniform(0.1, 0.5) * w, rng.uniform(0.5, 2.0) * h
            t = rng.uniform(0.2, 0.75) * np.exp(-(((np.arange(w)[None, :] - bx) / rx) ** 2
                                                   + ((np.arange(h)[:, None] - by) / ry) ** 2))
            arr = arr * (1 - t) + 255 * t
        arr = arr + rng.normal(0, rng.uniform(0, 7), arr.shape)
        img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
        if rng.random() < 0.8:
            buf = io.BytesIO()
            img.save(buf, "JPEG", quality=int(rng.integers(35, 96)))
            img = Image.open(io.BytesIO(buf.getvalue())).convert("L")
    img = img.resize((width, STRIP_H), Image.BILINEAR)
    return np.asarray(img, dtype=np.float32) / 255.0


def squeeze_cells(glyphs, start, pitch, n, factor):
    """Each character's cell scaled horizontally by `factor` about its own centre."""
    out = Image.new("L", glyphs.size, 0)
    h = glyphs.size[1]
    for i in range(n):
        left = int(round(start + i * pitch))
        right = int(round(start + (i + 1) * pitch))
        cell = glyphs.crop((left, 0, right, h))
        w = max(1, int(round((right - left) * factor)))
        scaled = cell.resize((w, h), Image.BILINEAR)
        at = left + ((right - left) - w) // 2
        out.paste(scaled, (at, 0), scaled)
    return out


def cells_of(strip, n):
    """The n cell windows of a strip, [n, 1, 32, 24]."""
    out = np.empty((n, 1, STRIP_H, CELL_W), dtype=np.float32)
    for i in range(n):
        x = (MARGIN + i) * PITCH + PITCH // 2 - CELL_W // 2
        out[i, 0] = strip[:, x:x + CELL_W]
    return out


def make_set(renderer, seed, snippets, length, hard=True, pitch_error=0.02):
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for _ in range(snippets):
        text = random_text(rng, length)
        strip = render_strip(renderer, rng, text, hard, pitch_error)
        xs.append(cells_of(strip, length))
        ys.append(np.array([CLASSES.index(c) for c in text], dtype=np.int64))
    return np.concatenate(xs), np.concatenate(ys)


# ---------------------------------------------------------------------------------------------------------
# The network, in numpy


def standardise(x):
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    var = ((x - mean) ** 2).mean(axis=(1, 2, 3), keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-3)


def im2col(x):
    """3x3, stride 1, pad 1 on NHWC: [N, H, W, C] -> [N, H, W, C*9], ordered (C, ky, kx) like ONNX weights."""
    n, h, w, c = x.shape
    p = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    return np.lib.stride_tricks.sliding_window_view(p, (3, 3), axis=(1, 2)).reshape(n, h, w, c * 9)


def col2im(dcols, shape):
    n, h, w, c = shape
    d = dcols.reshape(n, h, w, c, 3, 3)
    dp = np.zeros((n, h + 2, w + 2, c), dtype=dcols.dtype)
    for ky in range(3):
        for kx in range(3):
            dp[:, ky:ky + h, kx:kx + w, :] += d[..., ky, kx]
    return dp[:, 1:-1, 1:-1, :]


class Net:
    """Activations are NHWC inside; the exported graph is NCHW with the same weights."""

    def __init__(self, rng, channels=(12, 24, 32), hidden=96):
        self.channels = channels
        self.p = {}
        c_in = 1
        for i, c in enumerate(channels):
            self.p[f"w{i}"] = (rng.standard_normal((c, c_in, 3, 3)) * math.sqrt(2 / (c_in * 9))).astype(np.float32)
            self.p[f"b{i}"] = np.zeros(c, dtype=np.float32)
            c_in = c
        flat = channels[-1] * (STRIP_H // 8) * (CELL_W // 8)
        # fc1 rows are in NCHW flatten order, as ONNX's Flatten gives them.
        self.p["fc1"] = (rng.standard_normal((flat, hidden)) * math.sqrt(2 / flat)).astype(np.float32)
        self.p["fb1"] = np.zeros(hidden, dtype=np.float32)
        self.p["fc2"] = (rng.standard_normal((hidden, len(CLASSES))) * math.sqrt(1 / hidden)).astype(np.float32)
        self.p["fb2"] = np.zeros(len(CLASSES), dtype=np.float32)

    def forward(self, x, keep=False):
        cache = []
        h = standardise(x).transpose(0, 2, 3, 1)  # NCHW -> NHWC
        for i in range(len(self.channels)):
            w, b = self.p[f"w{i}"], self.p[f"b{i}"]
            cols = im2col(h)
            z = cols @ w.reshape(w.shape[0], -1).T + b  # [N, H, W, C]
            a = np.maximum(z, 0)
            n, hh, ww, c = a.shape
            blocks = a.reshape(n, hh // 2, 2, ww // 2, 2, c)
            pooled = blocks.max(axis=(2, 4))
            if keep:
                cache.append((h.shape, cols, z, blocks, pooled))
            h = pooled
        flat = np.ascontiguousarray(h.transpose(0, 3, 1, 2)).reshape(h.shape[0], -1)
        z1 = flat @ self.p["fc1"] + self.p["fb1"]
        a1 = np.maximum(z1, 0)
        logits = a1 @ self.p["fc2"] + self.p["fb2"]
        if keep:
            return logits, (cache, h.shape, flat, z1, a1)
        return logits

    def backward(self, dlogits, state):
        cache, hshape, flat, z1, a1 = state
        g = {}
        g["fc2"] = a1.T @ dlogits
        g["fb2"] = dlogits.sum(0)
        da1 = dlogits @ self.p["fc2"].T
        dz1 = da1 * (z1 > 0)
        g["fc1"] = flat.T @ dz1
        g["fb1"] = dz1.sum(0)
        n, hh, ww, c = hshape
        dh = (dz1 @ self.p["fc1"].T).reshape(n, c, hh, ww).transpose(0, 2, 3, 1)
        for i in reversed(range(len(self.channels))):
            in_shape, cols, z, blocks, pooled = cache[i]
            # Max-pool: the gradient goes to the maximum of each 2x2 block.
            mask = blocks == pooled[:, :, None, :, None, :]
            da = (mask * dh[:, :, None, :, None, :]).reshape(z.shape)
            dz = da * (z > 0)  # [N, H, W, C]
            w = self.p[f"w{i}"]
            dz2 = dz.reshape(-1, dz.shape[-1])
            g[f"w{i}"] = (dz2.T @ cols.reshape(-1, cols.shape[-1])).reshape(w.shape)
            g[f"b{i}"] = dz2.sum(0)
            if i > 0:
                dcols = dz @ w.reshape(w.shape[0], -1)
                dh = col2im(dcols, in_shape)
        return g


def softmax_xent(logits, y):
    z = logits - logits.max(1, keepdims=True)
    e = np.exp(z)
    p = e / e.sum(1, keepdims=True)
    loss = -np.log(p[np.arange(len(y)), y] + 1e-12).mean()
    d = p
    d[np.arange(len(y)), y] -= 1
    return loss, d / len(y)


def predict(net, x, batch=2048):
    return np.concatenate([net.forward(x[i:i + batch]).argmax(1) for i in range(0, len(x), batch)])


def train(net, x, y, epochs, batch, lr, seed, log):
    rng = np.random.default_rng(seed)
    m = {k: np.zeros_like(v) for k, v in net.p.items()}
    v = {k: np.zeros_like(v) for k, v in net.p.items()}
    b1, b2, step = 0.9, 0.999, 0
    steps = epochs * (len(x) // batch)
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        t0, total = time.time(), 0.0
        for j in range(len(x) // batch):
            idx = order[j * batch:(j + 1) * batch]
            logits, state = net.forward(x[idx], keep=True)
            loss, d = softmax_xent(logits, y[idx])
            total += loss
            g = net.backward(d, state)
            step += 1
            rate = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
            for k in net.p:
                m[k] = b1 * m[k] + (1 - b1) * g[k]
                v[k] = b2 * v[k] + (1 - b2) * g[k] ** 2
                mh = m[k] / (1 - b1 ** step)
                vh = v[k] / (1 - b2 ** step)
                net.p[k] -= (rate * mh / (np.sqrt(vh) + 1e-8)).astype(np.float32)
        log(f"epoch {epoch + 1}/{epochs}: loss {total / max(1, len(x) // batch):.4f} ({time.time() - t0:.0f} s)")


# ---------------------------------------------------------------------------------------------------------
# ONNX export


def export(net, path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []

    def const(name, array):
        inits.append(numpy_helper.from_array(np.asarray(array, dtype=np.float32), name))
        return name

    nodes += [
        helper.make_node("ReduceMean", ["cells"], ["mean"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Sub", ["cells", "mean"], ["centred"]),
        helper.make_node("Mul", ["centred", "centred"], ["sq"]),
        helper.make_node("ReduceMean", ["sq"], ["var"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Add", ["var", const("eps", 1e-3)], ["var_eps"]),
        helper.make_node("Sqrt", ["var_eps"], ["std"]),
        helper.make_node("Div", ["centred", "std"], ["h0"]),
    ]
    h = "h0"
    for i in range(len(net.channels)):
        w, b = const(f"w{i}", net.p[f"w{i}"]), const(f"b{i}", net.p[f"b{i}"])
        nodes += [
            helper.make_node("Conv", [h, w, b], [f"conv{i}"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
            helper.make_node("Relu", [f"conv{i}"], [f"relu{i}"]),
            helper.make_node("MaxPool", [f"relu{i}"], [f"pool{i}"], kernel_shape=[2, 2], strides=[2, 2]),
        ]
        h = f"pool{i}"
    nodes += [
        helper.make_node("Flatten", [h], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", const("fc1", net.p["fc1"]), const("fb1", net.p["fb1"])], ["z1"]),
        helper.make_node("Relu", ["z1"], ["a1"]),
        helper.make_node("Gemm", ["a1", const("fc2", net.p["fc2"]), const("fb2", net.p["fb2"])], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes, "mrz_ocr",
        [helper.make_tensor_value_info("cells", TensorProto.FLOAT, ["N", 1, STRIP_H, CELL_W])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", len(CLASSES)])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="vouch-train-mrz")
    model.ir_version = 8
    model.doc_string = "Vouch MRZ character recogniser. classes=" + CLASSES
    onnx.checker.check_model(model)
    onnx.save(model, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--font", default="models/OCRB.otf")
    ap.add_argument("--out", default="models/mrz_ocr.onnx")
    ap.add_argument("--report", default="models/train/mrz_ocr_report.json")
    ap.add_argument("--train-snippets", type=int, default=16000)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--evaluate-only", action="store_true",
                    help="measure the model at --out on the held-out set and rewrite the report; no training")
    args = ap.parse_args()
    log = lambda s: print(s, flush=True)  # noqa: E731
    renderer = Renderer(args.font)

    import onnxruntime as ort

    # Held out: another seed, full-length lines so that line accuracy is measured as the reader needs it.
    held = {}
    for length, lines in ((44, 600), (30, 600)):
        held[length] = make_set(renderer, args.seed + 1000 + length, lines, length, pitch_error=0.003)

    if not args.evaluate_only:
        t0 = time.time()
        x, y = make_set(renderer, args.seed, args.train_snippets, 14)
        # A clean tenth: the model must also read a perfect print.
        xc, yc = make_set(renderer, args.seed + 1, args.train_snippets // 10, 14, hard=False)
        x, y = np.concatenate([x, xc]), np.concatenate([y, yc])
        log(f"training cells: {len(x)} ({time.time() - t0:.0f} s to render)")
        net = Net(np.random.default_rng(args.seed))
        train(net, x, y, args.epochs, 128, 2e-3, args.seed, log)
        export(net, args.out)
        session = ort.InferenceSession(args.out, providers=["CPUExecutionProvider"])
        hx = held[44][0][:512]
        diff = float(np.abs(session.run(["logits"], {"cells": hx})[0] - net.forward(hx)).max())
        log(f"ONNX export matches numpy within {diff:.2e}")
        report_extra = {"training_cells": int(len(x)), "onnx_max_abs_diff_vs_numpy": diff}
    else:
        report_extra = {}
    session = ort.InferenceSession(args.out, providers=["CPUExecutionProvider"])

    report = {"classes": CLASSES, "epochs": args.epochs, "seed": args.seed, "train_snippets": args.train_snippets,
              **report_extra, "held_out": {}}
    for length, (hx, hy) in held.items():
        pred = np.concatenate([session.run(["logits"], {"cells": hx[i:i + 2048]})[0].argmax(1)
                               for i in range(0, len(hx), 2048)])
        right = pred == hy
        lines = right.reshape(-1, length).all(1)
        confusions = {}
        for p_, t_ in zip(pred[~right], hy[~right]):
            key = f"{CLASSES[t_]}->{CLASSES[p_]}"
            confusions[key] = confusions.get(key, 0) + 1
        report["held_out"][f"lines_of_{length}"] = {
            "lines": int(len(lines)), "characters": int(len(hy)),
            "character_accuracy": float(right.mean()), "line_accuracy": float(lines.mean()),
            "confusions": dict(sorted(confusions.items(), key=lambda kv: -kv[1])[:12]),
        }
        log(f"held-out lines of {length}: characters {right.mean():.5f}, lines {lines.mean():.4f}, "
            f"confusions {report['held_out'][f'lines_of_{length}']['confusions']}")
    with open(args.report, "w") as f:
        json.dump(report, f, indent=2)
    log(f"wrote {args.out} and {args.report}")


if __name__ == "__main__":
    main()
