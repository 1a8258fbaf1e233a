#!/usr/bin/env bash
# The kit against PyTorch, like for like: float32 against float32, bfloat16 against bfloat16.
#
#   kit fast  vs  PyTorch float32 (contiguous)
#   kit bf16  vs  PyTorch torch.autocast("cpu", bfloat16) with network and input in channels-last
#
# Every figure is measured first thing in a fresh process, so warm-up counts as it does for a user (start-up does
# not: render rates run from step 20 to step 220). Runs alternate kit and peer, figure by figure, for several rounds,
# and the median of each is reported with the load average seen. PyTorch runs with glibc keeping freed memory
# (without it PyTorch pays ~1,400 page faults a step here and is 30 % slower, which would flatter the kit).
# Then each side's activation-max step is taken apart (forward pass, backward pass, the rest) and each pass's GFLOP/s
# is read against the machine's measured peak (an FMA loop on every thread, and each side's 2048² matrix product).
# On a CPU without bfloat16 arithmetic (AVX512_BF16, AMX-BF16, Arm BF16) both sides would only emulate bfloat16 and
# the kit runs float32 when bf16 is asked, so the bfloat16 figures are left out and the table says why.
#
# Installs the peer (Debian python3-torch, CPU) if missing -- without Recommends, so Debian's libtorch-dev does not
# land on the system library path. Usage: bench/run.sh [rounds] [--full]; --full adds the kit's whole `bench` suite
# (forward/backward times, memory growth over 2000 steps, the tiled 4096² dream's peak) in both modes.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
full="${2:-}"
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y --no-install-recommends python3-torch >/dev/null
fi
out=artifacts/bench
mkdir -p "$out"
dotnet build src/ResearchKit.Cli -c Release -v quiet -nologo >/dev/null
threads=$(nproc)
kit() { dotnet src/ResearchKit.Cli/bin/Release/net10.0/ResearchKit.Cli.dll "$@"; }
peer() { MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=10000000000 /usr/bin/python3 bench/peer.py --threads "$threads" "$@"; }

{
  echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
  echo "bf16 instructions: $(grep -q avx512_bf16 /proc/cpuinfo && echo AVX512_BF16 || echo none)"
  echo "software: $(lsb_release -ds 2>/dev/null || head -1 /etc/os-release), .NET $(dotnet --version), PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), $threads threads"
  echo "start: $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out/machine.txt"
cat "$out/machine.txt" >&2

# Warm the audit cache and the build, so that no measured process audits.
kit bench --only startup --kernels fast --json >/dev/null
precisions="fp32"
if grep -qwE 'avx512_bf16|amx_bf16|bf16' /proc/cpuinfo; then
  precisions="fp32 bf16"
  kit bench --only startup --kernels bf16 --json >/dev/null
fi

: > "$out/rounds.jsonl"
kernels_for() { [ "$1" = fp32 ] && echo fast || echo bf16; }
record() { echo "{\"figure\": \"$1\", \"precision\": \"$2\", \"result\": $3}" >> "$out/rounds.jsonl"; }
for round in $(seq "$rounds"); do
  echo "bench: round $round of $rounds (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  for figure in activation-max dream; do
    for precision in $precisions; do
      record "$figure" "$precision" "$(kit bench --only "$figure" --kernels "$(kernels_for "$precision")" --json)"
      record "$figure" "$precision" "$(peer --only "$figure" --precision "$precision")"
    done
  done
  record lucid fp32 "$(kit bench --only lucid --kernels fast --json)"
  record lucid fp32 "$(peer --only lucid --precision fp32)"
  record startup fp32 "$(kit bench --only startup --kernels fast --json)"
done

echo "bench: where a step goes, pass by pass" >&2
: > "$out/passes.jsonl"
for precision in $precisions; do
  echo "{\"precision\": \"$precision\", \"result\": $(kit bench --only passes --kernels "$(kernels_for "$precision")" --json)}" >> "$out/passes.jsonl"
  echo "{\"precision\": \"$precision\", \"result\": $(peer --only passes --precision "$precision")}" >> "$out/passes.jsonl"
done

if [ "$full" = "--full" ]; then
  for precision in $precisions; do
    kernels=$(kernels_for "$precision")
    echo "bench: the kit's whole suite, $kernels kernels" >&2
    kit bench --kernels "$kernels" --json > "$out/kit-$kernels.json"
  done
fi

/usr/bin/python3 - "$out" <<'PY'
import json, statistics, sys
out = sys.argv[1]
rows = [json.loads(line) for line in open(f"{out}/rounds.jsonl")]
key = {"activation-max": "activationMaxStepsPerSecond", "lucid": "lucidStepsPerSecond", "dream": "dream512Seconds"}

def runs(figure, precision, who):
    return [r["result"] for r in rows if r["figure"] == figure and r["precision"] == precision and r["result"]["who"] == who]

print(open(f"{out}/machine.txt").read().rstrip())
print(f"{'figure':44} {'kit':>8} {'PyTorch':>8} {'ratio':>7} {'target':>8}  runs (kit | PyTorch), load")
table = [("activation max, float32, steps/s", "activation-max", "fp32", True, 1.25),
         ("activation max, bfloat16, steps/s", "activation-max", "bf16", True, 1.25),
         ("Lucid's default path, float32, steps/s", "lucid", "fp32", True, 1.25),
         ("DeepDream 512², float32, s (ratio = time)", "dream", "fp32", False, 0.8),
         ("DeepDream 512², bfloat16, s (ratio = time)", "dream", "bf16", False, 0.8)]
for label, figure, precision, higher, target in table:
    kit, peer = runs(figure, precision, "kit"), runs(figure, precision, "pytorch")
    if not kit or not peer:
        print(f"{label:44} not measured: this CPU has no bfloat16 arithmetic (the kit runs float32 when bf16 is asked)")
        continue
    k, p = statistics.median(r[key[figure]] for r in kit), statistics.median(r[key[figure]] for r in peer)
    ratio = k / p
    met = ratio >= target if higher else ratio <= target
    each = lambda rs: " ".join(f"{r[key[figure]]:.2f}" for r in rs)
    loads = [r["loadAverage"] for r in kit + peer]
    print(f"{label:44} {k:8.2f} {p:8.2f} {ratio:6.2f}x {('>=' if higher else '<=') + str(target):>6} {'met' if met else 'NOT met':7}  "
          f"{each(kit)} | {each(peer)}, load {min(loads):.2f}-{max(loads):.2f}")
startups = runs("startup", "fp32", "kit")
if startups:
    s = sorted(startups, key=lambda r: r["firstStepDone"])[len(startups) // 2]
    print(f"start-up to the first finished step (visualize's default plan, warm caches), median: {s['firstStepDone']:.2f} s; "
          f"command began {s['commandStart']:.2f} s, model loaded {s['modelLoaded']:.2f} s")
    for mark in s["marks"]:
        print(f"  {mark}")
passes = [json.loads(line) for line in open(f"{out}/passes.jsonl")]
for precision in ["fp32", "bf16"]:
    pair = {p["result"]["who"]: p["result"] for p in passes if p["precision"] == precision}
    if len(pair) < 2:
        continue
    kit, peer = pair["kit"], pair["pytorch"]
    peak = kit["peak"]
    print(f"where an activation-max step goes, {precision} (216² crop to layer3; GFLOP/s = convolution FLOPs / time): "
          f"machine peak {peak['fmaGigaFlops']:.0f} GFLOP/s (FMA loop, {peak['vectorBits']}-bit, {peak['threads']} threads); "
          f"2048² matrix product {peak['matmulGigaFlops']:.0f} (kit's libtorch) and {peer['matmulGigaFlops']:.0f} (PyTorch)")
    print(f"  convolution work per pass: kit {kit['convGigaFlop']:.2f} GFLOP (channel 7 alone at the tap), PyTorch {peer['convGigaFlop']:.2f}")
    print(f"  {'pass':10} {'kit ms':>8} {'GFLOP/s':>8} {'of peak':>8} {'PyTorch ms':>11} {'GFLOP/s':>8} {'of peak':>8}")
    for name, ms, rate in [("forward", "forwardMs", "forwardGigaFlopsPerSecond"), ("backward", "backwardMs", "backwardGigaFlopsPerSecond"),
                           ("rest", "restMs", None), ("step", "stepMs", "stepGigaFlopsPerSecond")]:
        cells = []
        for side in (kit, peer):
            cells.append(f"{side[ms]:8.1f}" + (f" {side[rate]:8.1f} {100 * side[rate] / peak['fmaGigaFlops']:7.0f}%" if rate else " " * 18))
        print(f"  {name:10} {cells[0]}    {cells[1]}")
for kernels in ["fast", "bf16"]:
    try:
        f = json.load(open(f"{out}/kit-{kernels}.json"))
    except FileNotFoundError:
        continue
    print(f"kit {kernels}: forward {f['forwardMs']:.1f} ms, forward+backward {f['forwardBackwardMs']:.1f} ms to pool, "
          f"memory growth {f['rssGrowthPercent']:.2f} % over {f['rssSteps']} steps, tiled 4096² dream peak {f['tiledDream4096PeakGiB']:.2f} GiB")
PY
