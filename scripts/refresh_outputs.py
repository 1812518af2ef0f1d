#!/usr/bin/env python
"""Execute notebooks in place and store their outputs, small and deterministic.

    python scripts/refresh_outputs.py                  # every notebook in nbs/ and nbs/tutorials/
    python scripts/refresh_outputs.py nbs/03_features.ipynb nbs/tutorials/01_classify.ipynb

Each notebook runs exactly as the test suite runs it (nbdev's in-process shell, `IN_TEST=1`, the
cells flagged with the `tst_flags` of pyproject.toml -- `notest`, `slow`, `cuda` -- left out and
stored without outputs), so `tests/test_notebooks.py` can re-execute it and compare. Outputs are
made small and reproducible: PNG figures at 72 dpi, progress bars dropped, carriage-return frames
collapsed, machine paths, memory addresses and timestamps replaced, execution counts and execution
metadata removed; then `nbdev-clean` (which keeps outputs). Run it with the data mirror set, as
the tests are: `VARTRANSFER_MIRROR=../shared/data python scripts/refresh_outputs.py`.
The functions here are also what the notebook test uses."""
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / "nbs"
DPI = 72

# Code run in each notebook's shell before its first cell: small, deterministic figures.
SETUP = f"""
import matplotlib as _mpl
_mpl.rcParams.update({{'figure.dpi': {DPI}, 'savefig.dpi': {DPI}, 'svg.hashsalt': 'vartransfer'}})
del _mpl
"""


def notebooks(paths=None) -> list[Path]:
    "The notebooks named by `paths`, or every notebook of `nbs/` (not `_`/`.`-prefixed folders)."
    if paths: return [Path(p).resolve() for p in paths]
    return sorted(p for p in NBS.rglob("*.ipynb")
                  if not any(part.startswith(("_", ".")) for part in p.relative_to(NBS).parts))


# ---------------------------------------------------------------------------------- normalising
_PROGRESS_HTML = re.compile(r"<progress|progress-bar|fastprogress", re.I)
_TIMESTAMP = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?\b")
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")
_PORT = re.compile(r"\b(127\.0\.0\.1|localhost):\d{2,5}\b")
_WARNING = re.compile(r"^[^\n]*:\d+: \w*Warning: [^\n]*\n(?:[ \t]+[^\n]*\n?)*", re.M)
_PROGRESS_LINE = re.compile(r"^(?:[^\n]*(?:\d+%\|[^\n]*|it/s\]|\|\s*\d+/\d+ \[)[^\n]*|Building task graph\.\.\.)\n?", re.M)
_TMP = re.compile(r"(?:/private)?/(?:tmp|var/folders)/[^\s'\"<>),\]]*")


def _path_subs() -> list[tuple[str, str]]:
    "Machine paths to replace in outputs, longest first, with what replaces them."
    subs = {str(ROOT / "nbs"): "nbs", str(ROOT): "."}
    for var in ("VARTRANSFER_MIRROR", "VARTRANSFER_HOME"):
        if os.environ.get(var): subs[str(Path(os.environ[var]).resolve())] = f"${var}"; subs[os.environ[var]] = f"${var}"
    subs[str(Path(sys.prefix))] = "<python>"
    subs[str(Path.home())] = "~"
    return sorted(subs.items(), key=lambda kv: -len(kv[0]))


def clean_text(text: str) -> str:
    "Text output with carriage-return frames collapsed and machine paths, addresses, timestamps replaced."
    lines = []
    for line in text.split("\n"):
        if "\r" in line: line = [part for part in line.split("\r") if part.strip()][-1:] or [""]; line = line[0]
        lines.append(line)
    text = "\n".join(lines)
    for path, sub in _path_subs():
        if path and path not in ("/", "."): text = text.replace(path, sub)
    text = _TMP.sub("/tmp/...", text)
    text = _ADDRESS.sub("0x...", text)
    text = _PORT.sub(r"\1:<port>", text)
    return _TIMESTAMP.sub("<time>", text)


def _is_progress(out: dict) -> bool:
    "A fastprogress/tqdm bar (an HTML widget, or stderr frames that are only a bar)."
    data = out.get("data", {})
    if "text/html" in data and _PROGRESS_HTML.search("".join(data["text/html"])): return True
    if out.get("output_type") == "stream" and out.get("name") == "stderr":
        text = "".join(out.get("text", ""))
        return bool(re.fullmatch(r"(?:[^\n]*(?:\d+%\|[^\n]*|it/s\]|\|\s*\d+/\d+ \[)[^\n]*\n?|\s)*", text.replace("\r", "\n")))
    return False


def clean_outputs(outputs: list) -> list:
    "Outputs without progress bars or execution counts, their text cleaned; empty streams dropped."
    res = []
    for out in outputs:
        out = dict(out)
        if _is_progress(out): continue
        out.pop("execution_count", None)
        if out.get("output_type") == "execute_result": out["execution_count"] = None
        if "metadata" in out: out["metadata"] = {}
        if out.get("output_type") == "stream":
            text = "".join(out.get("text", ""))
            if out.get("name") == "stderr":   # library warnings vary by version; bars and status lines (lsdb) say nothing lasting
                text = _PROGRESS_LINE.sub("", _WARNING.sub("", text.replace("\r", "\n")))
            text = clean_text(text)
            if not text.strip(): continue
            if res and res[-1].get("output_type") == "stream" and res[-1].get("name") == out.get("name"):
                res[-1]["text"] = res[-1]["text"] + text; continue
            out["text"] = text
        elif "data" in out:
            out["data"] = {k: (clean_text("".join(v)) if k.startswith("text/") and isinstance(v, (str, list)) else v)
                           for k, v in out["data"].items()}
        res.append(out)
    return res


# ---------------------------------------------------------------------------------- executing
class _Cell:
    "A cell as `execute` returns it: its type and its cleaned outputs."
    def __init__(self, cell_type, outputs): self.cell_type, self.outputs = cell_type, outputs


class _Notebook:
    def __init__(self, cells): self.cells = cells


def execute(path: Path, skip_flags=None, cell_timeout=None):
    """Run the notebook at `path` as nbdev's tester does, in a fresh Python process (no state, such as
    pandas options, figures or registries, leaks from one notebook to the next); return (notebook,
    indices of the cells run, error). The notebook's cells have `.cell_type` and cleaned `.outputs`."""
    import json
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        env = {**os.environ, "COLUMNS": "100", "LINES": "50"}
        args = [sys.executable, str(Path(__file__).resolve()), "--execute-to", str(result), str(path)]
        if skip_flags is not None: args += ["--skip-flags", ",".join(skip_flags) or "-"]
        proc = subprocess.run(args, env=env, capture_output=True, text=True)
        if not result.exists():
            return _Notebook([]), [], f"the notebook process died (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
        res = json.loads(result.read_text())
    return _Notebook([_Cell(t, o) for t, o in res["cells"]]), res["ran"], res["error"]


def _execute_here(path: Path, skip_flags=None, cell_timeout=None):
    """Run the notebook at `path` in this process as nbdev's tester does; (execnb notebook, cells run, error)."""
    from execnb.shell import CaptureShell
    from fastcore.xtras import working_directory
    from nbdev.config import get_config
    from nbdev.process import NBProcessor
    from nbdev.test import _skip_cell
    cfg = get_config(ROOT)
    if skip_flags is None: skip_flags = cfg.tst_flags.split()
    if cell_timeout is None: cell_timeout = cfg.cell_timeout
    path = Path(path)
    nb = NBProcessor(path, rm_directives=False, process=True).nb
    skip, ran = _skip_cell(nb, skip_flags), []
    prev_test, prev_path = os.environ.get("IN_TEST"), list(sys.path)
    os.environ["IN_TEST"] = "1"
    sys.path.insert(0, str(ROOT))
    shell = CaptureShell(path, mpl_format="png")
    shell.run(SETUP)
    try:
        with working_directory(path.parent):
            for i, cell in enumerate(nb.cells):
                if cell.cell_type == "code": cell.outputs = []
                if skip(cell): continue
                shell.cell(cell, timeout=cell_timeout)
                ran.append(i)
                if shell.exc: break
        error = shell.prettytb(fname=path) if shell.exc else None
        for cell in nb.cells:
            if cell.cell_type == "code": cell.outputs = clean_outputs([dict(o) for o in cell.outputs])
        return nb, ran, error
    finally:
        sys.path[:] = prev_path
        if prev_test is None: os.environ.pop("IN_TEST", None)
        else: os.environ["IN_TEST"] = prev_test


def refresh(path: Path) -> float:
    "Execute the notebook at `path` and write its cleaned outputs into it; return the seconds taken."
    import json
    start = time.time()
    nb, _, error = execute(path)
    if error: raise RuntimeError(f"{path.relative_to(ROOT)} failed; outputs not written:\n{error}")
    raw = json.loads(path.read_text())
    assert len(raw["cells"]) == len(nb.cells)
    for cell, ran in zip(raw["cells"], nb.cells):
        if cell["cell_type"] != "code": continue
        cell["outputs"] = [_plain(o) for o in ran.outputs]
        cell["execution_count"] = None
        cell["metadata"].pop("execution", None)
    path.write_text(json.dumps(raw, indent=1, ensure_ascii=False) + "\n")
    subprocess.run(["nbdev-clean", "--fname", str(path)], check=True, cwd=ROOT)
    return time.time() - start


# ---------------------------------------------------------------------------------- comparing
# Stored and fresh text outputs are equal when their words are equal and their numbers close:
# within RTOL (relative) or ATOL (absolute; 1 for integers, e.g. a count that moved by one star)
# -- floating point differs a little between CPUs and BLAS builds. Numbers on a line that reads
# as a timing (`3.2 s`, `1,234 stars/s`, `00:01`) are not compared; neither are images' bytes
# (only that each image is there), stderr, or machine paths.
RTOL, ATOL = 0.05, 0.02
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d[\d,]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_TIMING = re.compile(r"\d\s*(?:s|ms|µs|us|ns|min|h|sec|seconds|minutes)\b|/s\b|\b\d\d:\d\d\b|per second|^Epoch \d+/\d+", re.I | re.M)
_SOME_PATH = re.compile(r"(?:\$VARTRANSFER_\w+|~|/tmp/\.\.\.|\.)(?:/[^\s'\"<>),\]]*)")


def output_texts(outputs) -> list[tuple[str, str]]:
    "What is compared of a cell's outputs: (kind, text) for stdout, results, markdown; ('image', '') per figure."
    res = []
    for out in outputs:
        kind, data = out.get("output_type"), out.get("data", {})
        if kind == "stream":
            if out.get("name") == "stdout": res.append(("stdout", "".join(out.get("text", ""))))
        elif kind == "error": res.append(("error", out.get("ename", "")))
        elif any(k.startswith("image/") for k in data): res.append(("image", ""))
        elif "text/markdown" in data: res.append(("markdown", "".join(data["text/markdown"])))
        elif "text/plain" in data: res.append(("text", "".join(data["text/plain"])))
        elif data: res.append(("html", ""))
    merged = []   # consecutive stdout chunks are one text
    for kind, text in res:
        if merged and kind == merged[-1][0] == "stdout": merged[-1] = ("stdout", merged[-1][1] + text)
        else: merged.append((kind, text))
    return merged


def _close(a: str, b: str) -> bool:
    x, y = (float(v.replace(",", "")) for v in (a, b))
    atol = 1 if all(re.fullmatch(r"[-+]?[\d,]+", v) for v in (a, b)) else ATOL
    return abs(x - y) <= max(atol, RTOL * max(abs(x), abs(y)))


def same_text(stored: str, fresh: str) -> str | None:
    "None when `fresh` matches `stored` (words equal, numbers close); else the first line that differs."
    s_lines, f_lines = stored.rstrip().splitlines(), fresh.rstrip().splitlines()
    if len(s_lines) != len(f_lines): return f"{len(s_lines)} lines stored, {len(f_lines)} now"
    for s, f in zip(s_lines, f_lines):
        s, f = _SOME_PATH.sub("<path>", s), _SOME_PATH.sub("<path>", f)
        if _NUMBER.sub("#", s).split() != _NUMBER.sub("#", f).split(): return f"stored {s.strip()!r}, now {f.strip()!r}"
        if _TIMING.search(s): continue
        if not all(_close(a, b) for a, b in zip(_NUMBER.findall(s), _NUMBER.findall(f))):
            return f"stored {s.strip()!r}, now {f.strip()!r}"
    return None


def compare(stored_nb: dict, fresh_nb, ran: list[int]) -> list[str]:
    "Problems of the stored outputs of `stored_nb` (JSON) against a fresh run (`execute`): empty when none."
    if len(stored_nb["cells"]) != len(fresh_nb.cells): return ["cells were added or removed since the outputs were stored"]
    problems = []
    for i in ran:
        stored, fresh = output_texts(stored_nb["cells"][i].get("outputs", [])), output_texts(fresh_nb.cells[i].outputs)
        where = f"cell {i} ({''.join(stored_nb['cells'][i]['source']).strip().splitlines()[0][:60]!r})"
        if fresh and not stored: problems.append(f"{where}: produces output, none stored"); continue
        if [k for k, _ in stored] != [k for k, _ in fresh]:
            problems.append(f"{where}: stored outputs {[k for k, _ in stored]}, now {[k for k, _ in fresh]}"); continue
        for (kind, s), (_, f) in zip(stored, fresh):
            if (diff := same_text(s, f)): problems.append(f"{where}: {kind} differs: {diff}")
    return problems


def _plain(obj):
    "execnb's attribute dicts as plain JSON values, multi-line strings split as nbformat stores them."
    if isinstance(obj, dict): return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)): return [_plain(v) for v in obj]
    return obj


def _child(argv):
    "The `--execute-to RESULT [--skip-flags a,b] NOTEBOOK` mode: run one notebook here, write the result as JSON."
    import json
    result, rest = Path(argv[argv.index("--execute-to") + 1]), argv[argv.index("--execute-to") + 2:]
    skip = None
    if "--skip-flags" in rest:
        i = rest.index("--skip-flags"); skip = [f for f in rest[i + 1].split(",") if f and f != "-"]; rest = rest[:i] + rest[i + 2:]
    nb, ran, error = _execute_here(Path(rest[0]), skip)
    cells = [(c.cell_type, [_plain(dict(o)) for o in c.outputs] if c.cell_type == "code" else []) for c in nb.cells]
    result.write_text(json.dumps(dict(cells=cells, ran=ran, error=error)))


if __name__ == "__main__" and "--execute-to" in sys.argv:
    _child(sys.argv[1:])
elif __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    if "-h" in sys.argv or "--help" in sys.argv: sys.exit(__doc__)
    failed = []
    for nb_path in notebooks(args):
        try: print(f"{nb_path.relative_to(ROOT)}: {refresh(nb_path):.0f} s", flush=True)
        except RuntimeError as e: failed.append(nb_path); print(e, file=sys.stderr)
    if failed: sys.exit(f"{len(failed)} notebook(s) failed: " + ", ".join(p.name for p in failed))
