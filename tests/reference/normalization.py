"""BatchNormalization and LayerNormalization against Keras 3's rules written out in float64.

Reads what tests/unit/test_normalization.cpp wrote into the folder argv[1] (manifest.txt: one
"name dims..." line per raw float32 file name.f32, and a "config" line), recomputes the outputs,
the gradients (torch autograd through the formulas below) and the moving statistics, and prints
"agree" or the first mismatches. Keras 3 (keras/src/layers/normalization/batch_normalization.py):
in training, mean and variance are ops.moments over every axis but `axis` (the biased variance),
moving = moving * momentum + batch * (1 - momentum) for both; otherwise the moving ones are used;
output = (x - mean) / sqrt(variance + epsilon) * gamma + beta. LayerNormalization: the same over
`axis` alone, per sample.
"""
import os
import sys

import numpy as np
import torch

d = sys.argv[1]
arrays, config = {}, {}
for line in open(os.path.join(d, "manifest.txt")):
    words = line.split()
    if words[0] == "config":
        config = dict(w.split("=") for w in words[1:])
        continue
    dims = [int(v) for v in words[1:]]
    arrays[words[0]] = np.fromfile(os.path.join(d, words[0] + ".f32"), dtype=np.float32).reshape(dims).astype(np.float64)

kind = config["kind"]
eps = float(config["epsilon"])
xs = [arrays["x%d" % k] for k in range(int(config["steps"]))]
rank = xs[0].ndim
axis = int(config["axis"]) % rank
c = xs[0].shape[axis]
bshape = [1] * rank
bshape[axis] = c


def param(name, fill):
    return arrays["p_" + name] if "p_" + name in arrays else np.full(c, fill)


gamma = torch.tensor(param("gamma", 1.0).reshape(bshape), requires_grad=True)
beta = torch.tensor(param("beta", 0.0).reshape(bshape), requires_grad=True)
x = torch.tensor(xs[-1], requires_grad=True)
want = {}
if kind == "BatchNormalization":
    others = tuple(a for a in range(rank) if a != axis)
    # Keras 3's call(): the batch's statistics only in training and when the layer is trainable.
    batch = config["training"] == "1" and config["trainable"] == "1"
    mm, mv = param("moving_mean", 0.0), param("moving_variance", 1.0)
    momentum = float(config["momentum"])
    for s in xs:
        if batch:
            m = s.mean(axis=others)
            v = ((s - s.mean(axis=others, keepdims=True)) ** 2).mean(axis=others)
            mm = mm * momentum + m * (1 - momentum)
            mv = mv * momentum + v * (1 - momentum)
    want["final_moving_mean"], want["final_moving_variance"] = mm, mv
    if batch:
        mean = x.mean(dim=others, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=others, keepdim=True)
    else:
        mean = torch.tensor(param("moving_mean", 0.0).reshape(bshape))
        var = torch.tensor(param("moving_variance", 1.0).reshape(bshape))
else:
    mean = x.mean(dim=axis, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=axis, keepdim=True)
y = (x - mean) / torch.sqrt(var + eps) * gamma + beta
(y * torch.tensor(arrays["dy"])).sum().backward()
want["y"] = y.detach().numpy()
want["dx"] = x.grad.numpy()
if "g_gamma" in arrays:
    want["g_gamma"] = gamma.grad.numpy().reshape(c)
if "g_beta" in arrays:
    want["g_beta"] = beta.grad.numpy().reshape(c)

bad = []
for name, w in want.items():
    if name not in arrays:
        continue
    got = arrays[name].reshape(w.shape)
    # Relative to the tensor's largest value: float32 sums of a few dozen terms.
    err = np.abs(got - w).max() / max(np.abs(w).max(), 1e-30)
    if err > 1e-5:
        bad.append("%s: relative error %.3g (got %s, want %s)" % (name, err, got.ravel()[:4], w.ravel()[:4]))
    else:
        print("%s: relative error %.2g" % (name, err))
print("\n".join(bad) if bad else "agree")
