#!/usr/bin/python3
"""The whole-network gradient of a small two-branch cnnc model against PyTorch's, from the same
weights and the same batch. A tool, run by tests/unit/test_graph_torch.cpp, which writes DIR:

    manifest.txt   one line per array: its name and shape
    <name>.f32     the array, raw little-endian float32: x (NHWC), y (one-hot), loss (cnnc's),
                   p<i> (the i-th weight in cnnc's order, Keras layout) and g<i> (cnnc's gradient)

    /usr/bin/python3 bench/graph_parity_torch.py DIR

The model (the test's .cnn text): Conv2D(4, 3, same, relu); residual { Conv2D(4, 3, same, relu) };
Concatenate { branch { Conv2D(3, 1, tanh) } branch { MaxPooling2D(2, strides = 1, same) } };
GlobalAveragePooling2D; Dense(3, softmax) with categorical cross-entropy. PyTorch computes in
float64, so the difference is cnnc's float32 rounding: of order 1e-6 of the largest gradient of a
weight; the verdict allows 1e-4 of it. A wrong fan-out sum or merge gradient is off by O(1).
Exit status 0 when every gradient and the loss agree.
"""
import sys

import numpy as np
import torch
import torch.nn.functional as F


def main(d):
    arrays = {}
    for line in open(f"{d}/manifest.txt"):
        name, *shape = line.split()
        a = np.fromfile(f"{d}/{name}.f32", dtype="<f4").reshape([int(s) for s in shape])
        arrays[name] = torch.tensor(a.astype(np.float64))
    p = [arrays[f"p{i}"].clone().requires_grad_(True) for i in range(8)]

    def conv(h, k, b, padding):  # Keras kernel (kh, kw, cin, cout) -> torch (cout, cin, kh, kw)
        return F.conv2d(h, k.permute(3, 2, 0, 1), b, padding=padding)

    x = arrays["x"].permute(0, 3, 1, 2)  # NHWC -> NCHW
    h = torch.relu(conv(x, p[0], p[1], 1))
    h = h + torch.relu(conv(h, p[2], p[3], 1))  # residual: the body's output plus its input
    a = torch.tanh(conv(h, p[4], p[5], 0))
    # Keras' `same` pooling with an even window pads after (right and bottom) only.
    m = F.max_pool2d(F.pad(h, (0, 1, 0, 1), value=-float("inf")), 2, stride=1)
    c = torch.cat([a, m], dim=1)  # Keras' axis -1: the channels
    g = c.mean(dim=(2, 3))
    logits = g @ p[6] + p[7]
    loss = F.cross_entropy(logits, arrays["y"].argmax(dim=1))
    loss.backward()

    ok = abs(loss.item() - arrays["loss"].item()) <= 1e-5
    print(f"loss: cnnc {arrays['loss'].item():.8f}, torch {loss.item():.8f}")
    for i in range(8):
        ref, got = p[i].grad, arrays[f"g{i}"]
        scale = ref.abs().max().item()
        diff = (ref - got).abs().max().item()
        good = diff <= 1e-4 * scale + 1e-7
        ok &= good
        print(f"p{i} {tuple(ref.shape)}: max |diff| {diff:.2e} of max |grad| {scale:.2e}{'' if good else '  MISMATCH'}")
    print("agree" if ok else "DISAGREE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
