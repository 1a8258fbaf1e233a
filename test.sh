#!/usr/bin/env bash
# Every test of the kit, as CI runs it:
#   1. unit, reference and end-to-end tests (xunit; the CLI runs as a real process),
#   2. every notebook executed in the real Jupyter .NET kernel as a reader opens it: nothing is packed beforehand, the
#      first notebook's first cell packs the kit (installs Jupyter, the kernel and Chromium if missing),
#   3. the gallery (quick settings) and a small atlas opened in headless Chromium with the network cut off, at two window sizes,
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

step "gallery and atlas pages in headless Chromium at 1366x768 and 1920x1080 (screenshots in artifacts/*/screenshots)"
cli=src/ResearchKit.Cli/bin/Release/net10.0/ResearchKit.Cli.dll
dotnet $cli gallery --quick --out artifacts/gallery --force
# The pixel prior has no redirected ReLU: most layer4 channels start dead, so the atlas must show its flags.
rm -rf artifacts/atlas
dotnet $cli atlas --layer layer4 --channels 0-5 --size 64 --steps 8 --prior none --out artifacts/atlas
node tools/browser-check/check.mjs --layout 1366x768,1920x1080 --min-images 4 --min-charts 6 artifacts/gallery/index.html \
  --min-images 6 --min-charts 0 --min-flagged 1 --click 'figure a[href^="#channel-"]' artifacts/atlas/index.html

step "deploy recipes (Kubernetes schema, Slurm on a one-node cluster: about 3 minutes)"
bash deploy/check.sh
step "all tests passed"
