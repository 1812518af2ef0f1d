"README.md must be exactly what nbs/index.ipynb renders to, and show the two Quick-start commands."
import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("readme_script", ROOT / "scripts" / "readme.py")
readme_script = importlib.util.module_from_spec(spec); spec.loader.exec_module(readme_script)


def test_readme_matches_index_notebook():
    assert (ROOT / "README.md").read_text() == readme_script.render(), "run `python scripts/readme.py`"


def test_quick_start_has_two_commands_and_ci_runs_the_test_one():
    text = (ROOT / "README.md").read_text()
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:bash|sh)\n(.*?)```", quick, flags=re.S)
    assert len(blocks) == 2, f"Quick start should show exactly two commands, found {len(blocks)}"
    test_cmd = blocks[1].strip().splitlines()[-1]
    assert "pytest" in test_cmd and "pytest" in (ROOT / ".ci" / "run").read_text()
