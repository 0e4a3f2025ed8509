"""The `kdoffload` command line: profiles, parameter checks, running chapters (kdoffload.cli)."""

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from kdoffload import cli


def write_chapter(path, parameters="profile = 'smoke'\nsize = 3", body="print(size * 2)"):
    cells = [new_markdown_cell("# A chapter"), new_code_cell(parameters), new_code_cell(body)]
    cells[1].metadata["tags"] = ["parameters"]
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)


@pytest.fixture
def root(tmp_path):
    (tmp_path / "notebooks").mkdir()
    write_chapter(tmp_path / "notebooks" / "01_first.ipynb")
    write_chapter(tmp_path / "notebooks" / "02_second.ipynb", "profile = 'smoke'\nseeds = [0]", "print(len(seeds))")
    return tmp_path


@pytest.mark.parametrize("name", ["paper", "smoke"])
def test_shipped_profiles_load(name):
    profile = cli.load_profile(name)
    assert profile.name == name and isinstance(profile.common, dict) and isinstance(profile.chapters, dict)


def test_unknown_profile_is_an_error():
    with pytest.raises(cli.BookError, match="no profile 'papr'"):
        cli.load_profile("papr")


def test_profile_with_unknown_section_is_an_error(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("commons: {seeds: [1]}\n")
    with pytest.raises(cli.BookError, match="unknown top-level keys"):
        cli.load_profile(str(path))


def test_shipped_profiles_match_the_chapters():
    """Every name in the shipped profiles is a parameter of the repository's chapters."""
    from pathlib import Path

    notebooks = cli.chapter_notebooks(Path(__file__).parents[1] / "notebooks")
    for name in ("paper", "smoke"):
        resolved = cli.resolve_parameters(cli.load_profile(name), notebooks)
        assert all(params["profile"] == name for params in resolved.values())


def test_resolve_applies_common_chapter_and_overrides(root, tmp_path):
    profile_path = tmp_path / "custom.yaml"
    profile_path.write_text("common: {seeds: [1, 2]}\nchapters: {01_first: {size: 10}}\n")
    notebooks = cli.chapter_notebooks(root / "notebooks")
    overrides = cli.parse_overrides([("01_first.size", "7"), ("seeds", "[5]")])
    resolved = cli.resolve_parameters(cli.load_profile(str(profile_path)), notebooks, overrides)
    assert resolved == {"01_first": {"profile": "custom", "size": 7}, "02_second": {"profile": "custom", "seeds": [5]}}


@pytest.mark.parametrize("pairs, message", [
    ([("sise", "3")], "no chapter declares a parameter 'sise'"),
    ([("02_second.size", "3")], "02_second has no parameter 'size'"),
    ([("09_nothing.size", "3")], "no chapter '09_nothing'"),
])
def test_misspelt_parameter_is_an_error(root, pairs, message):
    notebooks = cli.chapter_notebooks(root / "notebooks")
    with pytest.raises(cli.BookError, match=message):
        cli.resolve_parameters(cli.load_profile("smoke"), notebooks, cli.parse_overrides(pairs))


def test_main_reports_misspelt_parameter_without_running(root, capsys):
    code = cli.main(["book", "--root", str(root), "--profile", "smoke", "-p", "sise", "3", "--no-build"])
    assert code == 1
    assert "no chapter declares a parameter 'sise'" in capsys.readouterr().err
    assert not (root / "book").exists()


def test_only_filters_chapters(root):
    assert [p.stem for p in cli.chapter_notebooks(root / "notebooks", ["02"])] == ["02_second"]
    with pytest.raises(cli.BookError, match="no such chapter"):
        cli.chapter_notebooks(root / "notebooks", ["07"])


@pytest.mark.slow
def test_book_runs_chapters_in_their_folder_and_hides_injected_cell(root):
    code = cli.main(["book", "--root", str(root), "--profile", "smoke", "-p", "size", "21", "--no-build", "-q"])
    assert code == 0
    executed = nbformat.read(root / "book" / "01_first.ipynb", as_version=4)
    injected = [cell for cell in executed.cells if "injected-parameters" in cell.metadata.get("tags", [])]
    assert len(injected) == 1 and "remove-cell" in injected[0].metadata["tags"]
    assert executed.cells[-1].outputs[0]["text"] == "42\n"
    results = json.loads((root / "book" / "results" / "smoke.json").read_text())
    assert set(results["run_times"]) == {"01_first", "02_second"}


@pytest.mark.slow
def test_failed_chapter_names_notebook_and_cell(root, capsys):
    write_chapter(root / "notebooks" / "03_broken.ipynb", body="raise ValueError('boom')")
    code = cli.main(["book", "--root", str(root), "--profile", "smoke", "--only", "03", "--no-build", "-q"])
    assert code == 1
    err = capsys.readouterr().err
    assert "03_broken.ipynb failed in cell" in err and "ValueError: boom" in err


def test_every_parameter_of_the_chapters_is_seen_by_papermill():
    """papermill must parse every assignment of each parameters cell (a comment it cannot read
    would hide the name from the profile check)."""
    import ast
    from pathlib import Path

    for notebook in cli.chapter_notebooks(Path(__file__).parents[1] / "notebooks"):
        cell = next(c for c in nbformat.read(notebook, as_version=4).cells if "parameters" in c.metadata.get("tags", []))
        assigned = {target.id for node in ast.parse(cell.source).body if isinstance(node, ast.Assign)
                    for target in node.targets}
        assert set(cli.declared_parameters(notebook)) == assigned, notebook.name


def test_only_accepts_common_names_of_chapters_left_out(root, tmp_path):
    """`--only 02` with a profile whose common names belong to chapter 01 is not an error."""
    profile_path = tmp_path / "custom.yaml"
    profile_path.write_text("common: {size: 5, seeds: [1]}\n")
    code = cli.main(["book", "--root", str(root), "--profile", str(profile_path), "--only", "02",
                     "--no-run", "--no-build"])
    assert code == 0
    code = cli.main(["book", "--root", str(root), "--profile", str(profile_path), "--only", "02",
                     "-p", "sise", "3", "--no-run", "--no-build"])
    assert code == 1
