#!/usr/bin/python3
"""Executes notebooks in their Jupyter kernel (nbclient, the engine of `jupyter nbconvert --execute`), writes each
executed copy and an offline HTML export, and checks the outputs that cells promise by their tags:

  expect-image   the cell shows a picture (image/png, or an <img> with a PNG data URI in HTML)
  expect-plotly  the cell shows a Plotly chart; plotly.js itself must be on the page (the kit's first cell puts it)

Every notebook's first code cell must load the kit through tools/notebooks/kit.csx (which packs it when needed) and
print nothing to stderr. Stops a notebook at its first failing cell and names it. Exit status 1 if any notebook failed.
"""
import argparse
import copy
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter

TEMPLATES = Path(__file__).resolve().parent / "nbconvert-templates"
# The .NET kernel's first output connects a live page back to the kernel (loading require.js from a CDN and probing
# local ports); in a static export it can only fail, so the HTML leaves it out.
KERNEL_BOOTSTRAP = "dotnet-interactive-this-cell-"
PNG_IMG = '<img src="data:image/png;base64,'
CHART = "Plotly.newPlot("
PLOTLY_JS = "plotly.js v"
KIT_CELL = '#load "../tools/notebooks/kit.csx"'


def html_of(output):
    data = output.get("data", {})
    html = data.get("text/html", "")
    return "".join(html) if isinstance(html, list) else html


def describe(index, cell):
    first = next((line for line in cell.source.splitlines() if line.strip()), "")
    return f"cell {index} ({first.strip()[:70]!r})"


def without_kernel_bootstrap(nb):
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if "outputs" in cell:
            cell.outputs = [o for o in cell.outputs if KERNEL_BOOTSTRAP not in html_of(o)]
    return nb


def failure_of(cell, error):
    """What the failing cell said: the .NET kernel puts compiler errors on stderr and a terse error output."""
    said = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            said += [line.strip() for line in output.get("text", "").splitlines() if " error " in line or line.startswith("error")]
        elif output.get("output_type") == "error":
            said.append(f"{output.get('ename')}: {output.get('evalue')}")
    return "; ".join(said) or f"{type(error).__name__}: {str(error).strip().splitlines()[-1] if str(error).strip() else ''}"


def check_kit_cell(nb):
    first = next((c for c in nb.cells if c.cell_type == "code"), None)
    if first is None or KIT_CELL not in first.source:
        return [f"the first code cell must load the kit: {KIT_CELL} and await NotebookKit.LoadAsync(); (docs/notebooks.md)"]
    return []


def check_outputs(nb):
    problems = []
    first = next(c for c in nb.cells if c.cell_type == "code")
    if any(o.get("output_type") == "stream" and o.get("name") == "stderr" for o in first.get("outputs", [])):
        problems.append("the kit cell printed to stderr: " + " ".join(
            o.get("text", "").strip() for o in first.outputs if o.get("name") == "stderr")[:300])
    page_has_plotly = any(PLOTLY_JS in html_of(o) for c in nb.cells for o in c.get("outputs", []))
    for index, cell in enumerate(nb.cells):
        tags = set(cell.metadata.get("tags", []))
        outputs = cell.get("outputs", [])
        if "expect-image" in tags and not any("image/png" in o.get("data", {}) or PNG_IMG in html_of(o) for o in outputs):
            problems.append(f"{describe(index, cell)} is tagged expect-image but shows no PNG image")
        if "expect-plotly" in tags:
            if not any(CHART in html_of(o) for o in outputs):
                problems.append(f"{describe(index, cell)} is tagged expect-plotly but shows no Plotly chart")
            elif not page_has_plotly:
                problems.append(f"{describe(index, cell)} shows a chart but no output on the page carries plotly.js")
    return problems


def run(path, out, timeout, startup_timeout):
    nb = nbformat.read(path, as_version=4)
    if problems := check_kit_cell(nb):
        return problems, 0.0
    kernel = nb.metadata.get("kernelspec", {}).get("name", ".net-csharp")
    current = {}
    client = NotebookClient(
        nb, timeout=timeout, startup_timeout=startup_timeout, kernel_name=kernel,
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_start=lambda cell, cell_index: current.update(cell=cell, index=cell_index))
    started = time.monotonic()
    problems = []
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
        if not current:
            problems.append(f"the kernel failed before the first cell: {type(error).__name__}: {error}")
        else:
            problems.append(f"{describe(current['index'], current['cell'])} failed: {failure_of(current['cell'], error)}")
    seconds = time.monotonic() - started
    if not problems:
        problems = check_outputs(nb)

    out.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out / path.name)
    exporter = HTMLExporter(template_name="offline", extra_template_basedirs=[str(TEMPLATES)])
    html, _ = exporter.from_notebook_node(without_kernel_bootstrap(nb), resources={"metadata": {"name": path.stem}})
    (out / (path.stem + ".html")).write_text(html, encoding="utf-8")
    return problems, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="folder for executed .ipynb and .html copies")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("--startup-timeout", type=int, default=180, help="seconds for the kernel to start")
    args = parser.parse_args()

    failed = 0
    for path in args.notebooks:
        problems, seconds = run(path.resolve(), args.out, args.timeout, args.startup_timeout)
        if problems:
            failed += 1
            print(f"FAIL {path} ({seconds:.0f} s)")
            for problem in problems:
                print(f"  - {path}: {problem}")
        else:
            print(f"ok   {path} ({seconds:.0f} s)")
    print(f"notebooks: {len(args.notebooks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
