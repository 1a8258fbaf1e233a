#!/usr/bin/env bash
# Every test of the kit, as CI runs it: unit and reference tests (xunit, including the CLI end to end),
# then the notebooks in the real Jupyter .NET kernel and the gallery in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

mkdir -p artifacts
dotnet build ResearchKit.sln -c Release -v minimal
dotnet test ResearchKit.sln -c Release --no-build --logger "console;verbosity=minimal" \
  --logger "trx;LogFileName=$PWD/artifacts/tests.trx"
