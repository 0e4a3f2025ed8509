"""``kdoffload`` command line: run the book's chapters with papermill, then build the book.

Usage::

    kdoffload book --profile paper                 # what `make book` runs
    kdoffload book --profile smoke -p seeds "[0, 1]" -p 03_teacher.epochs 5
    kdoffload book --profile paper --only 03 04     # rerun two chapters (results merge)
    kdoffload book --profile smoke --no-build       # execute only
    kdoffload refresh                               # re-execute notebooks/ in place (smoke
                                                    # defaults): the outputs nbval compares
    kdoffload parameters                            # every chapter's parameters and defaults

A profile is a YAML file (``src/kdoffload/profiles/<name>.yaml`` or a path)::

    description: one line
    common:            # for every chapter that declares the name
      seeds: [0, 1, 2]
    chapters:
      01_system_model:
        n_samples: 100000

Every chapter also receives ``profile`` (the profile's name). A name that a chapter does not
declare in its ``parameters`` cell is an error, before anything runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

PROFILES_DIR = Path(__file__).parent / "profiles"
PROGRESS_VARIABLE = "KDOFFLOAD_PROGRESS"


class BookError(RuntimeError):
    """A problem the user must fix (bad profile, unknown parameter, failed chapter)."""


# --- profiles ------------------------------------------------------------------------------


@dataclass
class Profile:
    """A named set of parameter overrides: ``common`` for all chapters, ``chapters`` per chapter."""

    name: str
    common: dict = field(default_factory=dict)
    chapters: dict = field(default_factory=dict)
    description: str = ""


def available_profiles() -> list[str]:
    """Names of the profiles shipped with the package."""
    return sorted(path.stem for path in PROFILES_DIR.glob("*.yaml"))


def load_profile(name_or_path: str) -> Profile:
    """A shipped profile by name (``paper``, ``smoke``) or a YAML file by path."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = PROFILES_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        raise BookError(f"no profile {name_or_path!r}: choose one of {available_profiles()} or give a YAML file")
    with open(path) as handle:
        data = yaml.safe_load(handle) or {}
    if not isinstance(data, dict):
        raise BookError(f"profile {path} must be a mapping, got {type(data).__name__}")
    unknown = set(data) - {"description", "common", "chapters"}
    if unknown:
        raise BookError(f"profile {path}: unknown top-level keys {sorted(unknown)}; "
                        "allowed: description, common, chapters")
    chapters = data.get("chapters") or {}
    for chapter, params in chapters.items():
        if not isinstance(params, dict):
            raise BookError(f"profile {path}: chapters.{chapter} must be a mapping of parameters")
    return Profile(name=path.stem, common=dict(data.get("common") or {}), chapters=dict(chapters),
                   description=data.get("description", ""))


def parse_overrides(pairs) -> list[tuple[str | None, str, object]]:
    """``-p NAME VALUE`` pairs as (chapter or None, name, value); VALUE is read as YAML."""
    overrides = []
    for name, text in pairs or []:
        chapter, _, short = name.rpartition(".")
        overrides.append((chapter or None, short, yaml.safe_load(text)))
    return overrides


# --- chapters --------------------------------------------------------------------------------


def chapter_notebooks(notebooks_dir: Path, only=None) -> list[Path]:
    """The chapter sources ``NN_name.ipynb`` in run order, filtered by ``only`` (prefixes or names)."""
    notebooks = sorted(path for path in notebooks_dir.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise BookError(f"no chapters NN_name.ipynb in {notebooks_dir}")
    if only:
        chosen = [path for path in notebooks if any(path.stem.startswith(key) or path.stem == key for key in only)]
        missing = [key for key in only if not any(path.stem.startswith(key) for path in notebooks)]
        if missing:
            raise BookError(f"--only {missing}: no such chapter; chapters are {[p.stem for p in notebooks]}")
        notebooks = chosen
    return notebooks


def declared_parameters(notebook: Path) -> dict:
    """The ``parameters`` cell of ``notebook`` as {name: {"default": ..., ...}} (papermill's reading)."""
    import papermill

    return papermill.inspect_notebook(str(notebook))


def resolve_parameters(profile: Profile, notebooks: list[Path], overrides=(), all_chapters=None) -> dict[str, dict]:
    """Parameters for each chapter (by stem), checked against its parameters cell.

    Raises :class:`BookError` listing every name that no chapter (or not the named chapter)
    declares, with the names it does declare.
    """
    declared = {path.stem: declared_parameters(path) for path in notebooks}
    errors = []
    for stem, names in declared.items():
        if "profile" not in names:
            errors.append(f"{stem}: the parameters cell must define `profile`")
    resolved = {stem: {"profile": profile.name} for stem in declared}

    def apply(chapter, name, value, origin):
        if chapter is not None:
            if chapter not in declared:
                if chapter not in (all_chapters or declared):
                    errors.append(f"{origin}: no chapter {chapter!r} (chapters: {sorted(all_chapters or declared)})")
                return
            if name not in declared[chapter]:
                errors.append(f"{origin}: {chapter} has no parameter {name!r}; "
                              f"it declares {sorted(declared[chapter])}")
                return
            resolved[chapter][name] = value
            return
        targets = [stem for stem in declared if name in declared[stem]]
        if not targets:
            every = sorted({n for names in declared.values() for n in names})
            errors.append(f"{origin}: no chapter declares a parameter {name!r}; declared names: {every}")
        for stem in targets:
            resolved[stem][name] = value

    for name, value in profile.common.items():
        apply(None, name, value, f"profile {profile.name}, common.{name}")
    for chapter, params in profile.chapters.items():
        if chapter not in declared:
            # A chapter filtered out by --only is fine; an unknown one is an error.
            if chapter not in (all_chapters or declared):
                errors.append(f"profile {profile.name}: no chapter {chapter!r} "
                              f"(chapters: {sorted(all_chapters or declared)})")
            continue
        for name, value in params.items():
            apply(chapter, name, value, f"profile {profile.name}, chapters.{chapter}.{name}")
    for chapter, name, value in overrides:
        apply(chapter, name, value, f"-p {chapter + '.' if chapter else ''}{name}")
    if errors:
        raise BookError("bad parameters:\n  " + "\n  ".join(errors))
    return resolved


def hide_injected_parameters(notebook_path: Path) -> None:
    """Tag papermill's injected-parameters cell ``remove-cell`` so the rendered book hides it."""
    import nbformat

    notebook = nbformat.read(notebook_path, as_version=4)
    changed = False
    for cell in notebook.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
            changed = True
    if changed:
        nbformat.write(notebook, notebook_path)


def strip_run_metadata(notebook_path: Path) -> None:
    """Remove papermill's timing metadata, so re-executed sources differ only where outputs do."""
    import nbformat

    notebook = nbformat.read(notebook_path, as_version=4)
    notebook.metadata.pop("papermill", None)
    for cell in notebook.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nbformat.write(notebook, notebook_path)


def describe_failure(error, notebook: Path, output: Path) -> str:
    """One message naming the chapter, the cell and the exception of a failed execution."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(error, PapermillExecutionError):
        first_line = next((line for line in error.source.splitlines() if line.strip()), "")
        return (f"chapter {notebook.name} failed in cell {error.cell_index} "
                f"(execution count {error.exec_count}; of the executed copy {output}), "
                f"which begins `{first_line}`:\n  {error.ename}: {error.evalue}")
    return f"chapter {notebook.name} failed: {type(error).__name__}: {error}"


def execute_chapter(notebook: Path, output: Path, parameters: dict | None, kernel: str, cell_progress: bool,
                    position: int = 1) -> float:
    """Run ``notebook`` into ``output`` with papermill (cwd = output's folder); returns seconds."""
    import papermill

    output.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    papermill.execute_notebook(
        str(notebook), str(output), parameters=parameters or None, kernel_name=kernel,
        cwd=str(output.parent), log_output=False,
        progress_bar={"desc": f"  {notebook.stem}", "leave": False, "position": position} if cell_progress else False,
    )
    return time.perf_counter() - start


def run_chapters(notebooks: list[Path], output_dir: Path, parameters: dict[str, dict] | None, kernel: str,
                 progress: bool, on_done=None, inplace: bool = False) -> dict[str, float]:
    """Execute the chapters in order; stops at the first failure with a :class:`BookError`."""
    from tqdm import tqdm

    times = {}
    bar = tqdm(notebooks, desc="chapters", unit="chapter", disable=not progress, position=0)
    for notebook in bar:
        bar.set_postfix_str(notebook.stem)
        output = notebook if inplace else output_dir / notebook.name
        try:
            seconds = execute_chapter(notebook, output, (parameters or {}).get(notebook.stem), kernel, progress)
        except Exception as error:  # noqa: BLE001 - every failure is reported the same way
            bar.close()
            raise BookError(describe_failure(error, notebook, output)) from error
        if inplace:
            strip_run_metadata(output)
        else:
            hide_injected_parameters(output)
        times[notebook.stem] = seconds
        if on_done is not None:
            on_done(notebook.stem, seconds)
        bar.write(f"{notebook.stem}: {seconds:.1f} s")
    return times


def jupyter_book_command() -> list[str]:
    """The ``jupyter-book`` executable of this environment."""
    beside = Path(sys.executable).parent / "jupyter-book"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("jupyter-book")
    if found:
        return [found]
    raise BookError("jupyter-book is not installed in this environment")


def build_book(root: Path, strict: bool) -> None:
    """``jupyter-book build <root>`` (with ``-W -n --keep-going`` if ``strict``)."""
    command = jupyter_book_command() + ["build", str(root)]
    if strict:
        command += ["-W", "-n", "--keep-going"]
    print("$ " + " ".join(command), flush=True)
    completed = subprocess.run(command, cwd=root)
    if completed.returncode != 0:
        raise BookError(f"jupyter-book build failed with exit code {completed.returncode}")


# --- commands --------------------------------------------------------------------------------


def command_book(args) -> None:
    root = Path(args.root).resolve()
    notebooks = chapter_notebooks(root / "notebooks", args.only)
    output_dir = root / args.output
    profile = load_profile(args.profile)
    # Check the profile against every chapter (a common name may belong to chapters that
    # --only leaves out), then keep the chosen chapters' parameters.
    every = chapter_notebooks(root / "notebooks")
    parameters = resolve_parameters(profile, every, parse_overrides(args.param))
    parameters = {path.stem: parameters[path.stem] for path in notebooks}
    if not args.no_run:
        from . import report

        results_root = output_dir / "results"
        os.environ[report.RESULTS_DIR_VARIABLE] = str(results_root)
        os.environ.setdefault(PROGRESS_VARIABLE, "0")  # no progress bars inside the rendered chapters
        if not args.only:
            report.reset(profile.name, results_root)
        print(f"profile {profile.name}: {len(notebooks)} chapter(s) from {root / 'notebooks'} into {output_dir}",
              flush=True)
        times = run_chapters(
            notebooks, output_dir, parameters, args.kernel, not args.quiet,
            on_done=lambda stem, seconds: report.record_run_time(profile.name, stem, seconds, results_root),
        )
        print(f"executed {len(times)} chapter(s) in {sum(times.values()):.0f} s; "
              f"results in {report.results_path(profile.name, results_root)}", flush=True)
    if not args.no_build:
        build_book(root, args.strict)
        print(f"book: {root / '_build' / 'html' / 'index.html'}")


def command_refresh(args) -> None:
    root = Path(args.root).resolve()
    notebooks = chapter_notebooks(root / "notebooks", args.only)
    os.environ[PROGRESS_VARIABLE] = "0"  # exactly as under nbval (see the Makefile's test target)
    os.environ.pop("KDOFFLOAD_RESULTS_DIR", None)
    if not args.only:
        from . import report

        report.reset("smoke", root / "notebooks" / "results")
    run_chapters(notebooks, root / "notebooks", None, args.kernel, not args.quiet, inplace=True)


def command_parameters(args) -> None:
    root = Path(args.root).resolve()
    for notebook in chapter_notebooks(root / "notebooks", args.only):
        print(notebook.stem)
        for name, info in declared_parameters(notebook).items():
            help_text = f"  # {info['help']}" if info.get("help") else ""
            print(f"  {name} = {info['default']}{help_text}")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kdoffload", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def common(sub):
        sub.add_argument("--root", default=".", help="repository root holding _config.yml and notebooks/ (default .)")
        sub.add_argument("--only", nargs="+", metavar="CHAPTER", help="chapters to run, by prefix (e.g. 03) or name")
        sub.add_argument("--kernel", default="python3", help="Jupyter kernel (default python3)")
        sub.add_argument("-q", "--quiet", action="store_true", help="no progress bars")

    book = commands.add_parser("book", help="execute the chapters into book/ and build the HTML")
    common(book)
    book.add_argument("--profile", default="paper", help=f"profile name {available_profiles()} or YAML path")
    book.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"),
                      help="override a parameter (VALUE read as YAML); CHAPTER.NAME for one chapter only")
    book.add_argument("--output", default="book", help="folder of the executed chapters (default book)")
    book.add_argument("--no-run", action="store_true", help="only build the HTML from the executed chapters")
    book.add_argument("--no-build", action="store_true", help="only execute the chapters")
    book.add_argument("--strict", action="store_true", help="build with -W -n --keep-going (as CI does)")
    book.set_defaults(func=command_book)

    refresh = commands.add_parser("refresh", help="re-execute notebooks/ in place with their smoke defaults")
    common(refresh)
    refresh.set_defaults(func=command_refresh)

    params = commands.add_parser("parameters", help="list every chapter's parameters and defaults")
    common(params)
    params.set_defaults(func=command_parameters)
    return parser


def main(argv=None) -> int:
    args = make_parser().parse_args(argv)
    try:
        args.func(args)
    except BookError as error:
        print(f"kdoffload: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("kdoffload: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
