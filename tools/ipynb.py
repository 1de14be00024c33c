"""Writes a course notebook (.ipynb, no outputs) from a plain-text source.

Usage: python3 tools/ipynb.py SOURCE.txt OUT.ipynb

The source is a sequence of cells, each starting with a line `%% md` or `%% code`. The shared setup
cell is written as `%% setup` and expands to tools/setup-cell.csx, so every notebook has the same one.
This is an authoring aid only; the .ipynb files are what the course ships and what tests read.
"""
import json, pathlib, sys

def cells_from(text, setup):
    cells, kind, lines = [], None, []
    def flush():
        if kind is None: return
        body = "\n".join(lines).strip("\n")
        if kind == "setup": body = setup.strip("\n")
        src = [l + "\n" for l in body.split("\n")]
        src[-1] = src[-1].rstrip("\n")
        if kind == "md":
            cells.append({"cell_type": "markdown", "metadata": {}, "source": src})
        else:
            cells.append({"cell_type": "code", "execution_count": None,
                          "metadata": {"polyglot_notebook": {"kernelName": "csharp"}},
                          "outputs": [], "source": src})
    for line in text.split("\n"):
        if line.startswith("%% "):
            flush(); kind, lines = line[3:].strip(), []
        else:
            lines.append(line)
    flush()
    return cells

def main(src, out):
    root = pathlib.Path(__file__).resolve().parent
    setup = (root / "setup-cell.csx").read_text()
    nb = {"cells": cells_from(pathlib.Path(src).read_text(), setup),
          "metadata": {"kernelspec": {"display_name": ".NET (C#)", "language": "C#", "name": ".net-csharp"},
                       "language_info": {"name": "polyglot-notebook"},
                       "polyglot_notebook": {"kernelInfo": {"defaultKernelName": "csharp",
                                                            "items": [{"name": "csharp", "aliases": []}]}}},
          "nbformat": 4, "nbformat_minor": 5}
    pathlib.Path(out).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")

if __name__ == "__main__":
    main(*sys.argv[1:3])
