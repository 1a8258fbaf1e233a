#!/usr/bin/env bash
# Packs ResearchKit and ResearchKit.Interactive (Release) into the local NuGet feed artifacts/kit/feed under a fresh
# version, and writes artifacts/kit/kit.dib, which the first cell of every notebook imports:
#
#   #!import ../artifacts/kit/kit.dib
#
# (the notebook kernel runs in notebooks/, so the path is relative to that folder; Jupyter and VS Code Polyglot
# Notebooks both start the kernel there). The version changes on every pack because the kernel's NuGet cache keeps a
# version once restored: re-packing the same version would load the old build.
#
# Usage: tools/notebooks/pack-kit.sh            prints the version it packed
#   RESEARCHKIT_KIT_VERSION=0.1.0-local.7 ...   packs that version instead
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
kit=$repo/artifacts/kit
feed=$kit/feed
version=${RESEARCHKIT_KIT_VERSION:-0.1.0-local.$(date -u +%Y%m%d%H%M%S)}

mkdir -p "$feed"
# Only the current pack is kept, in the feed and in the NuGet cache (about 10 MB each).
rm -f "$feed"/ResearchKit.*.nupkg
for id in researchkit researchkit.interactive; do
  rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}/$id"/*-local.*
done
for project in src/ResearchKit src/ResearchKit.Interactive; do
  dotnet pack "$repo/$project" -c Release -o "$feed" -p:PackageVersion="$version" -nologo -v:q -clp:NoSummary >&2
done

# #i needs an absolute folder ("Invalid URI" otherwise).
cat > "$kit/kit.dib.tmp" <<DIB
#!csharp

#i "nuget: $feed"
#r "nuget: ResearchKit.Interactive, $version"
DIB
mv "$kit/kit.dib.tmp" "$kit/kit.dib"
echo "$version"
