"""The calls every chapter makes around its parameters cell (kdoffload.chapter)."""

import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from kdoffload import chapter

DECLARED = {"profile": "smoke", "seeds": [0, 1], "temperature": 5, "rate": 0.5, "flag": True, "name": None}


@pytest.mark.parametrize("injected", [
    {}, {"seeds": [3]}, {"temperature": 2.5}, {"rate": 1}, {"flag": False}, {"name": "x"}, {"seeds": (1, 2)},
])
def test_declared_names_of_the_right_type_pass(injected):
    chapter.check_injected(DECLARED, injected)


@pytest.mark.parametrize("injected, message", [
    ({"temprature": 3}, r"unknown parameter 'temprature' \(did you mean 'temperature'\?\)"),
    ({"seeds": 0}, r"parameter seeds = 0 is a int, but its default \[0, 1\] is a list"),
    ({"flag": 1}, "parameter flag = 1 is a int, but its default True is a bool"),
    ({"profile": 3}, "parameter profile = 3 is a int, but its default 'smoke' is a str"),
])
def test_unknown_or_mistyped_names_are_errors(injected, message):
    with pytest.raises(ValueError, match=message):
        chapter.check_injected(DECLARED, injected)


def test_history_splits_declared_and_injected_cells():
    start = chapter.ChapterStart(frozenset(), history_index=1)
    history = ["", "start = setup()", "seeds = [0, 1]  # training seeds", "# Parameters\nseeds = [4]\nsead = 1\n",
               "params = parameters()"]
    declared, injected = chapter.injected_parameters({"In": history}, start)
    assert declared == {"seeds": [0, 1]} and injected == {"seeds": [4], "sead": 1}


def test_parameter_table_formats_values():
    table = chapter.parameters_markdown({"profile": "smoke", "rate": 0.001, "seeds": [0, 1]})
    assert "| `profile` | `'smoke'` |" in table and "`0.001`" in table and "`[0, 1]`" in table


def write_notebook(path):
    cells = [new_code_cell("from kdoffload import chapter\nstart = chapter.setup(globals())"),
             new_code_cell("profile = 'smoke'\ntemperature = 5"),
             new_code_cell("params = chapter.parameters(globals(), start)\nprint(params)")]
    cells[1].metadata["tags"] = ["parameters"]
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)


@pytest.mark.slow
def test_plain_papermill_rejects_a_misspelt_parameter(tmp_path):
    write_notebook(tmp_path / "chapter.ipynb")
    papermill = [sys.executable, "-m", "papermill", str(tmp_path / "chapter.ipynb"), str(tmp_path / "out.ipynb"),
                 "--no-progress-bar"]
    good = subprocess.run(papermill + ["-p", "temperature", "3"], capture_output=True, text=True, cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert "'temperature': 3" in nbformat.read(tmp_path / "out.ipynb", as_version=4).cells[-1].outputs[-1]["text"]
    bad = subprocess.run(papermill + ["-p", "temprature", "3"], capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode != 0
    assert "unknown parameter 'temprature'" in bad.stderr + bad.stdout
    assert not (tmp_path / "results").exists()


def test_parameters_are_the_names_defined_after_setup_only():
    namespace = {"np": object(), "In": [], "_i1": ""}
    start = chapter.ChapterStart(frozenset(namespace), history_index=None)
    namespace["start"] = start
    namespace.update(profile="smoke", seeds=[0, 1], _hidden=1)
    assert chapter.defined_since(namespace, start) == {"profile": "smoke", "seeds": [0, 1]}
