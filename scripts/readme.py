#!/usr/bin/env python
"""Render README.md from nbs/index.ipynb (a stand-in for `nbdev-readme`, which needs Quarto).

Markdown cells are copied; code cells become ```python blocks followed by their text outputs;
cells with `#| hide` (and the directives themselves) are left out.
Usage: `python scripts/readme.py` writes README.md; `--check` exits 1 when README.md differs."""
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIRECTIVE = re.compile(r"^\s*#\|\s*(.*)$")


def _source(cell) -> str: return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _directives(src: str) -> tuple[set[str], str]:
    "Split a code cell into its `#|` directives and the remaining code."
    lines, flags = src.splitlines(), set()
    while lines and DIRECTIVE.match(lines[0]):
        flags.update(DIRECTIVE.match(lines.pop(0)).group(1).split())
    return flags, "\n".join(lines).strip("\n")


def _outputs(cell) -> list[str]:
    out = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream": text = "".join(o.get("text", ""))
        elif "data" in o and "text/markdown" in o["data"]: out.append("".join(o["data"]["text/markdown"]).strip()); continue
        elif "data" in o and "text/plain" in o["data"]: text = "".join(o["data"]["text/plain"])
        else: continue
        if text.strip(): out.append("```\n" + text.rstrip("\n") + "\n```")
    return out


def render(nb_path: Path = ROOT / "nbs" / "index.ipynb") -> str:
    "The README text for the notebook at `nb_path`."
    nb, parts = json.loads(nb_path.read_text()), []
    for cell in nb["cells"]:
        src = _source(cell)
        if cell["cell_type"] == "markdown": parts.append(src.strip())
        elif cell["cell_type"] == "code":
            flags, code = _directives(src)
            if "hide" in flags or "exporti" in flags or not (code or cell.get("outputs")): continue
            if code and "hide_input" not in flags: parts.append("```python\n" + code + "\n```")
            parts.extend(_outputs(cell))
    return "<!-- generated from nbs/index.ipynb by scripts/readme.py: edit the notebook, not this file -->\n\n" + "\n\n".join(p for p in parts if p) + "\n"


if __name__ == "__main__":
    text, readme = render(), ROOT / "README.md"
    if "--check" in sys.argv[1:]:
        if not readme.exists() or readme.read_text() != text:
            sys.exit("README.md is out of date with nbs/index.ipynb: run `python scripts/readme.py`")
    else: readme.write_text(text)
