"""The `kdoffload` command line: profiles, parameter checks, where runs go, safe runs (kdoffload.cli)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from kdoffload import cli, settings

REPOSITORY = Path(__file__).parents[1]


def write_chapter(path, parameters="profile = 'smoke'\nsize = 3", body="print(size * 2)"):
    cells = [new_markdown_cell("# A chapter"), new_code_cell(parameters), new_code_cell(body)]
    cells[1].metadata["tags"] = ["parameters"]
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A small repository: two chapters, a book configuration, and a shipped `paper` profile."""
    project = tmp_path / "project"
    (project / "notebooks").mkdir(parents=True)
    (project / "book").mkdir()
    write_chapter(project / "notebooks" / "01_first.ipynb")
    write_chapter(project / "notebooks" / "02_second.ipynb", "profile = 'smoke'\nseeds = [0]", "print(len(seeds))")
    (project / "_config.yml").write_text("title: test\nexecute:\n  execute_notebooks: 'off'\n")
    (project / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nparts:\n  - caption: C\n    chapters:\n"
                                      "      - file: book/01_first\n      - file: book/02_second\n")
    (project / "book" / "intro.md").write_text("# Intro\n\nThe paper report.\n")
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "paper.yaml").write_text("common: {seeds: [0, 1, 2]}\n")
    (profiles / "smoke.yaml").write_text("common: {}\n")
    monkeypatch.setattr(settings, "PROFILES_DIR", profiles)
    for variable in ("KDOFFLOAD_RESULTS_DIR", "KDOFFLOAD_PROGRESS", "KDOFFLOAD_PROGRESS_FILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("KDOFFLOAD_CACHE_DIR", str(tmp_path / "cache"))
    return project


def book_args(root, *more):
    return ["book", "--root", str(root), "--no-build", "-q", *more]


# --- profiles and parameters ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["paper", "smoke"])
def test_shipped_profiles_load(name):
    profile = settings.load_profile(name)
    assert profile.name == name and isinstance(profile.common, dict) and isinstance(profile.chapters, dict)
    assert profile.is_report == (name == "paper")


def test_unknown_profile_is_an_error():
    with pytest.raises(settings.ProfileError, match="no profile 'papr'"):
        settings.load_profile("papr")


def test_a_copy_of_the_paper_profile_is_not_the_report(tmp_path):
    path = tmp_path / "paper.yaml"
    path.write_text((settings.PROFILES_DIR / "paper.yaml").read_text())
    assert not settings.load_profile(str(path)).is_report


def test_profile_with_unknown_section_is_an_error(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("commons: {seeds: [1]}\n")
    with pytest.raises(settings.ProfileError, match="unknown top-level keys"):
        settings.load_profile(str(path))


def test_shipped_profiles_match_the_chapters():
    """Every name in the shipped profiles is a parameter of the repository's chapters, of the default's type."""
    notebooks = cli.chapter_notebooks(REPOSITORY / "notebooks")
    for name in ("paper", "smoke"):
        profile = settings.load_profile(name)
        cli.check_profile_names(profile, notebooks)
        resolved = cli.resolve_parameters(profile, notebooks)
        assert all(params["profile"] == name for params in resolved.values())


def test_resolve_applies_common_chapter_and_overrides(root, tmp_path):
    profile_path = tmp_path / "custom.yaml"
    profile_path.write_text("common: {seeds: [1, 2]}\nchapters: {01_first: {size: 10}}\n")
    notebooks = cli.chapter_notebooks(root / "notebooks")
    overrides = cli.parse_overrides([("01.size", "7"), ("seeds", "[5]")])
    resolved = cli.resolve_parameters(settings.load_profile(str(profile_path)), notebooks, overrides)
    assert resolved == {"01_first": {"profile": "custom", "size": 7}, "02_second": {"profile": "custom", "seeds": [5]}}


@pytest.mark.parametrize("pairs, message", [
    ([("sise", "3")], "no chapter declares a parameter 'sise'"),
    ([("02_second.size", "3")], "02_second has no parameter 'size'"),
    ([("09_nothing.size", "3")], "no chapter '09_nothing'"),
    ([("seeds", "0")], r"02_second.seeds = 0 is a int, but its default \[0\] is a list"),
    ([("size", "'big'")], "01_first.size = 'big' is a str, but its default 3 is a int"),
])
def test_bad_parameter_is_an_error(root, pairs, message):
    notebooks = cli.chapter_notebooks(root / "notebooks")
    with pytest.raises(cli.BookError, match=message):
        cli.resolve_parameters(settings.load_profile("smoke"), notebooks, cli.parse_overrides(pairs))


@pytest.mark.parametrize("pairs, message", [
    ([("profile", "paper")], "'profile' is fixed by the profile; choose it with --profile"),
    ([("03_teacher.train_profile", "paper")], "'train_profile' is fixed by the profile"),
    ([("size", "3"), ("size", "4")], "-p size is given twice"),
])
def test_reserved_and_repeated_overrides_are_errors(pairs, message):
    with pytest.raises(cli.BookError, match=message):
        cli.parse_overrides(pairs)


def test_override_for_a_chapter_not_being_run_is_an_error(root, capsys):
    code = cli.main(book_args(root, "--profile", "smoke", "--only", "02", "-p", "01.size", "5"))
    assert code == 1
    assert "chapter 01_first is not being run" in capsys.readouterr().err
    assert not (root / "_build").exists()


def test_main_reports_misspelt_parameter_without_running(root, capsys):
    code = cli.main(book_args(root, "--profile", "smoke", "-p", "sise", "3"))
    assert code == 1
    assert "no chapter declares a parameter 'sise'" in capsys.readouterr().err
    assert not (root / "_build").exists()


def test_no_run_and_no_build_together_is_an_error(root, capsys):
    assert cli.main(["book", "--root", str(root), "--no-run", "--no-build"]) == 1
    assert "--no-run and --no-build together do nothing" in capsys.readouterr().err


def test_outside_the_repository_the_error_says_how_to_point_at_it(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["parameters", "--root", str(tmp_path)]) == 1
    assert "point at it with --root PATH" in capsys.readouterr().err


def test_version_and_help_with_examples(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("kdoffload ")
    with pytest.raises(SystemExit):
        cli.main(["book", "--help"])
    text = capsys.readouterr().out
    assert "examples:" in text and "kdoffload book --profile smoke" in text


def test_parameters_shows_the_profile_values(root, capsys):
    assert cli.main(["parameters", "--root", str(root), "--profile", "paper"]) == 0
    out = capsys.readouterr().out
    assert "seeds = [0, 1, 2]" in out and "size = 3" in out and 'profile = "paper"' in out


def test_only_filters_chapters(root):
    assert [p.stem for p in cli.chapter_notebooks(root / "notebooks", ["02"])] == ["02_second"]
    with pytest.raises(cli.BookError, match="no such chapter"):
        cli.chapter_notebooks(root / "notebooks", ["07"])


def test_every_parameter_of_the_chapters_is_seen_by_papermill():
    """papermill must parse every assignment of each parameters cell (a comment it cannot read
    would hide the name from the profile check)."""
    import ast

    for notebook in cli.chapter_notebooks(REPOSITORY / "notebooks"):
        cell = next(c for c in nbformat.read(notebook, as_version=4).cells if "parameters" in c.metadata.get("tags", []))
        assigned = {target.id for node in ast.parse(cell.source).body if isinstance(node, ast.Assign)
                    for target in node.targets}
        assert set(cli.declared_parameters(notebook)) == assigned, notebook.name


# --- where runs go, and what they leave alone ------------------------------------------------


def test_committed_book_comes_from_the_paper_profile():
    assert cli.check_one_profile(cli.toc_notebooks(REPOSITORY)) == "paper"


def test_mixed_profiles_refuse_to_build(tmp_path):
    paths = []
    for name, profile in (("a.ipynb", "paper"), ("b.ipynb", "smoke")):
        notebook = new_notebook()
        notebook.metadata["kdoffload"] = {"profile": profile}
        nbformat.write(notebook, tmp_path / name)
        paths.append(tmp_path / name)
    with pytest.raises(cli.BookError, match="different profiles"):
        cli.check_one_profile(paths)


@pytest.mark.slow
def test_smoke_run_goes_to_its_own_folder_and_leaves_the_report_alone(root):
    write_chapter(root / "book" / "01_first.ipynb", body="print('committed')")
    before = (root / "book" / "01_first.ipynb").read_bytes()
    assert cli.main(book_args(root, "--profile", "smoke", "-p", "size", "21")) == 0
    assert (root / "book" / "01_first.ipynb").read_bytes() == before
    assert not (root / "book" / "results").exists()
    run = root / "_build" / "runs" / "smoke-custom"
    executed = nbformat.read(run / "book" / "01_first.ipynb", as_version=4)
    injected = [cell for cell in executed.cells if "injected-parameters" in cell.metadata.get("tags", [])]
    assert len(injected) == 1 and "remove-cell" in injected[0].metadata["tags"]
    assert executed.cells[-1].outputs[0]["text"] == "42\n"
    assert executed.metadata["kdoffload"] == {"profile": "smoke", "overrides": {"size": 21}}
    results = json.loads((run / "book" / "results" / "smoke.json").read_text())
    assert set(results["run_times"]) == {"01_first", "02_second"}
    assert {entry["cache"] for entry in results["run_times"].values()} == {"warm"}
    assert oct((run / "book" / "results" / "smoke.json").stat().st_mode & 0o777) == "0o644"
    intro = (run / "book" / "intro.md").read_text()
    assert "run with the **smoke** profile" in intro and "`size = 21`" in intro
    assert not (root / "_build" / "staging" / "smoke-custom").exists()


@pytest.mark.slow
def test_paper_run_writes_the_report(root):
    assert cli.main(book_args(root, "--profile", "paper", "--only", "02")) == 0
    executed = nbformat.read(root / "book" / "02_second.ipynb", as_version=4)
    assert executed.cells[-1].outputs[0]["text"] == "3\n"
    assert json.loads((root / "book" / "results" / "paper.json").read_text())["profile"] == "paper"


@pytest.mark.slow
def test_failed_chapter_leaves_committed_chapter_and_results(root, capsys):
    write_chapter(root / "notebooks" / "03_broken.ipynb", body="raise ValueError('boom')")
    (root / "book" / "results").mkdir()
    (root / "book" / "results" / "paper.json").write_text('{"profile": "paper", "kept": 1}\n')
    write_chapter(root / "book" / "03_broken.ipynb", body="print('committed')")
    committed = (root / "book" / "03_broken.ipynb").read_bytes()
    code = cli.main(book_args(root, "--profile", "paper", "--only", "03"))
    assert code == 1
    err = capsys.readouterr().err
    assert "03_broken.ipynb failed in cell" in err and "ValueError: boom" in err
    assert (root / "book" / "03_broken.ipynb").read_bytes() == committed
    assert json.loads((root / "book" / "results" / "paper.json").read_text()) == {"profile": "paper", "kept": 1}


@pytest.mark.slow
def test_interrupted_run_keeps_committed_chapters_and_a_rerun_completes(root):
    started = root / "chapter-2-started"  # chapter 2 touches it once its cell runs
    write_chapter(root / "notebooks" / "02_second.ipynb", "profile = 'smoke'\nseeds = [0]",
                  f"import pathlib, time\npathlib.Path({str(started)!r}).touch()\ntime.sleep(60)")
    write_chapter(root / "book" / "02_second.ipynb", body="print('committed')")
    committed = (root / "book" / "02_second.ipynb").read_bytes()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # A non-interactive shell starts background jobs with SIGINT ignored, and children inherit
    # that; a user's Ctrl-C reaches a run with Python's own handler, so the run gets it back.
    program = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
               "from pathlib import Path; from kdoffload import cli, settings; "
               f"settings.PROFILES_DIR = Path({str(settings.PROFILES_DIR)!r}); "
               f"sys.exit(cli.main({book_args(root, '--profile', 'paper')!r}))")
    command = [sys.executable, "-c", program]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.time() + 120
    while not started.exists() and time.time() < deadline:  # a loaded machine may start the kernel slowly
        time.sleep(0.2)
    assert started.exists(), "chapter 2 never started"
    time.sleep(1)  # inside chapter 2's sleep
    os.killpg(process.pid, signal.SIGINT)
    process.communicate(timeout=60)
    assert process.returncode != 0
    assert (root / "book" / "02_second.ipynb").read_bytes() == committed
    assert nbformat.read(root / "book" / "01_first.ipynb", as_version=4).cells[-1].outputs[0]["text"] == "6\n"
    write_chapter(root / "notebooks" / "02_second.ipynb", "profile = 'smoke'\nseeds = [0]", "print(len(seeds))")
    assert cli.main(book_args(root, "--profile", "paper")) == 0
    assert nbformat.read(root / "book" / "02_second.ipynb", as_version=4).cells[-1].outputs[0]["text"] == "3\n"


@pytest.mark.slow
def test_chapter_progress_reaches_the_terminal_not_the_notebook(root, capfd):
    write_chapter(root / "notebooks" / "01_first.ipynb", body=(
        "from kdoffload.progress import bar\nfor _ in bar(range(3), desc='labelling'):\n    pass\nprint(size)"))
    args = [arg for arg in book_args(root, "--profile", "smoke", "--only", "01") if arg != "-q"]
    assert cli.main(args) == 0
    err = capfd.readouterr().err
    assert "labelling" in err and "without encryption" not in err
    executed = nbformat.read(root / "_build" / "runs" / "smoke" / "book" / "01_first.ipynb", as_version=4)
    assert [output.get("name") for output in executed.cells[-1].outputs] == ["stdout"]


def test_refresh_keeps_stored_timings_of_unchanged_cells(tmp_path):
    def notebook(text):
        cell = new_code_cell("print(time.time())")
        cell.metadata["tags"] = ["nbval-ignore-output"]
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        return new_notebook(cells=[cell])

    nbformat.write(notebook("1.0\n"), tmp_path / "old.ipynb")
    nbformat.write(notebook("2.0\n"), tmp_path / "new.ipynb")
    cli.strip_run_metadata(tmp_path / "new.ipynb", previous=tmp_path / "old.ipynb")
    assert nbformat.read(tmp_path / "new.ipynb", as_version=4).cells[0].outputs[0]["text"] == "1.0\n"


@pytest.mark.slow
def test_a_killed_cache_write_is_never_served(tmp_path):
    """joblib writes a cache entry to a temporary file and renames it into place, so a process
    killed while it stores a result leaves either a complete entry or none; the next call must
    return the full result (recomputed or loaded), never a truncated one."""
    (tmp_path / "slowmodule.py").write_text(
        "import numpy as np\nfrom pathlib import Path\n\n"
        "def big(n, marker):\n    Path(marker).write_text('computed')\n    return np.ones(n)\n")
    marker = tmp_path / "marker"
    program = ("import sys, joblib; sys.path.insert(0, sys.argv[1]); import slowmodule; "
               "joblib.Memory(sys.argv[2], verbose=0).cache(slowmodule.big)(20_000_000, sys.argv[3])")
    process = subprocess.Popen([sys.executable, "-c", program, str(tmp_path), str(tmp_path / "cache"), str(marker)])
    deadline = time.time() + 60
    while not marker.exists() and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)  # the result is being pickled to disk now
    process.kill()
    process.wait()
    sys.path.insert(0, str(tmp_path))
    try:
        import joblib
        import slowmodule

        result = joblib.Memory(str(tmp_path / "cache"), verbose=0).cache(slowmodule.big)(20_000_000, str(marker))
    finally:
        sys.path.remove(str(tmp_path))
    assert result.shape == (20_000_000,) and result.sum() == 20_000_000
