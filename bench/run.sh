#!/usr/bin/env bash
# Runs `researchkit bench` and the PyTorch peer on this machine, one after the other, and prints the ratio per figure.
# Installs the peer (Debian python3-torch, CPU) if missing -- without Recommends, so Debian's libtorch-dev does not
# land on the system library path. Usage: bench/run.sh [rss-steps] [kernels: fast, exact or bf16]
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-2000}"
kernels="${2:-fast}"
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get install -y --no-install-recommends python3-torch >/dev/null
fi
mkdir -p artifacts/bench
dotnet run --project src/ResearchKit.Cli -c Release -- bench --rss-steps "$steps" --kernels "$kernels" --json > artifacts/bench/kit.json
threads=$(/usr/bin/python3 -c 'import json; print(json.load(open("artifacts/bench/kit.json"))["threads"])')
/usr/bin/python3 bench/peer.py "$steps" "$threads" > artifacts/bench/peer.json
/usr/bin/python3 - <<'PY'
import json
kit = json.load(open("artifacts/bench/kit.json"))
peer = json.load(open("artifacts/bench/peer.json"))
print(f"{'figure':34} {'kit':>10} {'PyTorch':>10} {'kit advantage':>14}")
for key, higher_is_better in [("activationMaxStepsPerSecond", True), ("forwardBackwardMs", False), ("forwardMs", False),
                              ("dream512Seconds", False), ("rssGrowthPercent", False)]:
    k, p = kit[key], peer[key]
    ratio = (k / p if higher_is_better else p / k) if k and p else float("nan")
    print(f"{key:34} {k:10.2f} {p:10.2f} {ratio:13.2f}x")
print(f"kit: {kit['kernels']} kernels, {kit['threads']} threads, conv stack {kit['convGigaFlops']:.2f} GFLOP per image, {kit['forwardGigaFlopsPerSecond']:.1f} GFLOP/s forward;"
      f" tiled 4096^2 dream peak {kit['tiledDream4096PeakGiB']:.2f} GiB; PyTorch {peer['torch']}, {peer['threads']} threads")
PY
