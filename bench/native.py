#!/usr/bin/env python3
"""bench/native.py: the figures of native executables and the kernel cache (bench/README.md).

    bench/native.py [--repeat N] [--model models/mnist.cnn] [--images N]

Measures, on the same model and data, in one invocation:
  - `cnnc build` time, with an empty kernel cache (cold) and with a warm one;
  - the executable's start-up: `EXE summary`, median of 21 runs;
  - `cnnc run`'s time to its first training step (the "Training ..." line, after data and kernels
    are loaded) with a warm cache, against a JIT run (--no-cache);
  - training speed (ms/step of one epoch) and inference speed (the evaluation's per-step time) of
    the three paths: JIT, the disk cache, the executable; medians over --repeat runs, alternating;
  - predict throughput on --images PGM files cut from MNIST's test set, whole process (start-up,
    decoding, inference): `cnnc predict` JIT and cached against the executable.
Needs MNIST in data/mnist (scripts/fetch-mnist) and a built cnnc (scripts/build).
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CNNC = os.path.join(ROOT, os.environ.get("BUILD_DIR", "build"), "compiler", "cnnc")


def run(args, env, cwd=ROOT):
    t0 = time.perf_counter()
    p = subprocess.run(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"bench/native.py: {' '.join(args)} failed:\n{p.stdout}")
    return dt, p.stdout


def time_to_line(args, env, prefix):
    """Seconds from starting `args` until it prints a line starting with `prefix`; then kills it."""
    t0 = time.perf_counter()
    p = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in p.stdout:
        if line.startswith(prefix):
            dt = time.perf_counter() - t0
            p.kill()
            p.wait()
            return dt
    p.wait()
    sys.exit(f"bench/native.py: {' '.join(args)} never printed {prefix!r}")


def timed_lines(args, env):
    """Runs `args`; returns its output lines, each with the seconds since the start when it came."""
    t0 = time.perf_counter()
    p = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = [(time.perf_counter() - t0, line) for line in p.stdout]
    if p.wait() != 0:
        sys.exit(f"bench/native.py: {' '.join(args)} failed:\n" + "".join(l for _, l in lines))
    return lines


def phase_ms_per_step(lines, start, steps_re=r"^(\d+)/\1 \["):
    """Milliseconds per step of the phase that begins at the line starting with `start` and ends at
    the next progress line ("938/938 [===..."): measured here, to the millisecond, rather than read
    from the progress line, which rounds like Keras."""
    for i, (t, line) in enumerate(lines):
        if line.startswith(start):
            for t2, l2 in lines[i + 1:]:
                m = re.match(steps_re, l2)
                if m:
                    return 1e3 * (t2 - t) / int(m.group(1))
    sys.exit("bench/native.py: no phase " + repr(start) + " in:\n" + "".join(l for _, l in lines))


def write_pgms(dir, n):
    with open(os.path.join(ROOT, "data/mnist/t10k-images-idx3-ubyte"), "rb") as f:
        data = f.read()
    paths = []
    for i in range(n):
        px = data[16 + i * 784:16 + (i + 1) * 784]
        path = os.path.join(dir, f"digit{i:04d}.pgm")
        with open(path, "wb") as out:
            out.write(b"P5\n28 28\n255\n" + px)
        paths.append(path)
    return paths


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--model", default="models/mnist.cnn")
    ap.add_argument("--images", type=int, default=500)
    o = ap.parse_args()
    if not os.path.exists(os.path.join(ROOT, "data/mnist/t10k-images-idx3-ubyte")):
        sys.exit("bench/native.py: MNIST is not in data/mnist (unzipped); run scripts/fetch-mnist")
    tmp = tempfile.mkdtemp(prefix="cnnc-native-")
    env = dict(os.environ, CNNC_CACHE_DIR=os.path.join(tmp, "cache"), HL_NUM_THREADS=os.environ.get("THREADS", "2"))
    exe = os.path.join(tmp, "model_exe")
    fig = {}
    try:
        fig["build_cold_s"], out = run([CNNC, "build", o.model, "-o", exe], env)
        print(out.strip())
        fig["build_warm_s"], _ = run([CNNC, "build", o.model, "-o", exe], env)
        fig["exe_mb"] = os.path.getsize(exe) / 1e6
        starts = [run([exe, "summary"], env)[0] for _ in range(21)]
        fig["exe_summary_ms"] = 1e3 * statistics.median(starts)
        fig["cnnc_summary_ms"] = 1e3 * statistics.median(run([CNNC, "summary", o.model], env)[0] for _ in range(21))

        outdir = os.path.join(tmp, "out")
        train = ["--epochs", "1", "--seed", "1", "--output-dir", outdir]
        run([CNNC, "run", o.model] + train, env)  # links the cached objects into shared ones
        first_cached = [time_to_line([CNNC, "run", o.model] + train, env, "Training ") for _ in range(o.repeat)]
        first_jit = [time_to_line([CNNC, "run", o.model, "--no-cache"] + train, env, "Training ") for _ in range(o.repeat)]
        fig["first_step_cached_s"] = statistics.median(first_cached)
        fig["first_step_jit_s"] = statistics.median(first_jit)

        paths = {"jit": [CNNC, "run", o.model, "--no-cache"], "cache": [CNNC, "run", o.model], "exe": [exe, "train"]}
        train_ms = {k: [] for k in paths}
        infer_ms = {k: [] for k in paths}
        for _ in range(o.repeat):
            for k, cmd in paths.items():
                lines = timed_lines(cmd + train, env)
                train_ms[k].append(phase_ms_per_step(lines, "Epoch 1/"))
                infer_ms[k].append(phase_ms_per_step(lines, "Evaluating "))
        for k in paths:
            fig[f"train_ms_per_step_{k}"] = statistics.median(train_ms[k])
            fig[f"eval_ms_per_step_{k}"] = statistics.median(infer_ms[k])

        weights = os.path.join(outdir, [f for f in os.listdir(outdir) if f.endswith(".weights.h5")][0])
        imgs = write_pgms(tmp, o.images)
        for k, cmd in {"jit": [CNNC, "predict", o.model, "--no-cache"], "cache": [CNNC, "predict", o.model], "exe": [exe, "predict"]}.items():
            ts = [run(cmd + ["--weights", weights] + imgs, env)[0] for _ in range(o.repeat)]
            fig[f"predict_img_per_s_{k}"] = o.images / statistics.median(ts)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nbench/native.py: {o.model}, medians of {o.repeat} (start-up: of 21)")
    rows = [
        ("cnnc build, empty kernel cache", f"{fig['build_cold_s']:.1f} s", "target <= 30 s"),
        ("cnnc build, warm kernel cache", f"{fig['build_warm_s']:.1f} s", ""),
        ("executable size", f"{fig['exe_mb']:.1f} MB", ""),
        ("EXE summary (process start to exit)", f"{fig['exe_summary_ms']:.1f} ms", f"target <= 50 ms; cnnc summary {fig['cnnc_summary_ms']:.1f} ms"),
        ("cnnc run to first training step, cached", f"{fig['first_step_cached_s']:.2f} s", "target <= 1 s"),
        ("cnnc run to first training step, JIT", f"{fig['first_step_jit_s']:.2f} s",
         f"cached is {fig['first_step_jit_s'] / fig['first_step_cached_s']:.1f}x sooner"),
    ]
    for k in ("jit", "cache", "exe"):
        rows.append((f"training ms/step, {k}", f"{fig[f'train_ms_per_step_{k}']:.2f}",
                     f"{fig[f'train_ms_per_step_{k}'] / fig['train_ms_per_step_jit']:.3f}x JIT"))
    for k in ("jit", "cache", "exe"):
        rows.append((f"evaluation ms/step, {k}", f"{fig[f'eval_ms_per_step_{k}']:.3f}",
                     f"{fig[f'eval_ms_per_step_{k}'] / fig['eval_ms_per_step_jit']:.3f}x JIT"))
    for k in ("jit", "cache", "exe"):
        rows.append((f"predict images/s ({o.images} PGM files, whole process), {k}", f"{fig[f'predict_img_per_s_{k}']:.0f}",
                     f"{fig[f'predict_img_per_s_{k}'] / fig['predict_img_per_s_jit']:.3f}x JIT"))
    w = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"  {name:<{w}}  {value:>10}  {note}")


if __name__ == "__main__":
    main()
