#!/usr/bin/env python3
"""The PyTorch peer of `researchkit bench`: the same network shape, the same loops, the same figures.

ResNet-18 as the packaged model has it (stages of 2, 2, 2 and 3 basic blocks, BGR/255/mean-image input replaced by a
plain scale since weights are random), CPU, no downloads. Prints one JSON object.
"""
import json, math, os, resource, sys, time
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


def activation_max(model, steps, seed=0):
    g = torch.Generator().manual_seed(seed)
    param = (torch.randn(1, 3, 224, 224, generator=g) * 0.01).requires_grad_()
    opt = torch.optim.Adam([param], lr=0.05)
    rng = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        image = torch.sigmoid(param)
        dy, dx = torch.randint(0, 9, (2,), generator=rng).tolist()
        crop = image[:, :, dy:dy + 216, dx:dx + 216]
        loss = -model(crop, stop=3)[:, 7].mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def dream(model, image, octaves=4, scale=1.4, steps=10, step_size=1.5 / 255, jitter=32):
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
            model(x, stop=3).pow(2).mean().backward()
            g = x.grad
            with torch.no_grad():
                x = (x + step_size / (g.abs().mean() + 1e-8) * g).clamp(0, 1)
                x = torch.roll(x, (-oy, -ox), (2, 3))
        detail = x - base
    return x


def activation_max_steps_per_second(model):
    activation_max(model, 60)  # warm-up, as the kit does: steady state is what long renders see
    t = time.perf_counter()
    activation_max(model, 60)
    return 60 / (time.perf_counter() - t)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    rss_steps = int(args[0]) if args else 2000
    # Debian's build starts with one thread; the kit uses every core, so the peer must too.
    torch.set_num_threads(int(args[1]) if len(args) > 1 else os.cpu_count())
    torch.manual_seed(0)
    model = ResNet18().eval()
    for p in model.parameters():
        p.requires_grad_(False)
    if "--activation-max-only" in sys.argv:
        print(json.dumps({"activationMaxStepsPerSecond": activation_max_steps_per_second(model)}))
        return
    image = torch.rand(1, 3, 224, 224)
    with torch.no_grad():
        forward = median_ms(lambda: model(image))

    def fwd_bwd():
        x = image.clone().requires_grad_()
        model(x).mean().backward()

    figures = {"threads": torch.get_num_threads(), "torch": torch.__version__, "forwardMs": forward, "forwardBackwardMs": median_ms(fwd_bwd, warmup=30)}
    figures["activationMaxStepsPerSecond"] = activation_max_steps_per_second(model)
    t = time.perf_counter()
    dream(model, torch.rand(1, 3, 512, 512))
    figures["dream512Seconds"] = time.perf_counter() - t
    activation_max(model, 50)
    before = rss_bytes()
    activation_max(model, rss_steps)
    figures["rssGrowthPercent"] = 100.0 * (rss_bytes() - before) / before
    figures["rssSteps"] = rss_steps
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
