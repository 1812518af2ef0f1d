"""Run every notebook in `nbs/` as one pytest item and check its stored outputs against the run.

Each notebook runs as nbdev's tester runs it (in-process, `IN_TEST=1`, cells flagged with
`tst_flags` left out), through `scripts/refresh_outputs.py`, the script that stores the outputs;
the test then fails when a cell that produces output has none stored, or when the stored text
outputs are stale (words differ, or numbers beyond the tolerance that script documents). Figures
are compared by presence, not bytes. Fix either with `python scripts/refresh_outputs.py NOTEBOOK`."""
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("refresh_outputs", ROOT / "scripts" / "refresh_outputs.py")
refresh_outputs = importlib.util.module_from_spec(spec); spec.loader.exec_module(refresh_outputs)
NOTEBOOKS = refresh_outputs.notebooks()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "nbs")))
def test_notebook(notebook: Path):
    nb, ran, error = refresh_outputs.execute(notebook)
    assert error is None, f"{notebook.name} failed:\n{error}"
    problems = refresh_outputs.compare(json.loads(notebook.read_text()), nb, ran)
    rel = notebook.relative_to(ROOT)
    assert not problems, (f"{rel}: stored outputs missing or stale; run `python scripts/refresh_outputs.py {rel}`\n"
                          + "\n".join(problems[:20]))


def test_compare_catches_missing_and_stale_outputs():
    "The comparison itself: a missing output, changed words, a number moved, a lost figure; timings ignored."
    same = refresh_outputs.same_text
    assert same("MCC 0.801 on 30 stars\n", "MCC 0.803 on 30 stars") is None
    assert same("MCC 0.801 on 30 stars", "MCC 0.701 on 30 stars") is not None
    assert same("MCC 0.801 on 30 stars", "F1 0.801 on 30 stars") is not None
    assert same("features in 3.2 s (250 stars/s)", "features in 9.9 s (81 stars/s)") is None
    assert same("0   1.693  00:00", "0   1.693  00:01") is None
    assert same("a\nb", "a") is not None
    stored = {"cells": [{"cell_type": "code", "source": ["print(1)"], "outputs": []},
                        {"cell_type": "code", "source": ["plot()"], "outputs": [{"output_type": "stream", "name": "stdout", "text": "x\n"}]}]}
    class Cell:
        def __init__(self, outputs): self.outputs = outputs
    class Nb: cells = [Cell([{"output_type": "stream", "name": "stdout", "text": "1\n"}]),
                       Cell([{"output_type": "stream", "name": "stdout", "text": "x\n"},
                             {"output_type": "display_data", "data": {"image/png": "..."}}])]
    problems = refresh_outputs.compare(stored, Nb, [0, 1])
    assert len(problems) == 2 and "none stored" in problems[0] and "image" in problems[1], problems
