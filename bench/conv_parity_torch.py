#!/usr/bin/python3
"""The conv family's layers (DepthwiseConv2D, SeparableConv2D, Conv2DTranspose, grouped and
causal Conv1D/Conv2D) against PyTorch: forward pass and gradients, from the same weights and batch.
A tool, run by tests/unit/test_conv_torch.cpp, which writes one folder per case under DIR:

    layer.txt      the layer as written in the .cnn file: "Conv2DTranspose(4, 3, strides = 2, ...)"
    manifest.txt   one line per array: its name and shape
    <name>.f32     raw little-endian float32: x (the batch, channels last), r (dL/dy: the loss is
                   sum(y * r)), y, dx (cnnc's), p<i> (the i-th weight in Keras' order and layout)
                   and g<i> (cnnc's gradient of it)

    /usr/bin/python3 bench/conv_parity_torch.py DIR

The layer's arguments are read with Keras 3's signatures and defaults, written out below, and the
layer is rebuilt from torch's convolutions in float64 with Keras' rules spelled out: TensorFlow's
'same' padding (the odd pixel after), 'causal' (dilation * (k - 1) steps before), and a transposed
convolution's output size (deconv_output_length) and offset (the padding Keras' JAX and TensorFlow
backends apply). Layouts: Keras (kh, kw, in, out) vs torch (out, in, kh, kw); a transposed
convolution's Keras (kh, kw, out, in) vs torch (in, out, kh, kw). Each compared array agrees when
its largest difference is within 1e-5 of its largest magnitude. Exit status 0 when all agree.
"""
import os
import re
import sys

import numpy as np
import torch
import torch.nn.functional as F

ACTIVATIONS = {None: lambda v: v, "linear": lambda v: v, "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


def tup(v, rank):
    return tuple(v) if isinstance(v, tuple) else (v,) * rank


def tf_same(n, k, s, d):
    """TensorFlow's 'same' padding of one axis: (before, after) for ceil(n / s) outputs."""
    span = (k - 1) * d + 1
    out = -(-n // s)
    total = max((out - 1) * s + span - n, 0)
    return total // 2, total - total // 2


def pad_input(x, kernel, strides, dilation, padding):
    """x: (N, C, *spatial). Keras' padding as an explicit zero border, then a 'valid' convolution."""
    pads = []
    for axis in reversed(range(len(kernel))):  # F.pad lists the last axis first
        n, k, s, d = x.shape[2 + axis], kernel[axis], strides[axis], dilation[axis]
        if padding == "same":
            pads += list(tf_same(n, k, s, d))
        elif padding == "causal":
            pads += [d * (k - 1), 0]
        else:
            pads += [0, 0]
    return F.pad(x, pads)


def conv(x, w, b, kernel, strides, dilation, padding, groups):
    x = pad_input(x, kernel, strides, dilation, padding)
    f = F.conv1d if len(kernel) == 1 else F.conv2d
    return f(x, w, b, stride=strides, dilation=dilation, groups=groups)


def channels_first(x):
    return x.permute(0, x.dim() - 1, *range(1, x.dim() - 1))


def channels_last(y):
    return y.permute(0, *range(2, y.dim()), 1)


def conv_layer(rank):
    def make(filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1, groups=1,
             activation=None, use_bias=True):
        k, s, d = tup(kernel_size, rank), tup(strides, rank), tup(dilation_rate, rank)

        def run(x, p):  # kernel (*k, C / groups, filters) -> (filters, C / groups, *k)
            w = p[0].permute(rank + 1, rank, *range(rank))
            y = conv(channels_first(x), w, p[1] if use_bias else None, k, s, d, padding, groups)
            return channels_last(ACTIVATIONS[activation](y))
        return run
    return make


def depthwise(x, kernel, k, s, d, padding, bias=None):
    """Keras' (kh, kw, C, dm) kernel as torch's grouped (C * dm, 1, kh, kw): output c * dm + m."""
    kh, kw, c, dm = kernel.shape
    w = kernel.reshape(kh, kw, c * dm).permute(2, 0, 1).unsqueeze(1)
    return conv(x, w, bias, k, s, d, padding, c)


def DepthwiseConv2D(kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None, dilation_rate=1,
                    activation=None, use_bias=True):
    k, s, d = tup(kernel_size, 2), tup(strides, 2), tup(dilation_rate, 2)

    def run(x, p):
        y = depthwise(channels_first(x), p[0], k, s, d, padding, p[1] if use_bias else None)
        return channels_last(ACTIVATIONS[activation](y))
    return run


def SeparableConv2D(filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                    depth_multiplier=1, activation=None, use_bias=True):
    k, s, d = tup(kernel_size, 2), tup(strides, 2), tup(dilation_rate, 2)

    def run(x, p):  # depthwise_kernel, pointwise_kernel (1, 1, C * dm, filters), bias
        mid = depthwise(channels_first(x), p[0], k, s, d, padding)
        y = F.conv2d(mid, p[1].permute(3, 2, 0, 1), p[2] if use_bias else None)
        return channels_last(ACTIVATIONS[activation](y))
    return run


def deconv_output_length(n, k, padding, output_padding, s, d):
    """keras.src.utils / backend_utils: the output size of a transposed convolution."""
    k = k + (k - 1) * (d - 1)
    if output_padding is None:
        return n * s + max(k - s, 0) if padding == "valid" else n * s
    pad = k // 2 if padding == "same" else 0
    return (n - 1) * s + k - 2 * pad + output_padding


def transpose_offset(k, s, d, padding, output_padding):
    """Where Keras' output starts in the full scatter: kernel span - 1 - the left pad of Keras'
    _convert_conv_transpose_padding_args_from_keras_to_jax."""
    span = (k - 1) * d + 1
    if padding == "valid":
        return 0
    pad_len = s + span - 2 if output_padding is None else span + span % 2 - 2 + output_padding
    return span - 1 - min(pad_len // 2 + pad_len % 2, span - 1)


def Conv2DTranspose(filters, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None,
                    dilation_rate=1, activation=None, use_bias=True):
    k, s, d = tup(kernel_size, 2), tup(strides, 2), tup(dilation_rate, 2)
    op = (None, None) if output_padding is None else tup(output_padding, 2)

    def run(x, p):  # kernel (kh, kw, filters, C) -> torch (C, filters, kh, kw)
        full = F.conv_transpose2d(channels_first(x), p[0].permute(3, 2, 0, 1), stride=s, dilation=d)
        sizes = [deconv_output_length(x.shape[1 + a], k[a], padding, op[a], s[a], d[a]) for a in range(2)]
        starts = [transpose_offset(k[a], s[a], d[a], padding, op[a]) for a in range(2)]
        # Zeros past the full scatter's end (output_padding, or a stride beyond the kernel).
        full = F.pad(full, [0, max(starts[1] + sizes[1] - full.shape[3], 0), 0, max(starts[0] + sizes[0] - full.shape[2], 0)])
        y = full[:, :, starts[0]:starts[0] + sizes[0], starts[1]:starts[1] + sizes[1]]
        if use_bias:
            y = y + p[1].view(1, -1, 1, 1)
        return channels_last(ACTIVATIONS[activation](y))
    return run


LAYERS = {"Conv1D": conv_layer(1), "Conv2D": conv_layer(2), "DepthwiseConv2D": DepthwiseConv2D,
          "SeparableConv2D": SeparableConv2D, "Conv2DTranspose": Conv2DTranspose}


def parse(code):
    """A .cnn layer call as a Python call: bare names (same, relu) become strings."""
    code = re.sub(r"\b(true|false)\b", lambda m: m.group(1).capitalize(), code)
    code = re.sub(r"\b([A-Za-z_]\w*)\b(?!\s*[(=])", lambda m: m.group(1) if m.group(1) in ("True", "False", "None") else repr(m.group(1)), code)
    return eval(code, {"__builtins__": {}}, LAYERS)


def compare(name, got, ref):
    scale = ref.abs().max().item()
    diff = (got - ref).abs().max().item() if got.shape == ref.shape else float("inf")
    good = diff <= 1e-5 * scale + 1e-7
    print(f"  {name} {tuple(ref.shape)}: max |diff| {diff:.2e} of max {scale:.2e}{'' if good else '  MISMATCH'}"
          + ("" if got.shape == ref.shape else f" (cnnc's shape {tuple(got.shape)})"))
    return good


def check(d):
    code = open(f"{d}/layer.txt").read().strip()
    a = {}
    for line in open(f"{d}/manifest.txt"):
        name, *shape = line.split()
        a[name] = torch.tensor(np.fromfile(f"{d}/{name}.f32", dtype="<f4").reshape([int(s) for s in shape]).astype(np.float64))
    params = [a[f"p{i}"].clone().requires_grad_(True) for i in range(len([n for n in a if n.startswith("p")]))]
    x = a["x"].clone().requires_grad_(True)
    y = parse(code)(x, params)
    print(code)
    ok = compare("y", a["y"], y.detach())
    if ok:  # the same shape: the gradient is defined
        (y * a["r"]).sum().backward()
        ok &= compare("dx", a["dx"], x.grad)
        for i, p in enumerate(params):
            ok &= compare(f"g{i}", a[f"g{i}"], p.grad)
    return ok


def main(root):
    ok = True
    for case in sorted(os.listdir(root)):
        ok &= check(os.path.join(root, case))
    print("agree" if ok else "DISAGREE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
