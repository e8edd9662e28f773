"""Benchmark: coursekit.nn (NumPy) against torch on CPU, same shapes, same process, float32.

Times (median of several repetitions):
  1. conv2d forward + backward: batch 64, 16 -> 32 channels, 3x3 kernel, padding 1, 28x28
  2. LSTM forward + backward over 50 steps: batch 32, 32 inputs, 64 hidden units
  3. one full training step (forward, backward, Adam) of a LeNet-style CNN, batch 64, 28x28
and prints the ratio coursekit / torch (goal for conv2d: within 5x). Then trains the
NumPy-only LeNet on scikit-learn digits and reports its test accuracy and time
(goal: >= 97 % in under a minute).

Both libraries get the same number of threads (``--threads``, default 1): on a
shared machine multi-threaded BLAS calls on small matrices slow down erratically,
which would make the comparison meaningless.

    python benchmarks/bench_nn.py [--threads N] [--repeat R] [--skip-digits]
"""

import argparse
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as TF
from threadpoolctl import threadpool_limits

from coursekit.data import load_digits, random_shift
from coursekit.nn import functional as F
from coursekit.nn.lenet import LeNet
from coursekit.nn.optim import Adam
from coursekit.nn.schedules import CosineAnnealing


def train_lenet_on_digits(epochs=15, batch_size=32, lr=3e-3, image_size=16, max_shift=1, seed=0):
    """Train :class:`LeNet` with Adam and a cosine learning-rate schedule on
    scikit-learn's digits (via ``coursekit.data``, 25 % held out for testing), with
    random shifts of up to ``max_shift`` pixels as augmentation (0 turns it off).

    Returns ``(model, test_accuracy, losses)`` where losses lists the mean training
    loss of every epoch. With the defaults: about 98-99 % test accuracy.
    """
    split = load_digits(image_size=image_size, seed=seed)
    x_train, y_train = split.X_train.astype(np.float64), split.y_train
    model = LeNet(image_size=image_size, rng=seed)
    optimizer = Adam(model.params, lr=lr)
    schedule = CosineAnnealing(lr, total_steps=epochs)
    rng = np.random.default_rng(seed)
    epoch_losses = []
    for epoch in range(epochs):
        optimizer.lr = schedule(epoch)
        order = rng.permutation(len(x_train))
        batch_losses = []
        for idx in np.array_split(order, max(1, len(order) // batch_size)):
            x_batch = random_shift(x_train[idx], max_shift, rng) if max_shift else x_train[idx]
            batch_losses.append(model.train_step(x_batch, y_train[idx], optimizer))
        epoch_losses.append(float(np.mean(batch_losses)))
    accuracy = float(np.mean(model.predict(split.X_test.astype(np.float64)) == split.y_test))
    return model, accuracy, epoch_losses


def median_seconds(fn, repeat, warmup=1):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_conv2d(rng, repeat):
    x = rng.standard_normal((64, 16, 28, 28)).astype(np.float32)
    w = (0.1 * rng.standard_normal((32, 16, 3, 3))).astype(np.float32)
    b = np.zeros(32, dtype=np.float32)
    dout = rng.standard_normal((64, 32, 28, 28)).astype(np.float32)

    def ours():
        _, cache = F.conv2d_forward(x, w, b, padding=1)
        F.conv2d_backward(dout, cache)

    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    dt = torch.tensor(dout)

    def theirs():
        TF.conv2d(xt, wt, bt, padding=1).backward(dt)

    return median_seconds(ours, repeat), median_seconds(theirs, repeat)


def bench_lstm(rng, repeat):
    n, steps, d, h = 32, 50, 32, 64
    x = rng.standard_normal((n, steps, d)).astype(np.float32)
    weights = [(0.1 * rng.standard_normal(s)).astype(np.float32)
               for s in ((4 * h, d), (4 * h, h), (4 * h,), (4 * h,))]
    dhs = rng.standard_normal((n, steps, h)).astype(np.float32)

    def ours():
        _, cache = F.lstm_forward(x, None, None, *weights)
        F.lstm_backward(dhs, cache)

    lstm = torch.nn.LSTM(d, h, batch_first=True)
    xt, dt = torch.tensor(x, requires_grad=True), torch.tensor(dhs)

    def theirs():
        lstm(xt)[0].backward(dt)

    return median_seconds(ours, repeat), median_seconds(theirs, repeat)


def bench_cnn_train_step(rng, repeat):
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, size=64)
    model = LeNet(image_size=28, rng=0, dtype=np.float32)
    optimizer = Adam(model.params, lr=1e-3)

    torch_model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(400, 120), torch.nn.ReLU(), torch.nn.Linear(120, 84), torch.nn.ReLU(),
        torch.nn.Linear(84, 10))
    torch_optimizer = torch.optim.Adam(torch_model.parameters(), lr=1e-3)
    xt, yt = torch.tensor(x), torch.tensor(y)

    def theirs():
        torch_optimizer.zero_grad()
        TF.cross_entropy(torch_model(xt), yt).backward()
        torch_optimizer.step()

    return median_seconds(lambda: model.train_step(x, y, optimizer), repeat), \
        median_seconds(theirs, repeat)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--skip-digits", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    rows = []
    with threadpool_limits(args.threads):
        for name, bench, goal in (
            ("conv2d fwd+bwd 64x16x28x28, 3x3 -> 32", bench_conv2d, 5.0),
            ("LSTM fwd+bwd, 50 steps, 32x32 -> 64", bench_lstm, None),
            ("LeNet train step (Adam), 64x1x28x28", bench_cnn_train_step, None),
        ):
            ours, theirs = bench(rng, args.repeat)
            rows.append((name, ours, theirs, goal))
        print(f"coursekit.nn vs torch {torch.__version__} on CPU, float32, {args.threads} thread(s)")
        print(f"{'benchmark':42s} {'coursekit ms':>12s} {'torch ms':>9s} {'ratio':>7s}  goal")
        for name, ours, theirs, goal in rows:
            ratio = ours / theirs
            verdict = "" if goal is None else (f"<= {goal:g}x " + ("ok" if ratio <= goal else "MISSED"))
            print(f"{name:42s} {1e3 * ours:12.2f} {1e3 * theirs:9.2f} {ratio:6.2f}x  {verdict}")
        if not args.skip_digits:
            start = time.perf_counter()
            _, accuracy, _ = train_lenet_on_digits(seed=0)
            seconds = time.perf_counter() - start
            ok = "ok" if accuracy >= 0.97 and seconds < 60 else "MISSED"
            print(f"NumPy LeNet on digits (16x16, 15 epochs): test accuracy {100 * accuracy:.2f} %, "
                  f"{seconds:.1f} s  (goal >= 97 % in < 60 s: {ok})")


if __name__ == "__main__":
    main()
