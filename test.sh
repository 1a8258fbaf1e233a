#!/usr/bin/env bash
# Every test of the kit, as CI runs it:
#   1. unit, reference and end-to-end tests (xunit; the CLI runs as a real process),
#   2. every notebook executed in the real Jupyter .NET kernel as a reader opens it: nothing is packed beforehand, the
#      first notebook's first cell packs the kit (installs Jupyter, the kernel and Chromium if missing),
#   3. the gallery (quick settings) opened in headless Chromium with the network cut off,
#   4. the deploy recipes: the Kubernetes manifest against the API schema, the Slurm recipe on a one-node cluster.
# Exits non-zero on any failure. Outputs (test results, executed notebooks, the gallery) go to artifacts/.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
mkdir -p artifacts
started=$SECONDS
step() { echo "== $* ($((SECONDS - started)) s)"; }

step "build"
dotnet build ResearchKit.sln -c Release -v minimal
step "unit, reference and end-to-end tests"
dotnet test ResearchKit.sln -c Release --no-build --logger "console;verbosity=minimal" --results-directory artifacts/tests --logger trx

step "notebooks in the Jupyter .NET kernel"
bash tools/notebooks/run-notebooks.sh

step "gallery in headless Chromium"
dotnet src/ResearchKit.Cli/bin/Release/net10.0/ResearchKit.Cli.dll gallery --quick --out artifacts/gallery --force
node tools/browser-check/check.mjs --min-images 4 --min-charts 6 artifacts/gallery/index.html

step "deploy recipes (Kubernetes schema, Slurm on a one-node cluster: about 3 minutes)"
bash deploy/check.sh
step "all tests passed"
