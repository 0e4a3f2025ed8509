"""What users meet: plain `pytest --nbval` collects the chapters, and the committed notebooks
hold no local paths, object addresses or progress bars."""

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPOSITORY = Path(__file__).parents[1]
COMMITTED = sorted((REPOSITORY / "notebooks").glob("[0-9][0-9]_*.ipynb")) + sorted(
    (REPOSITORY / "book").glob("[0-9][0-9]_*.ipynb"))


def output_texts(path):
    for cell in nbformat.read(path, as_version=4).cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                yield output.get("name", ""), output["text"]
            for mime, data in output.get("data", {}).items():
                if mime.startswith("text/"):
                    yield mime, data if isinstance(data, str) else "".join(data)


def test_plain_pytest_nbval_collects_the_chapters():
    collected = subprocess.run([sys.executable, "-m", "pytest", "--nbval", "--collect-only", "-q"],
                               cwd=REPOSITORY, capture_output=True, text=True)
    assert collected.returncode == 0, collected.stdout[-2000:]
    for notebook in (REPOSITORY / "notebooks").glob("[0-9][0-9]_*.ipynb"):
        assert f"notebooks/{notebook.name}::Cell 0" in collected.stdout


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_committed_outputs_hold_no_local_paths_addresses_or_bars(path):
    for kind, text in output_texts(path):
        assert not re.search(r"(/work/|/root/|/home/|/tmp/|site-packages)", text), (kind, text[:200])
        assert not re.search(r"\bat 0x[0-9a-f]+", text), (kind, text[:200])
        assert not (kind == "stderr" and re.search(r"\d+%\|", text)), (kind, text[:200])
