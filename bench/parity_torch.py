#!/usr/bin/python3
"""Replays cnnc's first K MNIST training steps in PyTorch and compares losses, the first step's
output and gradients, and the weights after K steps. A tool, not a test.

    build/bench/cnnc_bench --parity /tmp/parity [--k 20]     # cnnc: writes DIR (see below)
    /usr/bin/python3 bench/parity_torch.py /tmp/parity          # PyTorch: reads it, compares

DIR holds, from cnnc_bench --parity: manifest.txt (param name, file, shape), init/*.npy (initial
weights, Keras layouts), indices.npy (K x 64 training-sample indices: shuffle off, so 0..64K-1),
out0.npy (the softmax output of step 1's batch), grad0/*.npy (step 1's gradients, before the
update), loss.npy (the loss of each step), final/*.npy (weights after K steps), config.txt.

Layouts: a Keras conv kernel (kh, kw, cin, cout) is torch's (cout, cin, kh, kw); a Dense kernel
(in, out) is torch's weight (out, in). Keras' Flatten is (h, w, c) where torch's is (c, h, w), so the
first Dense's rows are permuted: row (h*3 + w)*64 + c in Keras is column c*9 + h*3 + w in torch.

The same K steps also run in float64 from the same float32 initial weights: the float64 run is the
reference against which both float32 engines' errors are shown, side by side.

Expected tolerance, and why. Both engines compute in float32 but sum in different orders (Halide
tiles and vectorizes the reductions over kh*kw*cin and over the batch; oneDNN and MKL do it their
own way), so every value carries a relative rounding error of order sqrt(terms) x 6e-8:
  - step 1's output and loss: about 1e-6 absolute (probabilities and loss are O(1));
  - step 1's gradients: about 1e-5 of the largest gradient of the same weight (batch sums of
    products of activations and back-propagated errors, thousands of terms);
  - losses over K steps: differences start near 1e-7 and grow slowly; up to ~1e-4 after 20 steps is
    float32 noise;
  - weights after K RMSprop steps (Keras' rule, KerasRMSprop below): RMSprop divides each gradient
    by sqrt(v + eps) ~ |g| (on step 1, v = 0.1 g^2, so the update is lr * g / sqrt(0.1 g^2 + eps)
    ~ 3.2e-3 * sign(g) wherever |g| >> 1e-3): an element whose
    gradient is almost zero moves by almost the full 3.2e-3 in a direction decided by rounding noise.
    A handful of elements may therefore differ by up to a few e-3 (the bound is K x 3.2e-3), while
    the bulk agrees to ~1e-6 and the difference's norm stays ~1e-4 of the weights' norm.
So the verdict checks the losses (max |diff| <= 1e-4 + 1e-5 per step), step 1's output (1e-5) and
gradients (1e-4 relative to the largest), and for the weights the relative norm of the difference
(<= 1e-3) and the share of elements off by more than 1e-4 (<= 1 %), not the largest element.
A real bug (a wrong layout, a wrong gradient, a wrong optimizer formula) shows as differences of
order 1e-1 .. 1 on the first step and does not hide inside these bounds. Where cnnc's error against
the float64 reference is of the same size as PyTorch's own, the engines agree to float32 precision.
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


# The same model definition and IDX reader as the benchmark peer (its main() is guarded).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_torch import Mnist, idx  # noqa: E402


# Keras layout <-> torch layout, per parameter ("conv2d/kernel", "dense/bias", ...).
def to_torch(name, a):
    layer, kind = name.split("/")
    if kind == "bias":
        return a
    if layer.startswith("conv2d"):
        return a.transpose(3, 2, 0, 1)  # (kh, kw, cin, cout) -> (cout, cin, kh, kw)
    if layer == "dense":  # the first Dense: rows in Keras' (h, w, c) flatten order
        return a.reshape(3, 3, 64, 64).transpose(3, 2, 0, 1).reshape(64, 576)
    return a.T  # (in, out) -> (out, in)


def to_keras(name, a):
    layer, kind = name.split("/")
    if kind == "bias":
        return a
    if layer.startswith("conv2d"):
        return a.transpose(2, 3, 1, 0)
    if layer == "dense":
        return a.reshape(64, 64, 3, 3).transpose(2, 3, 1, 0).reshape(576, 64)
    return a.T


def torch_param(model, name):
    layer, kind = name.split("/")
    mod = getattr(model, layer)
    return mod.bias if kind == "bias" else mod.weight


class KerasRMSprop:
    """Keras 3's RMSprop (keras/src/optimizers/rmsprop.py) with rmsprop()'s defaults: v = rho v +
    (1 - rho) g^2, w -= lr g / sqrt(v + eps). torch.optim.RMSprop divides by sqrt(v) + eps
    instead, which differs wherever g is small next to sqrt(eps), so it is not the reference."""

    def __init__(self, params, lr=1e-3, rho=0.9, eps=1e-7):
        self.params, self.lr, self.rho, self.eps = params, lr, rho, eps
        self.v = [torch.zeros_like(p) for p in params]

    def zero_grad(self, set_to_none=True):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        for p, v in zip(self.params, self.v):
            v.mul_(self.rho).add_((1 - self.rho) * p.grad * p.grad)
            p.sub_(self.lr * p.grad / torch.sqrt(v + self.eps))


def run(params, init, x_batches, y_batches, dtype, threads):
    """K RMSprop steps in `dtype` from the float32 initial weights: losses, step-1 softmax output
    and gradients (Keras layouts), final weights (Keras layouts)."""
    torch.set_num_threads(threads)
    m = Mnist().to(dtype)
    with torch.no_grad():
        for name in params:
            torch_param(m, name).copy_(torch.from_numpy(np.ascontiguousarray(to_torch(name, init[name]))).to(dtype))
    opt = KerasRMSprop(list(m.parameters()))
    losses, out0, grad0 = [], None, {}
    for s, (xb, yb) in enumerate(zip(x_batches, y_batches)):
        opt.zero_grad(set_to_none=True)
        logits = m(xb.to(dtype))
        loss = F.cross_entropy(logits, yb)
        loss.backward()
        if s == 0:
            out0 = torch.softmax(logits.detach(), 1).numpy()
            grad0 = {n: to_keras(n, torch_param(m, n).grad.detach().numpy().copy()) for n in params}
        opt.step()
        losses.append(loss.item())
    final = {n: to_keras(n, torch_param(m, n).detach().numpy().copy()) for n in params}
    return np.array(losses), out0, grad0, final


def main():
    ap = argparse.ArgumentParser(description="compare cnnc's first K MNIST training steps with PyTorch")
    ap.add_argument("dir", help="the directory cnnc_bench --parity wrote")
    ap.add_argument("--mnist", help="MNIST directory (default: the one in DIR/config.txt)")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_flush_denormal(True)  # as cnnc's FTZ/DAZ
    d = a.dir
    cfg = dict(line.split(" ", 1) for line in open(os.path.join(d, "config.txt")).read().splitlines() if " " in line)
    mnist = a.mnist or cfg["mnist"].strip()
    params, files = [], {}
    for line in open(os.path.join(d, "manifest.txt")):
        if line.startswith("#") or not line.strip():
            continue
        name, fname = line.split()[:2]
        params.append(name)
        files[name] = fname
    init = {n: np.load(os.path.join(d, "init", files[n])) for n in params}
    c_grad0 = {n: np.load(os.path.join(d, "grad0", files[n])) for n in params}
    c_final = {n: np.load(os.path.join(d, "final", files[n])) for n in params}
    c_loss = np.load(os.path.join(d, "loss.npy"))
    c_out0 = np.load(os.path.join(d, "out0.npy"))
    indices = np.load(os.path.join(d, "indices.npy"))
    k = len(indices)

    images = idx(os.path.join(mnist, "train-images-idx3-ubyte"))
    labels = idx(os.path.join(mnist, "train-labels-idx1-ubyte")).astype(np.int64)
    # cnnc's rescale: a float32 multiply by float32(1/255), not a division.
    xs = [torch.from_numpy((images[b].astype(np.float32) * np.float32(1 / 255))[:, None, :, :].copy()) for b in indices]
    ys = [torch.from_numpy(labels[b]) for b in indices]

    t_loss, t_out0, t_grad0, t_final = run(params, init, xs, ys, torch.float32, a.threads)
    r_loss, r_out0, r_grad0, r_final = run(params, init, xs, ys, torch.float64, a.threads)

    print(f"parity: {k} RMSprop steps of models/mnist.cnn, batch {indices.shape[1]}, shuffle off, seed {cfg.get('seed', '?').strip()}")
    print(f"{'step':>4} {'cnnc loss':>12} {'torch loss':>12} {'|cnnc-torch|':>13} {'|cnnc-f64|':>11} {'|torch-f64|':>11}")
    for s in range(k):
        print(f"{s + 1:>4} {c_loss[s]:12.7f} {t_loss[s]:12.7f} {abs(c_loss[s] - t_loss[s]):13.3e} "
              f"{abs(c_loss[s] - r_loss[s]):11.3e} {abs(t_loss[s] - r_loss[s]):11.3e}")
    loss_diff = np.abs(c_loss - t_loss)
    out_diff = float(np.abs(c_out0 - t_out0).max())
    print(f"step 1 softmax output: max |cnnc-torch| {out_diff:.3e}  (|cnnc-f64| {np.abs(c_out0 - r_out0).max():.3e}, "
          f"|torch-f64| {np.abs(t_out0 - r_out0).max():.3e})")

    print(f"\n{'param':<18} {'shape':<16} {'grad1 rel':>10} {'(torch)':>10} {'final max':>10} {'(torch)':>10} "
          f"{'final rel':>10} {'(torch)':>10} {'>1e-4':>7}")
    worst_grad = worst_rel = worst_abs = 0.0
    off_total = n_total = 0
    for n in params:
        g_scale = max(float(np.abs(r_grad0[n]).max()), 1e-30)
        g_c = float(np.abs(c_grad0[n] - t_grad0[n]).max()) / g_scale
        g_t = float(np.abs(t_grad0[n] - r_grad0[n]).max()) / g_scale
        fa = float(np.abs(c_final[n] - t_final[n]).max())
        fa_t = float(np.abs(t_final[n] - r_final[n]).max())
        w_norm = max(float(np.linalg.norm(r_final[n])), 1e-30)
        fr = float(np.linalg.norm(c_final[n] - t_final[n])) / w_norm
        fr_t = float(np.linalg.norm(t_final[n] - r_final[n])) / w_norm
        off = int((np.abs(c_final[n] - t_final[n]) > 1e-4).sum())
        off_total += off
        n_total += c_final[n].size
        worst_grad, worst_rel, worst_abs = max(worst_grad, g_c), max(worst_rel, fr), max(worst_abs, fa)
        print(f"{n:<18} {str(tuple(c_final[n].shape)):<16} {g_c:10.2e} {g_t:10.2e} {fa:10.2e} {fa_t:10.2e} "
              f"{fr:10.2e} {fr_t:10.2e} {off:7d}")
    print("  grad1 rel: max |cnnc - torch| of step 1's gradient / max |gradient| (torch: |torch32 - torch64|)")
    print("  final max: max |cnnc - torch| of the weights after the last step; final rel: ||diff|| / ||w||;"
          " >1e-4: elements off by more than 1e-4")

    checks = [
        ("losses", float(loss_diff.max()) <= 1e-4 + 1e-5 * k, f"max |loss diff| {loss_diff.max():.3e} (step {int(loss_diff.argmax()) + 1})"),
        ("step-1 output", out_diff <= 1e-5, f"max |softmax diff| {out_diff:.3e}"),
        ("step-1 gradients", worst_grad <= 1e-4, f"max relative gradient diff {worst_grad:.3e}"),
        ("final weights", worst_rel <= 1e-3 and off_total <= 0.01 * n_total,
         f"max relative norm diff {worst_rel:.3e}, max |diff| {worst_abs:.3e}, {off_total} of {n_total} elements > 1e-4"),
    ]
    print()
    for name, ok, what in checks:
        print(f"parity {name}: {'OK' if ok else 'MISMATCH'} ({what})")
    print(f"parity_max_loss_diff {loss_diff.max():.6g}")
    print(f"parity_max_weight_diff {worst_abs:.6g}")
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
