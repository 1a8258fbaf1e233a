#!/usr/bin/env bash
# Runs every notebook (or the ones named) in the real Jupyter .NET kernel exactly as a reader opens them, then opens
# the results in headless Chromium with the network cut off.
#
#   tools/notebooks/run-notebooks.sh [notebooks/NAME.ipynb ...]
#
# 1. installs what is missing: Debian's Jupyter (nbconvert, nbclient, jupyter-client, ipykernel) and chromium, the
#    dotnet-interactive tool of .config/dotnet-tools.json, Node's playwright-core (tools/browser-check), and a kernel
#    spec for the .NET kernels in artifacts/jupyter (used through JUPYTER_PATH; the user's own Jupyter is untouched);
# 2. executes the notebooks, writing executed copies and offline HTML to artifacts/notebooks/, and checks the outputs
#    that cells promise by their tags (expect-image, expect-plotly). Nothing is packed beforehand: each notebook's
#    first cell (tools/notebooks/kit.csx) builds and packs the kit when artifacts/kit has no pack of the current
#    sources, so from a clean clone the first notebook does it, as it would for a reader;
# 3. checks the HTML outputs and the smoke notebook's standalone chart page in Chromium: no console error, no network
#    request, every image decodes, every chart is drawn.
#
# Environment: NOTEBOOK_CELL_TIMEOUT (seconds per cell, default 600), SKIP_INSTALL=1 to skip step 1.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
out=$repo/artifacts/notebooks
python=/usr/bin/python3   # Debian's, which has nbclient; a pyenv/venv python3 earlier on PATH does not
started=$SECONDS
export DOTNET_INTERACTIVE_CLI_TELEMETRY_OPTOUT=1 DOTNET_INTERACTIVE_SKIP_FIRST_TIME_EXPERIENCE=1
export Logging__LogLevel__Default=Warning   # the kernel's web server logs every start and stop otherwise
step() { echo "== $* ($((SECONDS - started)) s)"; }

install_prerequisites() {
  local packages=() sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  command -v jupyter-nbconvert >/dev/null || packages+=(jupyter-nbconvert)
  $python -c 'import nbclient, nbconvert, jupyter_client, ipykernel' 2>/dev/null ||
    packages+=(python3-nbconvert python3-nbclient jupyter-client python3-ipykernel)
  [ -x "${CHROMIUM:-/usr/bin/chromium}" ] || packages+=(chromium)
  if [ ${#packages[@]} -gt 0 ]; then
    step "apt-get install ${packages[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  fi
  dotnet tool restore >/dev/null
  [ -d tools/browser-check/node_modules/playwright-core ] ||
    (cd tools/browser-check && npm ci --no-audit --no-fund --loglevel=error)
}

install_kernel_spec() {
  local kernels=$repo/artifacts/jupyter/kernels
  mkdir -p "$kernels"
  dotnet interactive jupyter install --path "$kernels" >/dev/null
  # The kernel always starts a small web server (for its JavaScript bridge); keep it on the loopback interface.
  $python - "$kernels" <<'PY'
import json, pathlib, sys
for spec in pathlib.Path(sys.argv[1]).glob(".net-*/kernel.json"):
    kernel = json.loads(spec.read_text())
    if "--http-local-only" not in kernel["argv"]:
        kernel["argv"].append("--http-local-only")
    spec.write_text(json.dumps(kernel, indent=2))
PY
  export JUPYTER_PATH=$repo/artifacts/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}
}

if [ $# -gt 0 ]; then notebooks=("$@"); else notebooks=(notebooks/*.ipynb); fi

[ "${SKIP_INSTALL:-0}" = 1 ] || { step "prerequisites"; install_prerequisites; }
install_kernel_spec

step "execute ${#notebooks[@]} notebook(s)"
rm -rf "$out" && mkdir -p "$out"
status=0
$python tools/notebooks/execute_notebooks.py --out "$out" --timeout "${NOTEBOOK_CELL_TIMEOUT:-600}" "${notebooks[@]}" || status=1

step "open the HTML in headless Chromium, offline"
pages=()
for notebook in "${notebooks[@]}"; do
  page=$out/$(basename "${notebook%.ipynb}").html
  [ -f "$page" ] && pages+=("$page")
done
[ -f "$out/00-smoke-charts.html" ] && pages+=(--min-charts 3 --late-plotly "$out/00-smoke-charts.html")
[ ${#pages[@]} -eq 0 ] || node tools/browser-check/check.mjs "${pages[@]}" || status=1

step "done: $([ $status = 0 ] && echo passed || echo FAILED); outputs in ${out#$repo/}"
exit $status
