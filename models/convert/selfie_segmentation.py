"""MediaPipe's selfie segmentation (TFLite, from the npm package @mediapipe/selfie_segmentation) as ONNX.

The model uses eleven TFLite operators, one of them MediaPipe's custom `Convolution2DTransposeBias`, which no
general converter knows; so this script maps each operator by hand onto its ONNX twin, in NCHW:

  DEQUANTIZE (float16 weights)  -> float32 initialisers
  CONV_2D, DEPTHWISE_CONV_2D    -> Conv (explicit SAME pads as TFLite computes them; group = channels)
  RELU, LOGISTIC, HARD_SWISH    -> Relu, Sigmoid, HardSwish
  ADD, MUL                      -> Add, Mul (every operand is an activation, so NCHW broadcasting holds)
  AVERAGE_POOL_2D (whole map)   -> GlobalAveragePool
  RESIZE_BILINEAR               -> Resize (linear, with the operator's own coordinate convention)
  Convolution2DTransposeBias    -> ConvTranspose (2x2, stride 2: each input pixel becomes one 2x2 block)

Input `image` [1,3,256,256], RGB scaled to 0-1 (MediaPipe's float range for this model); output `mask` [1,1,256,256],
the probability that a pixel shows the person. Usage:

  python models/convert/selfie_segmentation.py --tflite selfie_segmentation.tflite --out models/selfie_segmentation.onnx

(`make segmentation-model` fetches the npm package and runs this.) Every unsupported operator or option is an
error, never skipped.
"""

import argparse
import struct
import sys

import numpy as np
import onnx
import tflite
from onnx import TensorProto, helper, numpy_helper

OP_NAMES = {v: k for k, v in tflite.BuiltinOperator.__dict__.items() if not k.startswith("_")}
PADDING_SAME = 0  # tflite.Padding.SAME
ACTIVATIONS = {0: None, 1: "Relu"}  # NONE, RELU: the only fused activations handled


class Converter:
    def __init__(self, model):
        self.model = model
        self.graph = model.Subgraphs(0)
        self.nodes = []
        self.initialisers = {}
        self.constants = {}  # tensor index -> float32 array (NHWC/OHWI as TFLite stores it)

    def tensor(self, index):
        return self.graph.Tensors(index)

    def name(self, index):
        return self.tensor(index).Name().decode()

    def shape(self, index):
        return [int(d) for d in self.tensor(index).ShapeAsNumpy()]

    def buffer(self, index):
        t = self.tensor(index)
        data = self.model.Buffers(t.Buffer()).DataAsNumpy()
        if isinstance(data, int):
            return None
        dtype = {0: np.float32, 1: np.float16, 2: np.int32}[t.Type()]
        return np.frombuffer(data.tobytes(), dtype=dtype).reshape(self.shape(index))

    def constant(self, index):
        if index in self.constants:
            return self.constants[index]
        value = self.buffer(index)
        if value is None:
            raise SystemExit(f"tensor {self.name(index)} has no data")
        return value

    def initialiser(self, name, value):
        self.initialisers[name] = numpy_helper.from_array(np.ascontiguousarray(value, dtype=np.float32), name)
        return name

    def node(self, op, inputs, outputs, **attrs):
        self.nodes.append(helper.make_node(op, inputs, outputs, name=outputs[0], **attrs))

    def activation(self, code, out_name):
        """The operator's output name, with a fused activation appended when it has one."""
        if code not in ACTIVATIONS:
            raise SystemExit(f"fused activation {code} is not handled")
        act = ACTIVATIONS[code]
        if act is None:
            return out_name, None
        return out_name + "_pre", act

    @staticmethod
    def same_pads(size, kernel, stride, dilation=1):
        out = (size + stride - 1) // stride
        effective = (kernel - 1) * dilation + 1
        total = max((out - 1) * stride + effective - size, 0)
        return total // 2, total - total // 2

    def conv(self, op, depthwise):
        ins = list(op.InputsAsNumpy())
        opts_table = op.BuiltinOptions()
        opts = tflite.DepthwiseConv2DOptions() if depthwise else tflite.Conv2DOptions()
        opts.Init(opts_table.Bytes, opts_table.Pos)
        kernel = self.constant(ins[1])  # conv: [O,H,W,I]; depthwise: [1,H,W,C*M]
        bias = self.constant(ins[2])
        _, in_h, in_w, in_c = self.shape(ins[0])
        kh, kw = kernel.shape[1], kernel.shape[2]
        sh, sw = opts.StrideH(), opts.StrideW()
        dh, dw = opts.DilationHFactor(), opts.DilationWFactor()
        if opts.Padding() == PADDING_SAME:
            top, bottom = self.same_pads(in_h, kh, sh, dh)
            left, right = self.same_pads(in_w, kw, sw, dw)
        else:
            top = bottom = left = right = 0
        out = self.name(op.Outputs(0))
        node_out, act = self.activation(opts.FusedActivationFunction(), out)
        if depthwise:
            if opts.DepthMultiplier() not in (0, 1) or kernel.shape[3] != in_c:
                raise SystemExit("depthwise convolution with a depth multiplier is not handled")
            weights = kernel.transpose(3, 0, 1, 2)  # [C,1,H,W]
            group = in_c
        else:
            weights = kernel.transpose(0, 3, 1, 2)  # [O,I,H,W]
            group = 1
        w = self.initialiser(out + "/W", weights)
        b = self.initialiser(out + "/B", bias)
        self.node("Conv", [self.name(ins[0]), w, b], [node_out], strides=[sh, sw], dilations=[dh, dw],
                  pads=[top, left, bottom, right], group=group, kernel_shape=[kh, kw])
        if act:
            self.node(act, [node_out], [out])

    def transpose_conv_bias(self, op):
        ins = list(op.InputsAsNumpy())
        raw = op.CustomOptionsAsNumpy().tobytes()
        padding, stride_w, stride_h = struct.unpack("<iii", raw[:12])
        kernel = self.constant(ins[1])  # [O,H,W,I]
        bias = self.constant(ins[2])
        kh, kw = kernel.shape[1], kernel.shape[2]
        # TFLite's enum here is kTfLitePaddingSame = 1; with the kernel equal to the stride SAME adds no padding.
        if padding != 1 or (kh, kw) != (stride_h, stride_w):
            raise SystemExit(f"Convolution2DTransposeBias with padding {padding}, kernel {kh}x{kw}, "
                             f"stride {stride_h}x{stride_w} is not handled")
        out = self.name(op.Outputs(0))
        w = self.initialiser(out + "/W", kernel.transpose(3, 0, 1, 2))  # [I,O,H,W]
        b = self.initialiser(out + "/B", bias)
        self.node("ConvTranspose", [self.name(ins[0]), w, b], [out], strides=[stride_h, stride_w],
                  kernel_shape=[kh, kw])

    def average_pool(self, op):
        ins = list(op.InputsAsNumpy())
        opts_table = op.BuiltinOptions()
        opts = tflite.Pool2DOptions()
        opts.Init(opts_table.Bytes, opts_table.Pos)
        _, h, w, _ = self.shape(ins[0])
        if (opts.FilterHeight(), opts.FilterWidth()) != (h, w) or self.shape(op.Outputs(0))[1:3] != [1, 1]:
            raise SystemExit("only an average pool over the whole map is handled")
        self.node("GlobalAveragePool", [self.name(ins[0])], [self.name(op.Outputs(0))])

    def resize(self, op):
        ins = list(op.InputsAsNumpy())
        opts_table = op.BuiltinOptions()
        opts = tflite.ResizeBilinearOptions()
        opts.Init(opts_table.Bytes, opts_table.Pos)
        if opts.AlignCorners():
            mode = "align_corners"
        elif opts.HalfPixelCenters():
            mode = "half_pixel"
        else:
            mode = "asymmetric"
        _, oh, ow, c = self.shape(op.Outputs(0))
        sizes = self.initialiser_int(self.name(op.Outputs(0)) + "/sizes", [1, c, oh, ow])
        self.node("Resize", [self.name(ins[0]), "", "", sizes], [self.name(op.Outputs(0))], mode="linear",
                  coordinate_transformation_mode=mode)

    def initialiser_int(self, name, values):
        self.initialisers[name] = numpy_helper.from_array(np.array(values, dtype=np.int64), name)
        return name

    def binary(self, op, onnx_op):
        ins = list(op.InputsAsNumpy())
        opts_table = op.BuiltinOptions()
        code = 0
        if opts_table is not None:
            opts = tflite.AddOptions() if onnx_op == "Add" else tflite.MulOptions()
            opts.Init(opts_table.Bytes, opts_table.Pos)
            code = opts.FusedActivationFunction()
        out = self.name(op.Outputs(0))
        node_out, act = self.activation(code, out)
        for i in ins:
            if self.buffer(i) is not None and i not in self.constants:
                raise SystemExit(f"{onnx_op} with a constant operand ({self.name(i)}) is not handled")
        self.node(onnx_op, [self.name(i) for i in ins], [node_out])
        if act:
            self.node(act, [node_out], [out])

    def operator(self, name, op, code):
        """Adds the ONNX nodes of one TFLite operator; False when the operator is not one this converter maps."""
        if name == "DEQUANTIZE":
            src, dst = op.Inputs(0), op.Outputs(0)
            self.constants[dst] = self.buffer(src).astype(np.float32)
        elif name == "CONV_2D":
            self.conv(op, depthwise=False)
        elif name == "DEPTHWISE_CONV_2D":
            self.conv(op, depthwise=True)
        elif name in ("RELU", "LOGISTIC", "HARD_SWISH"):
            onnx_op = {"RELU": "Relu", "LOGISTIC": "Sigmoid", "HARD_SWISH": "HardSwish"}[name]
            self.node(onnx_op, [self.name(op.Inputs(0))], [self.name(op.Outputs(0))])
        elif name == "ADD":
            self.binary(op, "Add")
        elif name == "MUL":
            self.binary(op, "Mul")
        elif name == "AVERAGE_POOL_2D":
            self.average_pool(op)
        elif name == "RESIZE_BILINEAR":
            self.resize(op)
        elif name == "CUSTOM" and code.CustomCode() == b"Convolution2DTransposeBias":
            self.transpose_conv_bias(op)
        else:
            return False
        return True

    def operators(self):
        g = self.graph
        for i in range(g.OperatorsLength()):
            op = g.Operators(i)
            code = self.model.OperatorCodes(op.OpcodeIndex())
            name = OP_NAMES.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()))
            if not self.operator(name, op, code):
                raise SystemExit(f"operator {name} is not handled")

    def model_proto(self, graph_name, inputs, outputs):
        """The checked ONNX model of the converted nodes, with its inputs and outputs as value infos."""
        graph = helper.make_graph(self.nodes, graph_name, inputs, outputs,
                                  initializer=list(self.initialisers.values()))
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], producer_name="vouch")
        model.ir_version = 8
        onnx.checker.check_model(model, full_check=True)
        return model

    def convert(self):
        self.operators()
        g = self.graph
        (inp,) = [g.Inputs(j) for j in range(g.InputsLength())]
        (out,) = [g.Outputs(j) for j in range(g.OutputsLength())]
        _, h, w, c = self.shape(inp)
        # The graph's tensors are NCHW from here on; the TFLite input name keeps feeding the first Conv.
        self.nodes.insert(0, helper.make_node("Identity", ["image"], [self.name(inp)], name="image_in"))
        _, oh, ow, oc = self.shape(out)
        self.nodes.append(helper.make_node("Identity", [self.name(out)], ["mask"], name="mask_out"))
        return self.model_proto(
            "selfie_segmentation",
            [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, c, h, w])],
            [helper.make_tensor_value_info("mask", TensorProto.FLOAT, [1, oc, oh, ow])],
        )


def run(converter_class, description):
    """Reads `--tflite`, converts it with `converter_class` and writes `--out`: every converter's command line."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tflite", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with open(args.tflite, "rb") as f:
        model = tflite.Model.GetRootAsModel(f.read(), 0)
    onnx_model = converter_class(model).convert()
    onnx.save(onnx_model, args.out)
    print(f"wrote {args.out}: {len(onnx_model.graph.node)} nodes", file=sys.stderr)


if __name__ == "__main__":
    run(Converter, __doc__)
