"Run every notebook in `nbs/` as one pytest item, through nbdev's notebook tester and `tst_flags`."
from pathlib import Path

import pytest
from nbdev.config import get_config
from nbdev.test import test_nb as run_notebook

ROOT = Path(__file__).resolve().parents[1]
CFG = get_config(ROOT)
NOTEBOOKS = sorted(p for p in (ROOT / "nbs").rglob("*.ipynb")
                   if not any(part.startswith(("_", ".")) for part in p.relative_to(ROOT / "nbs").parts))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "nbs")))
def test_notebook(notebook: Path):
    skip_flags = CFG.tst_flags.split()
    passed, _ = run_notebook(notebook, skip_flags=skip_flags, basepath=ROOT, cell_timeout=CFG.cell_timeout)
    assert passed, f"{notebook.name} failed (traceback above)"
