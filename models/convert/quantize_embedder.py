"""The face embedder (face_embed512.onnx) quantised to int8 with ONNX Runtime's static quantisation.

Weights int8 per output channel, activations uint8 per tensor (QDQ format, which ONNX Runtime fuses into integer
kernels on x86). Activation ranges are calibrated (min-max) on aligned 112x112 face crops fed exactly as Vouch
feeds the fp32 model: BGR, (x - 127) / 128; each crop is used as is and mirrored.

The calibration crops must not come from the set the result is judged on (`face_dev`): `make embedder-int8`
writes them with `vouch faces aligned` from the project's fixture photos and the specimen document images.

Usage:

  python models/convert/quantize_embedder.py --model models/face_embed512.onnx --crops DIR \
      --out models/face_embed512_int8.onnx

Run to run the output is byte-identical for the same crops and package versions (models/convert/requirements.txt).
"""

import argparse
import pathlib
import sys
import tempfile

import numpy as np
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process
from PIL import Image


METHODS = {
    "minmax": CalibrationMethod.MinMax,
    "percentile": CalibrationMethod.Percentile,
    "entropy": CalibrationMethod.Entropy,
}


def tensor(path: pathlib.Path, mirrored: bool) -> np.ndarray:
    image = Image.open(path).convert("RGB")
    if image.size != (112, 112):
        raise SystemExit(f"{path}: {image.size}, expected a 112x112 aligned crop")
    rgb = np.asarray(image, dtype=np.float32)
    if mirrored:
        rgb = rgb[:, ::-1, :]
    bgr = rgb[:, :, ::-1]
    return ((bgr - 127.0) / 128.0).transpose(2, 0, 1)[np.newaxis].copy()


class Crops(CalibrationDataReader):
    def __init__(self, input_name: str, paths: list[pathlib.Path]):
        self.batches = iter([{input_name: tensor(p, m)} for p in paths for m in (False, True)])

    def get_next(self):
        return next(self.batches, None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, type=pathlib.Path)
    parser.add_argument("--crops", required=True, type=pathlib.Path)
    parser.add_argument("--out", required=True, type=pathlib.Path)
    parser.add_argument("--method", choices=["minmax", "percentile", "entropy"], default="percentile")
    args = parser.parse_args()
    paths = sorted(args.crops.glob("*.png"))
    if len(paths) < 10:
        raise SystemExit(f"{args.crops}: {len(paths)} crops; calibration needs at least 10")
    import onnx
    import onnx.version_converter

    model = onnx.load(str(args.model))
    input_name = model.graph.input[0].name
    with tempfile.TemporaryDirectory() as tmp:
        # The model is opset 9; per-channel DequantizeLinear needs 13.
        upgraded = pathlib.Path(tmp) / "opset13.onnx"
        onnx.save(onnx.version_converter.convert_version(model, 13), str(upgraded))
        prepared = pathlib.Path(tmp) / "prepared.onnx"
        quant_pre_process(str(upgraded), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(args.out),
            Crops(input_name, paths),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=METHODS[args.method],
        )
    print(f"{args.out}: calibrated on {len(paths)} crops (and their mirror images)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
