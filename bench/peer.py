#!/usr/bin/env python3
"""The PyTorch peer of `researchkit bench`: the same network shape, the same loops, the same figures.

ResNet-18 as the packaged model has it (stages of 2, 2, 2 and 3 basic blocks, BGR/255/mean-image input replaced by a
plain scale since weights are random), CPU, no downloads. Prints one JSON object.

Usage: peer.py [--precision fp32|bf16] [--threads N] [--only activation-max|lucid|dream|passes] [--rss-steps N]
  fp32: float32, contiguous (NCHW) tensors, as PyTorch runs by default.
  bf16: torch.autocast("cpu", dtype=torch.bfloat16) with the network and its input in channels-last, PyTorch's own
        fastest CPU path on AVX512_BF16 -- what the kit's `--kernels bf16` is compared with.
Run it with glibc keeping freed memory (MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=10000000000), as
bench/run.sh does: otherwise PyTorch pays ~1,400 page faults a step here.
"""
import argparse, contextlib, json, math, os, random, time
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None if stride == 1 and cin == cout else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


class ResNet18(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        spec = [(64, 64, 1, 2), (64, 128, 2, 2), (128, 256, 2, 2), (256, 512, 2, 3)]
        self.stages = nn.ModuleList(nn.Sequential(*[Block(cin if i == 0 else cout, cout, s if i == 0 else 1) for i in range(n)])
                                    for cin, cout, s, n in spec)

    def forward(self, x, stop=4):
        x = self.stem(x * 255.0 - 120.0)
        for k, stage in enumerate(self.stages[:stop]):
            x = stage(x)
        return x if stop < 4 else F.adaptive_avg_pool2d(x, 1)


class Precision:
    """How the network runs: float32 as is, or bfloat16 autocast in channels-last."""

    def __init__(self, name, model):
        self.name = name
        self.bf16 = name == "bf16"
        if self.bf16:
            model.to(memory_format=torch.channels_last)

    def run(self, model, x, stop=3):
        if not self.bf16:
            return model(x, stop)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return model(x.contiguous(memory_format=torch.channels_last), stop).float()


def median_ms(fn, repeats=10, warmup=10):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return sorted(times)[len(times) // 2]


def rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def timed_steps(steps, step):
    """Runs `steps` steps; returns the time after each (seconds since the first began)."""
    times, start = [], time.perf_counter()
    for _ in range(steps):
        step()
        times.append(time.perf_counter() - start)
    return times


def warm_rate(times, first=20):
    """Steps per second from step `first` to the last: start-up excluded, warm-up included (as a user sees it)."""
    return (len(times) - first) / (times[-1] - times[first - 1])


def activation_max(model, precision, steps, seed=0):
    """Pixel parameters (sigmoid), jitter 8, Adam 0.05, channel 7 of layer3, 224²: the kit's bench loop."""
    g = torch.Generator().manual_seed(seed)
    param = (torch.randn(1, 3, 224, 224, generator=g) * 0.01).requires_grad_()
    opt = torch.optim.Adam([param], lr=0.05)
    rng = torch.Generator().manual_seed(seed)

    def step():
        image = torch.sigmoid(param)
        dy, dx = torch.randint(0, 9, (2,), generator=rng).tolist()
        crop = image[:, :, dy:dy + 216, dx:dx + 216]
        loss = -precision.run(model, crop)[:, 7].mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return timed_steps(steps, step)


# Lucid's decorrelated colour: the square root of ImageNet's colour covariance, divided by its largest column norm.
COLOR = torch.tensor([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
COLOR = COLOR / COLOR.norm(dim=0).max()


def lucid_path(model, precision, steps, size=224, seed=0):
    """Lucid's render_vis defaults, as the kit's `lucid` preset has them: Fourier parameters with 1/f scaling and
    decorrelated colour, sigmoid; pad 12 (grey), jitter 8, scale 0.9..1.1, rotate -10..10°, jitter 4; Adam 0.05."""
    g = torch.Generator().manual_seed(seed)
    spectrum = (torch.randn(1, 3, size, size // 2 + 1, 2, generator=g) * 0.01).requires_grad_()
    fy, fx = torch.fft.fftfreq(size)[:, None], torch.fft.rfftfreq(size)[None, :]
    scale = (fy * fy + fx * fx).sqrt().clamp_min(1.0 / size).pow(-1.0).reshape(1, 1, size, size // 2 + 1, 1)
    opt = torch.optim.Adam([spectrum], lr=0.05)
    rng = random.Random(seed)
    scales = [1 + (i - 5) / 50 for i in range(11)]
    angles = list(range(-10, 11)) + [0] * 5

    def jitter(x, d):
        h, w = x.shape[-2:]
        dy, dx = rng.randint(0, d), rng.randint(0, d)
        return x[:, :, dy:dy + h - d, dx:dx + w - d]

    def step():
        raw = torch.fft.irfft2(torch.view_as_complex(spectrum * scale), s=(size, size), norm="ortho") / 4
        image = torch.einsum("ij,njhw->nihw", COLOR, raw).sigmoid()
        x = jitter(F.pad(image, [12] * 4, value=0.5), 8)
        s, h = rng.choice(scales), x.shape[-1]
        if round(s * h) != h:
            x = F.interpolate(x, size=(round(s * h), round(s * h)), mode="bilinear", align_corners=False)
        a = math.radians(rng.choice(angles))
        theta = torch.tensor([[[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0]]])
        x = F.grid_sample(x, F.affine_grid(theta, list(x.shape), align_corners=False), mode="bilinear", padding_mode="border", align_corners=False)
        x = jitter(x, 4)
        loss = -precision.run(model, x)[:, 7].mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return timed_steps(steps, step)


def dream(model, precision, image, octaves=4, scale=1.4, steps=10, step_size=1.5 / 255, jitter=32):
    sizes = [image.shape[-2:]]
    for _ in range(octaves - 1):
        h, w = sizes[-1]
        sizes.append((int(round(h / scale)), int(round(w / scale))))
    sizes.reverse()
    detail = torch.zeros(1, 3, *sizes[0])
    for h, w in sizes:
        base = F.interpolate(image, size=(h, w), mode="bilinear", align_corners=False)
        detail = F.interpolate(detail, size=(h, w), mode="bilinear", align_corners=False)
        x = (base + detail).clone()
        for _ in range(steps):
            oy, ox = torch.randint(-jitter, jitter + 1, (2,)).tolist()
            x = torch.roll(x, (oy, ox), (2, 3)).requires_grad_()
            precision.run(model, x).pow(2).mean().backward()
            g = x.grad
            with torch.no_grad():
                x = (x + step_size / (g.abs().mean() + 1e-8) * g).clamp(0, 1)
                x = torch.roll(x, (-oy, -ox), (2, 3))
        detail = x - base
    return x


def conv_gflop(model, precision, x):
    """GFLOP (2 x multiply-adds) of the convolutions one forward pass to layer3 runs."""
    total, hooks = [0.0], []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(lambda m, i, o: total.__setitem__(0, total[0] + 2.0 * o.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1])))
    with torch.no_grad():
        precision.run(model, x)
    for h in hooks:
        h.remove()
    return total[0] / 1e9


def matmul_gflops(dtype, size):
    a, b = torch.rand(size, size).to(dtype), torch.rand(size, size).to(dtype)
    return 2.0 * size ** 3 / (median_ms(lambda: torch.mm(a, b), repeats=5, warmup=2) / 1000) / 1e9


def passes(model, precision):
    """The kit's `bench --only passes`: the activation-max step at steady state, its forward pass (autograd recording)
    and backward pass to the input timed alone at the step's shape (216²), and the machine's matrix-product peak."""
    times = activation_max(model, precision, 160)
    step_ms = (times[159] - times[59]) / 100 * 1000
    image = torch.rand(1, 3, 216, 216)

    def forward():
        return precision.run(model, image.clone().requires_grad_())[:, 7]
    forward_ms = median_ms(forward, repeats=20)
    both_ms = median_ms(lambda: forward().mean().backward(), repeats=20)
    gflop = conv_gflop(model, precision, image)
    return {"stepMs": step_ms, "forwardMs": forward_ms, "backwardMs": both_ms - forward_ms, "restMs": step_ms - both_ms,
            "convGigaFlop": gflop, "forwardGigaFlopsPerSecond": gflop / (forward_ms / 1000),
            "backwardGigaFlopsPerSecond": gflop / ((both_ms - forward_ms) / 1000), "stepGigaFlopsPerSecond": 2 * gflop / (step_ms / 1000),
            "matmulGigaFlops": matmul_gflops(torch.float32, 2048), "matmulBFloat16GigaFlops": matmul_gflops(torch.bfloat16, 1024)}


def dream_seconds(model, precision):
    t = time.perf_counter()
    dream(model, precision, torch.rand(1, 3, 512, 512))
    return time.perf_counter() - t


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--only", choices=["activation-max", "lucid", "dream", "passes"])
    parser.add_argument("--steps", type=int, default=220, help="steps of the activation-max and Lucid figures (timed from step 20)")
    parser.add_argument("--rss-steps", type=int, default=2000)
    args = parser.parse_args()
    # Debian's build starts with one thread; the kit uses every core, so the peer must too.
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = ResNet18().eval()
    for p in model.parameters():
        p.requires_grad_(False)
    precision = Precision(args.precision, model)
    figures = {"who": "pytorch", "precision": args.precision, "threads": torch.get_num_threads(), "torch": torch.__version__}
    # Each figure is measured first thing in a fresh process (bench/run.sh starts one per figure), so warm-up counts.
    if args.only == "activation-max":
        figures["activationMaxStepsPerSecond"] = warm_rate(activation_max(model, precision, args.steps))
    elif args.only == "lucid":
        figures["lucidStepsPerSecond"] = warm_rate(lucid_path(model, precision, args.steps))
    elif args.only == "dream":
        figures["dream512Seconds"] = dream_seconds(model, precision)
    elif args.only == "passes":
        figures.update(passes(model, precision))
    else:
        image = torch.rand(1, 3, 224, 224)
        with torch.no_grad():
            figures["forwardMs"] = median_ms(lambda: precision.run(model, image, stop=4))

        def fwd_bwd():
            x = image.clone().requires_grad_()
            precision.run(model, x, stop=4).mean().backward()
        figures["forwardBackwardMs"] = median_ms(fwd_bwd, warmup=30)
        figures["activationMaxStepsPerSecond"] = warm_rate(activation_max(model, precision, args.steps))
        figures["dream512Seconds"] = dream_seconds(model, precision)
        activation_max(model, precision, 50)
        before = rss_bytes()
        activation_max(model, precision, args.rss_steps)
        figures["rssGrowthPercent"] = 100.0 * (rss_bytes() - before) / before
        figures["rssSteps"] = args.rss_steps
    figures["loadAverage"] = load_average()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
