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


def test_command_line_chain_runs_as_written(tmp_path, mirror):
    "The README's chain, from `fetch` to `evaluate`, run literally in an empty folder (data from the mirror)."
    import os, subprocess, sys
    text = (ROOT / "README.md").read_text()
    section = text.split("## The command line", 1)[1].split("\n## ", 1)[0]
    chain = next(b for b in re.findall(r"```bash\n(.*?)```", section, flags=re.S) if "vartransfer fetch" in b)
    commands = [line.split() for line in chain.strip().splitlines()]
    assert [c[1] for c in commands] == ["fetch", "features", "predict", "transfer", "evaluate"], commands
    run = [sys.executable, "-c", "import sys; from vartransfer.cli.main import main; sys.exit(main())"]
    env = {**os.environ, "VARTRANSFER_MIRROR": str(mirror), "VARTRANSFER_HOME": str(tmp_path / "home"),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    for cmd in commands:
        res = subprocess.run(run + cmd[1:], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert res.returncode == 0, f"`{' '.join(cmd)}` failed:\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}"
        if cmd[1] == "fetch":   # it prints the paths it wrote, which the next commands use
            assert all((tmp_path / p).is_file() for p in res.stdout.split()), res.stdout
    assert (tmp_path / "asas_model.safetensors").is_file() and (tmp_path / "confusion.png").is_file()
    assert "MCC" in res.stdout or "mcc" in res.stdout.lower(), res.stdout
