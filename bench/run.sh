#!/usr/bin/env bash
# Runs `researchkit bench` (fast and bf16 kernels) and the PyTorch peer on this machine and prints the ratio per figure.
#
# The peer runs twice: as a PyTorch user runs it, and with glibc told to keep freed memory (MALLOC_* below). Without
# that, glibc hands the top of its heap back to the OS after every step and PyTorch takes ~1400 page faults per step
# to get it back; what that costs depends on the VM (17 to 33 steps/s here on different hours). The kit is compared
# with the faster of the two. Machine speed drifts over minutes on a shared VM, so activation maximization -- the
# headline figure -- is also measured in alternating short runs of all four, and the median is reported.
#
# Installs the peer (Debian python3-torch, CPU) if missing -- without Recommends, so Debian's libtorch-dev does not
# land on the system library path. Usage: bench/run.sh [rss-steps] [rounds]; takes about 10 minutes at the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-2000}"
rounds="${2:-3}"
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get install -y --no-install-recommends python3-torch >/dev/null
fi
out=artifacts/bench
mkdir -p "$out"
dotnet build src/ResearchKit.Cli -c Release -v quiet -nologo >/dev/null
kit() { dotnet src/ResearchKit.Cli/bin/Release/net10.0/ResearchKit.Cli.dll bench "$@"; }
peer() { /usr/bin/python3 bench/peer.py "$@"; }
peer_keeping_memory() { MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=10000000000 /usr/bin/python3 bench/peer.py "$@"; }

for kernels in fast bf16; do
  echo "bench: kit, $kernels kernels" >&2
  kit --rss-steps "$steps" --kernels "$kernels" --json > "$out/kit-$kernels.json"
done
threads=$(/usr/bin/python3 -c 'import json; print(json.load(open("artifacts/bench/kit-fast.json"))["threads"])')
echo "bench: PyTorch peer" >&2
peer "$steps" "$threads" > "$out/peer.json"
echo "bench: PyTorch peer keeping freed memory" >&2
peer_keeping_memory "$steps" "$threads" > "$out/peer-keeping-memory.json"

: > "$out/activation-max-rounds.jsonl"
for round in $(seq "$rounds"); do
  echo "bench: activation maximization, round $round of $rounds" >&2
  for kernels in fast bf16; do
    echo "{\"who\": \"kit-$kernels\", \"figure\": $(kit --kernels "$kernels" --activation-max-only)}" >> "$out/activation-max-rounds.jsonl"
  done
  echo "{\"who\": \"peer\", \"figure\": $(peer 0 "$threads" --activation-max-only)}" >> "$out/activation-max-rounds.jsonl"
  echo "{\"who\": \"peer-keeping-memory\", \"figure\": $(peer_keeping_memory 0 "$threads" --activation-max-only)}" >> "$out/activation-max-rounds.jsonl"
done

/usr/bin/python3 - "$out" <<'PY'
import json, statistics, sys
out = sys.argv[1]
runs = {who: json.load(open(f"{out}/{who}.json")) for who in ["kit-fast", "kit-bf16", "peer", "peer-keeping-memory"]}
rounds = {who: [run["activationMaxStepsPerSecond"]] for who, run in runs.items()}
for line in open(f"{out}/activation-max-rounds.jsonl"):
    row = json.loads(line)
    rounds[row["who"]].append(row["figure"]["activationMaxStepsPerSecond"])
for who, values in rounds.items():
    runs[who]["activationMaxStepsPerSecond"] = statistics.median(values)
peer = {key: (max if key == "activationMaxStepsPerSecond" else min)(runs["peer"][key], runs["peer-keeping-memory"][key])
        for key in runs["peer"] if isinstance(runs["peer"][key], (int, float))}
figures = [("activationMaxStepsPerSecond", True), ("forwardBackwardMs", False), ("forwardMs", False),
           ("dream512Seconds", False), ("rssGrowthPercent", False)]
print(f"{'figure':30} {'kit fast':>9} {'kit bf16':>9} {'PyTorch':>9} {'PyTorch*':>9} {'fast adv.':>10} {'bf16 adv.':>10}")
for key, higher_is_better in figures:
    k, b, p, q = runs["kit-fast"][key], runs["kit-bf16"][key], runs["peer"][key], runs["peer-keeping-memory"][key]
    best = peer[key]
    # A ratio of two growths near zero says nothing; the memory row is read against the 5 % target instead.
    ratio = lambda mine: f"{(mine / best if higher_is_better else best / mine):9.2f}x" if mine and best else f"{'-':>10}"
    print(f"{key:30} {k:9.2f} {b:9.2f} {p:9.2f} {q:9.2f} {ratio(k)} {ratio(b)}")
print("activation max, each run in steps/s (full run first, then the alternating rounds):")
for who, values in rounds.items():
    print(f"  {who:20} " + " ".join(f"{v:6.1f}" for v in values))
fast = runs["kit-fast"]
print(f"PyTorch* = the peer keeping freed memory; advantages are against the better PyTorch figure. "
      f"kit: {fast['threads']} threads, conv stack {fast['convGigaFlops']:.2f} GFLOP per image, "
      f"{fast['forwardGigaFlopsPerSecond']:.1f} (fast) and {runs['kit-bf16']['forwardGigaFlopsPerSecond']:.1f} (bf16) GFLOP/s forward; "
      f"tiled 4096^2 dream peak {fast['tiledDream4096PeakGiB']:.2f} GiB (fast), {runs['kit-bf16']['tiledDream4096PeakGiB']:.2f} GiB (bf16); "
      f"PyTorch {runs['peer']['torch']}, {runs['peer']['threads']} threads")
PY
