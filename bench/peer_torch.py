#!/usr/bin/python3
"""The PyTorch peer of cnnc_bench: the same figures, under the same names, for the seed's models
written in PyTorch (Debian's python3-torch), on this machine.

Usage: /usr/bin/python3 bench/peer_torch.py [--mnist DIR] [--steps N] [--warmup N] [--infer-batch N]
                                           [--no-catsdogs] [--no-stages] [--channels-last]
Prints one line per figure: `name value unit [# note]`.

Same model (93,322 parameters: Conv 32, pool, Conv 64, pool, Conv 64, Dense 64, Dense 10), same data
(MNIST scaled by float32(1/255), as cnnc's `rescale = 1/255`), batch 64, Keras-default RMSprop
(lr 1e-3, rho 0.9, eps 1e-7), cross-entropy on the logits (what cnnc's fused softmax computes),
Keras initializers (glorot_uniform kernels, zero biases), denormals flushed, 2 threads.
The training step is timed over --steps steps (200 by default) after a warm-up, not over a whole
epoch; the epoch figure is the median step × 938, as in cnnc_bench.
"""
import argparse
import gzip
import os
import resource
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

EPOCH_STEPS = 938  # ceil(60000 / 64)
# The machine's FP32 peak for the fractions of peak. bench/run passes --peak with the value
# cnnc_bench measured (16 AVX-512 or 12 AVX2 FMA chains per thread) so both sides use the same number; alone,
# this script uses 430 GFLOP/s, the Zen 5 figure of ../shared/design/HALIDE-NOTES.md (two cores, two
# 512-bit FMA pipes each). A Zen 4 EPYC (cpu family 25) reaches about 234 on two cores.
PEAK_GFLOPS = 430.0


def figure(name, value, unit, note=""):
    print(f"{name} {value:.6g} {unit}" + (f" # {note}" if note else ""), flush=True)


def info(s):
    print("# " + s, flush=True)


def now():
    return time.perf_counter()


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def own_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def machine_busy():
    with open("/proc/stat") as f:
        v = [float(x) for x in f.readline().split()[1:9]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / os.sysconf("SC_CLK_TCK")


class LoadMeter:
    """Cores this process used, and cores other processes used, since construction."""

    def __init__(self):
        self.t0, self.b0, self.c0 = now(), machine_busy(), own_cpu()

    def own(self):
        return (own_cpu() - self.c0) / (now() - self.t0)

    def others(self):
        return max(0.0, (machine_busy() - self.b0 - (own_cpu() - self.c0)) / (now() - self.t0))


def idx(path):
    if not os.path.exists(path) and os.path.exists(path + ".gz"):
        path += ".gz"
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    nd = magic & 0xFF
    dims = struct.unpack(">" + "I" * nd, data[4:4 + 4 * nd])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * nd).reshape(dims)


def load_mnist(d, part):
    stem = "train" if part == "train" else "t10k"
    x = idx(os.path.join(d, stem + "-images-idx3-ubyte")).astype(np.float32) * np.float32(1 / 255)
    y = idx(os.path.join(d, stem + "-labels-idx1-ubyte")).astype(np.int64)
    return torch.from_numpy(x).unsqueeze(1).contiguous(), torch.from_numpy(y)


def keras_init(m):
    for mod in m.modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(mod.weight)  # glorot_uniform (fans computed the same way)
            if mod.bias is not None:
                nn.init.zeros_(mod.bias)


class Mnist(nn.Module):
    """models/mnist.cnn; torch's Flatten is (c, h, w) where Keras' is (h, w, c): a permutation of
    the first Dense's rows, which changes nothing about speed."""

    def __init__(self):
        super().__init__()
        self.conv2d = nn.Conv2d(1, 32, 3)
        self.conv2d_1 = nn.Conv2d(32, 64, 3)
        self.conv2d_2 = nn.Conv2d(64, 64, 3)
        self.dense = nn.Linear(576, 64)
        self.dense_1 = nn.Linear(64, 10)

    def stages(self):
        """(name, type, forward fn, output is logits for a fused softmax) in cnnc's stage order."""
        return [
            ("conv2d", "Conv2D", lambda x: F.relu(self.conv2d(x))),
            ("max_pooling2d", "MaxPooling2D", lambda x: F.max_pool2d(x, 2)),
            ("conv2d_1", "Conv2D", lambda x: F.relu(self.conv2d_1(x))),
            ("max_pooling2d_1", "MaxPooling2D", lambda x: F.max_pool2d(x, 2)),
            ("conv2d_2", "Conv2D", lambda x: F.relu(self.conv2d_2(x))),
            ("dense", "Dense", lambda x: F.relu(self.dense(x.flatten(1)))),
            ("dense_1", "Dense", lambda x: self.dense_1(x)),  # logits; the softmax is fused into the loss
        ]

    def forward(self, x):
        for _, _, f in self.stages():
            x = f(x)
        return x


class CatsDogs(nn.Module):
    """models/cats_vs_dogs.cnn: Rescaling(1/255), 5 convolutions (32..256) with 4 poolings, Dense(1)."""

    def __init__(self):
        super().__init__()
        ch = [3, 32, 64, 128, 256, 256]
        self.convs = nn.ModuleList(nn.Conv2d(ch[i], ch[i + 1], 3) for i in range(5))
        self.fc = nn.Linear(7 * 7 * 256, 1)

    def stages(self):
        s = [("rescaling", "Rescaling", lambda x: x * (1 / 255))]
        for i, c in enumerate(self.convs):
            s.append(("conv2d" + (f"_{i}" if i else ""), "Conv2D", (lambda c: lambda x: F.relu(c(x)))(c)))
            if i < 4:
                s.append(("max_pooling2d" + (f"_{i}" if i else ""), "MaxPooling2D", lambda x: F.max_pool2d(x, 2)))
        s.append(("dense", "Dense", lambda x: self.fc(x.flatten(1))))
        return s

    def forward(self, x):
        for _, _, f in self.stages():
            x = f(x)
        return x


def train_flops(model, x1, n):
    """A training step's FLOPs for a batch of n, counted as cnnc_bench counts them: the forward,
    plus for each Conv/Dense the weight gradient and, after the first trainable layer, the input
    gradient, each costing the forward's FLOPs of that layer."""
    mods = stage_modules(model)
    total, trainable_before, x = 0.0, False, x1
    with torch.no_grad():
        for name, kind, f in model.stages():
            y = f(x)
            fl = keras_flops(kind, x, y, mods.get(name))
            total += fl
            if kind in ("Conv2D", "Dense"):
                total += fl * (2 if trainable_before else 1)
                trainable_before = True
            x = y
    return total * n


def stage_modules(model):
    if isinstance(model, Mnist):
        return {"conv2d": model.conv2d, "conv2d_1": model.conv2d_1, "conv2d_2": model.conv2d_2,
                "dense": model.dense, "dense_1": model.dense_1}
    mods = {"conv2d" + (f"_{i}" if i else ""): c for i, c in enumerate(model.convs)}
    mods["dense"] = model.fc
    return mods


def keras_flops(kind, x, y, mod=None):
    """Forward FLOPs of one stage for the whole batch, counted as cnnc's LayerNode.flops does
    (a multiply-add is 2; bias adds counted; pooling: one per window element)."""
    out = y.numel()
    if kind == "Conv2D":
        kh, kw = mod.kernel_size
        return 2.0 * out * kh * kw * mod.in_channels + out
    if kind == "Dense":
        return 2.0 * mod.in_features * out + out
    if kind == "MaxPooling2D":
        return 4.0 * out
    return 0.0


def median(v):
    return float(np.median(np.asarray(v)))


def timed(f, reps):
    for _ in range(max(2, reps // 10)):
        f()
    v = []
    for _ in range(reps):
        t0 = now()
        f()
        v.append(now() - t0)
    return median(v)


def time_stages(prefix, model, x, reps, need_dx_first=False):
    """Each stage alone: forward (no autograd) and backward (autograd.grad of the stage alone)."""
    mods = stage_modules(model)
    fwd_sum = bwd_sum = 0.0
    trainable_before = need_dx_first
    for name, kind, f in model.stages():
        with torch.no_grad():
            y = f(x)
        mod = mods.get(name)
        flops = keras_flops(kind, x, y, mod)
        with torch.no_grad():
            t = timed(lambda: f(x), reps)
        fwd_sum += t * 1e3
        figure(f"{prefix}_fwd_ms.{name}", t * 1e3, "ms", kind)
        if flops > 0:
            g = flops / t / 1e9
            figure(f"{prefix}_fwd_gflops.{name}", g, "GFLOP/s", f"{flops / 1e6:.1f} MFLOP")
            figure(f"{prefix}_fwd_peak_frac.{name}", g / PEAK_GFLOPS, "frac")
        params = list(mod.parameters()) if mod is not None else []
        need_dx = trainable_before
        if params or need_dx:
            xi = x.detach().clone().requires_grad_(need_dx)
            yo = f(xi)
            dy = torch.empty_like(yo).uniform_(-1e-3, 1e-3)
            wrt = ([xi] if need_dx else []) + params
            tb = timed(lambda: torch.autograd.grad(yo, wrt, dy, retain_graph=True), reps)
            bwd_sum += tb * 1e3
            figure(f"{prefix}_bwd_ms.{name}", tb * 1e3, "ms", ("dW and dx" if need_dx else "dW only") if params else "dx")
            if flops > 0 and kind in ("Conv2D", "Dense"):
                figure(f"{prefix}_bwd_gflops.{name}", flops * (2 if need_dx else 1) / tb / 1e9, "GFLOP/s",
                       "estimate: forward FLOPs x (1 + dx)")
        trainable_before = trainable_before or bool(params)
        x = y
    figure(f"{prefix}_fwd_stage_sum_ms", fwd_sum, "ms")
    figure(f"{prefix}_bwd_stage_sum_ms", bwd_sum, "ms")


def mnist_flops_per_sample(m):
    x = torch.zeros(1, 1, 28, 28)
    total = 0.0
    mods = {"conv2d": m.conv2d, "conv2d_1": m.conv2d_1, "conv2d_2": m.conv2d_2, "dense": m.dense, "dense_1": m.dense_1}
    with torch.no_grad():
        for name, kind, f in m.stages():
            y = f(x)
            total += keras_flops(kind, x, y, mods.get(name))
            x = y
    return total


def bench_mnist(a):
    t0 = now()
    xtr, ytr = load_mnist(a.mnist, "train")
    xte, yte = load_mnist(a.mnist, "test")
    figure("mnist_load_s", now() - t0, "s")
    m = Mnist()
    keras_init(m)
    figure("mnist_params", sum(p.numel() for p in m.parameters()), "count")
    fps = mnist_flops_per_sample(m)
    figure("mnist_fwd_mflop_per_sample", fps / 1e6, "MFLOP")
    # Keras' rates; PyTorch puts eps outside the square root (Keras: sqrt(v + eps)), which costs the same time.
    opt = torch.optim.RMSprop(m.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    g = torch.Generator().manual_seed(1337)
    perm = torch.randperm(len(xtr), generator=g)
    per_epoch = len(xtr) // 64

    def step(s):
        b = perm[(s % per_epoch) * 64:(s % per_epoch) * 64 + 64]
        xb, yb = xtr[b], ytr[b]
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(m(xb), yb)
        loss.backward()
        opt.step()
        return loss.item()

    m.train()
    for s in range(a.warmup):
        step(s)
    times, losses = [], []
    load = LoadMeter()
    for s in range(a.steps):
        t = now()
        losses.append(step(a.warmup + s))
        times.append(now() - t)
    own, others = load.own(), load.others()
    med = median(times)
    figure("mnist_train_step_ms", med * 1e3, "ms", f"median of {a.steps} steps after {a.warmup} warm-up")
    figure("mnist_train_step_mean_ms", float(np.mean(times)) * 1e3, "ms")
    figure("mnist_train_step_p10_ms", float(np.percentile(times, 10)) * 1e3, "ms")
    figure("mnist_train_step_p90_ms", float(np.percentile(times, 90)) * 1e3, "ms")
    figure("mnist_epoch_s", med * EPOCH_STEPS, "s", f"extrapolated: median of {a.steps} steps x 938 (not a full epoch)")
    figure("mnist_train_cpu_util", own, "cores")
    figure("mnist_train_other_load", others, "cores", "CPU used by other processes meanwhile (noise)")
    tf = train_flops(m, torch.zeros(1, 1, 28, 28), 64)
    figure("mnist_train_mflop_per_step", tf / 1e6, "MFLOP", "forward + dW + dx where computed (no dx for the first conv)")
    figure("mnist_train_gflops", tf / med / 1e9, "GFLOP/s")
    figure("mnist_train_peak_frac", tf / med / 1e9 / PEAK_GFLOPS, "frac")
    figure("mnist_train_loss_first20", float(np.mean(losses[:20])), "loss")
    figure("mnist_train_loss_last20", float(np.mean(losses[-20:])), "loss", f"after {a.warmup + a.steps} steps")

    m.eval()
    xb = xtr[perm[:64]]
    with torch.no_grad():
        fwd = timed(lambda: m(xb), max(10, a.stage_reps))
    figure("mnist_fwd_ms", fwd * 1e3, "ms", "whole forward pass, batch 64")
    figure("mnist_fwd_gflops", fps * 64 / fwd / 1e9, "GFLOP/s")
    figure("mnist_fwd_peak_frac", fps * 64 / fwd / 1e9 / PEAK_GFLOPS, "frac")
    if a.stages:
        time_stages("mnist", m, xb, a.stage_reps)

    for bi, ib in enumerate(a.infer_batch):
        passes, correct = [], 0
        with torch.no_grad():
            for p in range(-1, a.infer_passes):
                t = now()
                c = 0
                for i in range(0, len(xte), ib):
                    c += (m(xte[i:i + ib]).argmax(1) == yte[i:i + ib]).sum().item()
                if p >= 0:
                    passes.append(now() - t)
                correct = c
        if bi == 0:
            figure("mnist_infer_img_per_s", len(xte) / median(passes), "img/s",
                   f"batch {ib}, median of {a.infer_passes} passes over 10,000 test images")
            figure("mnist_infer_batch", ib, "count")
            figure("mnist_infer_peak_frac", fps * len(xte) / median(passes) / 1e9 / PEAK_GFLOPS, "frac")
            figure("mnist_test_acc", correct / len(xte), "frac", f"after {a.warmup + a.steps} training steps")
        else:
            figure(f"mnist_infer_img_per_s.b{ib}", len(xte) / median(passes), "img/s", f"batch {ib}, median of {a.infer_passes} passes")
    figure("mnist_peak_rss_mb", peak_rss_mb(), "MB", "peak RSS after data, training and inference (torch import included)")


def bench_train_step(a, prefix, m, x, y, loss_fn, steps, warmup, flops):
    """Times training steps of `m` on one fixed batch (RMSprop as cnnc's), prints the
    `<prefix>_train_*` figures; `flops(m)` is the step's FLOPs. Returns the (possibly
    channels_last) model and input."""
    opt = torch.optim.RMSprop(m.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    if a.channels_last:
        m = m.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(m(x), y).backward()
        opt.step()

    for _ in range(warmup):
        step()
    v = []
    load = LoadMeter()
    for _ in range(steps):
        t = now()
        step()
        v.append(now() - t)
    own, others = load.own(), load.others()
    med = median(v)
    fmt = "channels_last" if a.channels_last else "NCHW"
    figure(f"{prefix}_train_step_ms", med * 1e3, "ms",
           f"batch {x.shape[0]}, {fmt}, median of {steps} steps after {warmup} warm-up, random input")
    figure(f"{prefix}_train_cpu_util", own, "cores")
    figure(f"{prefix}_train_other_load", others, "cores", "CPU used by other processes meanwhile (noise)")
    tf = flops(m)
    figure(f"{prefix}_train_mflop_per_step", tf / 1e6, "MFLOP", "forward + dW + dx where computed (no dx for the first conv)")
    figure(f"{prefix}_train_gflops", tf / med / 1e9, "GFLOP/s")
    figure(f"{prefix}_train_peak_frac", tf / med / 1e9 / PEAK_GFLOPS, "frac")
    return m, x


def bench_catsdogs(a):
    m = CatsDogs()
    keras_init(m)
    figure("catsdogs_params", sum(p.numel() for p in m.parameters()), "count")
    g = torch.Generator().manual_seed(3)
    x = torch.rand(32, 3, 180, 180, generator=g) * 255  # the model rescales by 1/255 itself
    y = torch.randint(0, 2, (32, 1), generator=g).float()
    m, x = bench_train_step(a, "catsdogs", m, x, y, F.binary_cross_entropy_with_logits, a.cd_steps, a.cd_warmup,
                            lambda m: train_flops(m, torch.zeros(1, 3, 180, 180), 32))
    if a.stages:
        time_stages("catsdogs", m, x, a.cd_stage_reps)


class ResNet20(nn.Module):
    """models/resnet20_cifar.cnn: He et al. 2015's ResNet-20 for 32x32x3 without batch normalization
    (biases instead, as the .cnn file has until BatchNormalization exists): a 3x3 conv of 16, three
    stages of three basic blocks (16, 32, 64 filters; stride 2 and a 1x1 projection shortcut at the
    first block of stages 2 and 3), global average pooling, Dense(10). PyTorch pads a strided 'same'
    convolution symmetrically where Keras pads bottom/right: the shapes and the work are the same."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.blocks = nn.ModuleList()
        cin = 16
        for filters in (16, 32, 64):
            for b in range(3):
                stride = 2 if b == 0 and filters != 16 else 1
                blk = nn.Module()
                blk.c1 = nn.Conv2d(cin, filters, 3, stride=stride, padding=1)
                blk.c2 = nn.Conv2d(filters, filters, 3, padding=1)
                blk.proj = nn.Conv2d(cin, filters, 1, stride=stride) if stride != 1 else None
                self.blocks.append(blk)
                cin = filters
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.stem(x))
        for b in self.blocks:
            y = b.c2(F.relu(b.c1(x)))
            x = F.relu(y + (b.proj(x) if b.proj is not None else x))
        return self.fc(x.mean((2, 3)))  # logits; the softmax is fused into the loss


def conv_flops(model, x1):
    """Forward FLOPs per sample of each convolution and Dense (a multiply-add counts 2, as cnnc
    counts), in order, with whether an input gradient is computed for it in training (all but the
    first layer with weights)."""
    out = []

    def hook(mod, inp, y):
        w = mod.weight
        per_out = 2 * w[0].numel()  # kh*kw*cin (conv) or in (dense) multiply-adds per output value
        out.append(per_out * y[0].numel())

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = model.training
    model.eval()  # batch normalization in training mode would update its statistics on this probe
    with torch.no_grad():
        model(x1)
    model.train(was_training)
    for h in hs:
        h.remove()
    return out


class ResNet50(nn.Module):
    """stdlib/resnet50.cnn as keras.applications.ResNet50 builds it (ResNet v1.5 is not it: the
    stride sits on the first 1x1 convolution of a stage's first block), with batch normalization
    (epsilon 1.001e-5): conv1 7x7/2 after a 3-pixel zero pad, 3x3/2 max pooling after a 1-pixel pad,
    stages of 3, 4, 6 and 3 bottleneck blocks (64..512 filters, 4x expansion, a 1x1 projection on
    each stage's first block), global average pooling, Dense(classes). Explicit pads and unpadded
    strided convolutions, as in Keras, so the shapes are the same on both sides."""

    def __init__(self, classes):
        super().__init__()
        bn = lambda c: nn.BatchNorm2d(c, eps=1.001e-5, momentum=0.01)
        self.conv1, self.bn1 = nn.Conv2d(3, 64, 7, stride=2), bn(64)
        self.blocks = nn.ModuleList()
        cin = 64
        for filters, n, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            for b in range(n):
                s = stride if b == 0 else 1
                blk = nn.Module()
                blk.c1, blk.b1 = nn.Conv2d(cin, filters, 1, stride=s), bn(filters)
                blk.c2, blk.b2 = nn.Conv2d(filters, filters, 3, padding=1), bn(filters)
                blk.c3, blk.b3 = nn.Conv2d(filters, 4 * filters, 1), bn(4 * filters)
                blk.proj = nn.Sequential(nn.Conv2d(cin, 4 * filters, 1, stride=s), bn(4 * filters)) if b == 0 else None
                self.blocks.append(blk)
                cin = 4 * filters
        self.fc = nn.Linear(2048, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(F.pad(x, (3, 3, 3, 3)))))
        x = F.max_pool2d(F.pad(x, (1, 1, 1, 1)), 3, 2)
        for b in self.blocks:
            y = F.relu(b.b1(b.c1(x)))
            y = F.relu(b.b2(b.c2(y)))
            y = b.b3(b.c3(y))
            x = F.relu(y + (b.proj(x) if b.proj is not None else x))
        return self.fc(x.mean((2, 3)))  # logits; the softmax is fused into the loss


class MobileNetV2(nn.Module):
    """stdlib/mobilenet_v2.cnn at alpha 1.0 as keras.applications.MobileNetV2 builds it: Conv1 3x3/2
    (32), inverted residual blocks (expansion 1x1, depthwise 3x3, linear 1x1 projection, each with
    batch normalization, epsilon 1e-3, and ReLU6 after the first two; an identity shortcut where the
    shape allows), Conv_1 1x1 (1280), global average pooling, Dense(classes). Stride-2 depthwise
    convolutions pad bottom/right by one, as Keras' correct_pad does for an even input."""

    def __init__(self, classes):
        super().__init__()
        bn = lambda c: nn.BatchNorm2d(c, eps=1e-3, momentum=0.001)
        self.conv1, self.bn1 = nn.Conv2d(3, 32, 3, stride=2, bias=False), bn(32)
        self.blocks = nn.ModuleList()
        cin = 32
        for t, c, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                           (6, 320, 1, 1)):
            for i in range(n):
                stride, mid = (s if i == 0 else 1), cin * t
                blk = nn.Module()
                blk.expand = nn.Sequential(nn.Conv2d(cin, mid, 1, bias=False), bn(mid)) if t != 1 else None
                blk.dw, blk.dwbn = nn.Conv2d(mid, mid, 3, stride=stride, padding=0 if stride == 2 else 1, groups=mid,
                                             bias=False), bn(mid)
                blk.project = nn.Sequential(nn.Conv2d(mid, c, 1, bias=False), bn(c))
                blk.stride, blk.residual = stride, stride == 1 and cin == c
                self.blocks.append(blk)
                cin = c
        self.conv_last, self.bn_last = nn.Conv2d(320, 1280, 1, bias=False), bn(1280)
        self.fc = nn.Linear(1280, classes)

    def forward(self, x):
        x = F.relu6(self.bn1(self.conv1(F.pad(x, (0, 1, 0, 1)))))  # Keras' 'same' at stride 2: bottom/right
        for b in self.blocks:
            y = F.relu6(b.expand(x)) if b.expand is not None else x
            if b.stride == 2:
                y = F.pad(y, (0, 1, 0, 1))
            y = b.project(F.relu6(b.dwbn(b.dw(y))))
            x = x + y if b.residual else y
        x = F.relu6(self.bn_last(self.conv_last(x)))
        return self.fc(x.mean((2, 3)))


def bench_classifier(a, prefix, m, size, batch, classes, steps, warmup):
    """A classifier's training step on a random batch (ResNet-20, and the keras.applications-shaped
    models): the forward FLOPs of every convolution and Dense (conv_flops), their weight gradients,
    and input gradients for all but the first, as cnnc_bench counts a step. The parameter count
    includes batch normalization's moving statistics, as Keras counts them."""
    keras_init(m)
    figure(f"{prefix}_params", sum(p.numel() for p in m.parameters()) +
           sum(b.numel() for n, b in m.named_buffers() if n.endswith(("running_mean", "running_var"))), "count")
    g = torch.Generator().manual_seed(3)
    x = torch.rand(batch, 3, size, size, generator=g)
    y = torch.randint(0, classes, (batch,), generator=g)
    fl = conv_flops(m, torch.zeros(1, 3, size, size))
    bench_train_step(a, prefix, m, x, y, F.cross_entropy, steps, warmup,
                     lambda _: batch * (sum(fl) + fl[0] + 2 * sum(fl[1:])))


def main():
    global PEAK_GFLOPS
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mnist", default=os.path.join(here, "..", "data", "mnist"))
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--infer-batch", type=lambda v: [int(b) for b in v.split(",")], default=[1000, 256, 64],
                   help="batch sizes for inference, comma-separated; the first is the headline figure")
    p.add_argument("--peak", type=float, default=PEAK_GFLOPS, help="FP32 peak GFLOP/s for the fractions of peak")
    p.add_argument("--infer-passes", type=int, default=5)
    p.add_argument("--stage-reps", type=int, default=50)
    p.add_argument("--cd-steps", type=int, default=5)
    p.add_argument("--cd-warmup", type=int, default=2)
    p.add_argument("--cd-stage-reps", type=int, default=3)
    p.add_argument("--no-catsdogs", dest="catsdogs", action="store_false")
    p.add_argument("--rn-steps", type=int, default=10)
    p.add_argument("--rn-warmup", type=int, default=2)
    p.add_argument("--no-resnet", dest="resnet", action="store_false")
    p.add_argument("--app-steps", type=int, default=5)
    p.add_argument("--app-warmup", type=int, default=2)
    p.add_argument("--no-apps", dest="apps", action="store_false",
                   help="skip the MobileNetV2- and ResNet50-shaped training steps")
    p.add_argument("--no-stages", dest="stages", action="store_false")
    p.add_argument("--channels-last", action="store_true", help="cats-vs-dogs in channels_last (NHWC) memory format")
    p.add_argument("--threads", type=int, default=int(os.environ.get("THREADS", "2")))
    a = p.parse_args()
    PEAK_GFLOPS = a.peak
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    torch.set_flush_denormal(True)  # as cnnc sets FTZ/DAZ
    info(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, mkldnn {torch.backends.mkldnn.is_available()}, "
         f"batch 64, RMSprop(lr=1e-3, alpha=0.9, eps=1e-7), cross-entropy on logits")
    figure("peak_gflops_used", PEAK_GFLOPS, "GFLOP/s", "for every fraction of peak")
    t0 = now()
    bench_mnist(a)
    if a.catsdogs:
        bench_catsdogs(a)
    if a.resnet:
        bench_classifier(a, "resnet20", ResNet20(), 32, 64, 10, a.rn_steps, a.rn_warmup)
    if a.apps:
        bench_classifier(a, "mobilenetv2", MobileNetV2(10), 96, 32, 10, a.app_steps, a.app_warmup)
        bench_classifier(a, "resnet50", ResNet50(10), 64, 16, 10, a.app_steps, a.app_warmup)
    figure("peak_rss_mb", peak_rss_mb(), "MB", "whole process")
    figure("bench_wall_s", now() - t0, "s")


if __name__ == "__main__":
    main()
