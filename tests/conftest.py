"Shared pytest fixtures: the real survey data mirror and the project root."
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def mirror() -> Path:
    "The offline data mirror (`VARTRANSFER_MIRROR`, default `../shared/data`)."
    path = Path(os.environ.get("VARTRANSFER_MIRROR", ROOT.parent / "shared" / "data"))
    if not path.is_dir(): pytest.skip(f"data mirror {path} not found; set VARTRANSFER_MIRROR")
    return path
