"""``kdoffload`` command line: run the book's chapters with papermill, then build the book.

Where a run goes
    The committed report is ``book/`` (built from the repository root). Only a run of the
    ``paper`` profile with no ``-p`` overrides writes there. Every other run writes a book
    of its own under ``_build/runs/<profile>/`` (``_build/runs/<profile>-custom/`` with
    overrides) and builds it there, with a banner on its front page naming the profile.

Safety
    Each chapter executes into ``_build/staging/`` and replaces its target only when it
    succeeded; the results file is merged after each successful chapter. A failed,
    interrupted or killed run leaves the chapters and results it had not finished as they
    were. A book whose chapters come from different profiles is not built.

Profiles
    A profile is a YAML file (``src/kdoffload/profiles/<name>.yaml`` or a path) read by
    :mod:`kdoffload.settings`, which describes its sections; its ``training.sizes`` and
    ``common`` apply to every chapter that declares the name, ``chapters`` to one chapter.
    Every chapter also receives ``profile`` (the profile's name), which is chosen with
    ``--profile`` and never with ``-p``. A ``-p`` name that no chapter being run declares, a
    repeated ``-p``, or a value whose type differs from the default is an error before
    anything runs.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import __version__
from .chapter import same_kind
from .progress import PROGRESS_FILE_VARIABLE, PROGRESS_VARIABLE
from .settings import REPORT_PROFILE, Profile, ProfileError, available_profiles, load_profile

#: Names a profile fixes: chosen with ``--profile``, never with ``-p``.
RESERVED_PARAMETERS = ("profile", "train_profile")

EXAMPLES = """\
examples:
  kdoffload book                                  the paper report into book/ (what `make book` runs)
  kdoffload book --profile smoke                  quick run into _build/runs/smoke/
  kdoffload book --profile paper --only 04 -p temperatures "[1, 5, 20]"
                                                  chapter 4 with other T, into _build/runs/paper-custom/
  kdoffload book --profile smoke -p 03.epochs 5   a parameter of one chapter (by number or name)
  kdoffload book --no-run --strict                rebuild the HTML of book/ only, warnings as errors
  kdoffload parameters --profile paper            every chapter's parameters as the paper profile sets them
  kdoffload refresh                               re-execute notebooks/ in place (the outputs nbval checks)
"""


class BookError(RuntimeError):
    """A problem the user must fix (bad profile, unknown parameter, failed chapter)."""


# --- profiles ------------------------------------------------------------------------------


def parse_overrides(pairs) -> list[tuple[str | None, str, object]]:
    """``-p NAME VALUE`` pairs as (chapter or None, name, value); VALUE is read as YAML.

    ``profile`` and the other :data:`RESERVED_PARAMETERS` are refused, and so is a name
    given twice.
    """
    overrides, seen = [], set()
    for name, text in pairs or []:
        chapter, _, short = name.rpartition(".")
        if short in RESERVED_PARAMETERS:
            raise BookError(f"-p {name}: {short!r} is fixed by the profile; choose it with --profile "
                            f"(one of {available_profiles()} or a YAML file), not with -p")
        if (chapter, short) in seen:
            raise BookError(f"-p {name} is given twice; give each parameter once")
        seen.add((chapter, short))
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise BookError(f"-p {name} {text!r}: the value is not valid YAML ({error})") from error
        overrides.append((chapter or None, short, value))
    return overrides


# --- chapters --------------------------------------------------------------------------------


def chapter_notebooks(notebooks_dir: Path, only=None) -> list[Path]:
    """The chapter sources ``NN_name.ipynb`` in run order, filtered by ``only`` (prefixes or names)."""
    notebooks = sorted(path for path in notebooks_dir.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise BookError(f"no chapters NN_name.ipynb in {notebooks_dir}: run kdoffload in the kdoffload "
                        "repository, or point at it with --root PATH")
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


def _default_value(info: dict):
    """The default of a parameter as a Python value (``...`` if it is not a literal)."""
    try:
        return ast.literal_eval(info["default"])
    except (ValueError, SyntaxError):
        return ...


def _chapter_of(key: str, stems) -> str | None:
    """The chapter a ``-p`` prefix names: an exact stem, or the one stem starting with ``key``."""
    if key in stems:
        return key
    matches = [stem for stem in stems if stem.startswith(key)]
    return matches[0] if len(matches) == 1 else None


def resolve_parameters(profile: Profile, notebooks: list[Path], overrides=(), all_chapters=None) -> dict[str, dict]:
    """Parameters for each chapter of ``notebooks`` (by stem), checked against its parameters cell.

    ``all_chapters`` (stems) are the chapters of the book; names of the profile that belong
    to chapters not being run are fine, ``-p`` overrides must belong to a chapter being run.
    Raises :class:`BookError` listing every unknown name and every value whose type differs
    from the declared default.
    """
    declared = {path.stem: declared_parameters(path) for path in notebooks}
    all_chapters = set(all_chapters or declared)
    errors = []
    for stem, names in declared.items():
        if "profile" not in names:
            errors.append(f"{stem}: the parameters cell must define `profile`")
    resolved = {stem: {"profile": profile.name} for stem in declared}

    def assign(stem, name, value, origin):
        default = _default_value(declared[stem][name])
        if not same_kind(default, value):
            errors.append(f"{origin}: {stem}.{name} = {value!r} is a {type(value).__name__}, but its default "
                          f"{default!r} is a {type(default).__name__}")
        else:
            resolved[stem][name] = value

    def apply(chapter, name, value, origin, from_profile):
        if chapter is not None:
            stem = _chapter_of(chapter, sorted(all_chapters | set(declared)))
            if stem is None:
                errors.append(f"{origin}: no chapter {chapter!r} (chapters: {sorted(all_chapters | set(declared))})")
            elif stem not in declared:
                if not from_profile:
                    errors.append(f"{origin}: chapter {stem} is not being run (see --only)")
            elif name not in declared[stem]:
                errors.append(f"{origin}: {stem} has no parameter {name!r}; it declares {sorted(declared[stem])}")
            else:
                assign(stem, name, value, origin)
            return
        targets = [stem for stem in declared if name in declared[stem]]
        if not targets and not from_profile:
            every = sorted({n for names in declared.values() for n in names})
            running = "" if set(declared) == all_chapters else " by the chapters being run"
            errors.append(f"{origin}: no chapter declares a parameter {name!r}{running}; declared names: {every}")
        for stem in targets:
            assign(stem, name, value, origin)

    for name, value in profile.chapter_defaults().items():
        section = "common" if name in profile.common else "training.sizes"
        apply(None, name, value, f"profile {profile.name}, {section}.{name}", True)
    for chapter, params in profile.chapters.items():
        for name, value in params.items():
            apply(chapter, name, value, f"profile {profile.name}, chapters.{chapter}.{name}", True)
    for chapter, name, value in overrides:
        apply(chapter, name, value, f"-p {chapter + '.' if chapter else ''}{name}", False)
    if errors:
        raise BookError("bad parameters:\n  " + "\n  ".join(errors))
    return resolved


def check_profile_names(profile: Profile, notebooks: list[Path]) -> None:
    """Every name of ``profile`` is declared by some chapter of the book (a typo is an error)."""
    declared = {path.stem: declared_parameters(path) for path in notebooks}
    errors = []
    for name in profile.chapter_defaults():
        if not any(name in names for names in declared.values()):
            section = "common" if name in profile.common else "training.sizes"
            errors.append(f"profile {profile.name}, {section}.{name}: no chapter declares {name!r}")
    for chapter, params in profile.chapters.items():
        if chapter not in declared:
            errors.append(f"profile {profile.name}: no chapter {chapter!r} (chapters: {sorted(declared)})")
            continue
        for name in params:
            if name not in declared[chapter]:
                errors.append(f"profile {profile.name}, chapters.{chapter}.{name}: {chapter} declares no {name!r}")
    if errors:
        raise BookError("bad profile:\n  " + "\n  ".join(errors))


def mark_executed(notebook_path: Path, profile: str, overrides: dict | None) -> None:
    """Tag papermill's injected cell ``remove-cell``; store the run's profile in the metadata."""
    import nbformat

    notebook = nbformat.read(notebook_path, as_version=4)
    for cell in notebook.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    notebook.metadata["kdoffload"] = {"profile": profile, "overrides": overrides or {}}
    nbformat.write(notebook, notebook_path)


def strip_run_metadata(notebook_path: Path, previous: Path | None = None) -> None:
    """Remove papermill's timing metadata; keep ``previous``'s outputs of unchanged measurement cells.

    Cells tagged ``nbval-ignore-output`` print timings; where such a cell's source is the
    same as in ``previous``, its stored outputs are kept, so a refresh with no real change
    leaves no diff.
    """
    import nbformat

    notebook = nbformat.read(notebook_path, as_version=4)
    notebook.metadata.pop("papermill", None)
    old_cells = []
    if previous is not None and previous.exists():
        old_cells = nbformat.read(previous, as_version=4).cells
    old_by_source = {cell.source: cell for cell in old_cells if cell.cell_type == "code"}
    for cell in notebook.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        old = old_by_source.get(cell.source) if cell.cell_type == "code" else None
        if old is not None and "nbval-ignore-output" in cell.metadata.get("tags", []):
            cell.outputs = old.outputs
    nbformat.write(notebook, notebook_path)


def chapter_profile(notebook_path: Path) -> str | None:
    """The profile an executed chapter ran with (from its metadata), or None if unknown."""
    import nbformat

    metadata = nbformat.read(notebook_path, as_version=4).metadata
    if "kdoffload" in metadata:
        return metadata["kdoffload"].get("profile")
    return (metadata.get("papermill") or {}).get("parameters", {}).get("profile")


def check_one_profile(notebooks: list[Path]) -> str | None:
    """The one profile of ``notebooks``; :class:`BookError` if they come from different profiles."""
    profiles = {path.name: chapter_profile(path) for path in notebooks}
    distinct = set(profiles.values())
    if len(distinct) > 1:
        listing = ", ".join(f"{name}: {profile}" for name, profile in sorted(profiles.items()))
        raise BookError(f"the chapters come from different profiles ({listing}); rerun them with one "
                        "--profile before building")
    return distinct.pop() if distinct else None


def describe_failure(error, notebook: Path, output: Path) -> str:
    """One message naming the chapter, the cell and the exception of a failed execution."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(error, PapermillExecutionError):
        first_line = next((line for line in error.source.splitlines() if line.strip()), "")
        return (f"chapter {notebook.name} failed in cell {error.cell_index} "
                f"(execution count {error.exec_count}; the half-run copy is {output}), "
                f"which begins `{first_line}`:\n  {error.ename}: {error.evalue}")
    return f"chapter {notebook.name} failed: {type(error).__name__}: {error}"


class ProgressForwarder:
    """Copy what the chapters' progress bars append to a file onto this terminal's stderr."""

    def __init__(self, path: Path, enabled: bool):
        self.path, self.enabled = path, enabled
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._offset = 0

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("")
        if self.enabled:
            self._thread.start()
        return self

    def _drain(self) -> None:
        with open(self.path, encoding="utf-8", errors="replace") as handle:
            handle.seek(self._offset)
            text = handle.read()
            self._offset = handle.tell()
        if text:
            sys.stderr.write(text)
            sys.stderr.flush()

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self._drain()

    def __exit__(self, *exc):
        if self.enabled:
            self._stop.set()
            self._thread.join()
            self._drain()
        return False


def execute_chapter(notebook: Path, output: Path, cwd: Path, parameters: dict | None, kernel: str,
                    cell_progress: bool) -> float:
    """Run ``notebook`` into ``output`` with papermill in folder ``cwd``; returns seconds."""
    import papermill

    output.parent.mkdir(parents=True, exist_ok=True)
    cwd.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    papermill.execute_notebook(
        str(notebook), str(output), parameters=parameters or None, kernel_name=kernel,
        cwd=str(cwd), log_output=False,
        progress_bar={"desc": f"  {notebook.stem} (cells)", "leave": False} if cell_progress else False,
        extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no "running over TCP without encryption"
    )
    return time.perf_counter() - start


def cache_entries(cache_dir: Path) -> int:
    """Number of results stored in the on-disk cache (joblib ``output.pkl`` files)."""
    if not cache_dir.exists():
        return 0
    return sum(1 for _ in cache_dir.rglob("output.pkl"))


def cache_dir() -> Path:
    """The on-disk cache of datasets and models (``$KDOFFLOAD_CACHE_DIR``, default ``~/.cache/kdoffload``)."""
    return Path(os.environ.get("KDOFFLOAD_CACHE_DIR", Path.home() / ".cache" / "kdoffload"))


@dataclass
class Run:
    """Where a run of chapters writes: final chapters, final results, and a staging area."""

    chapters_dir: Path          # the executed chapters land here
    results_dir: Path           # the results file lands here
    staging_dir: Path           # chapters and results are written here first
    profile: str
    overrides: dict = field(default_factory=dict)
    inplace: bool = False       # refresh: the sources are their own outputs
    all_outputs: bool = False   # refresh: also replace the stored outputs of unchanged timing cells

    @property
    def staging_results(self) -> Path:
        return self.staging_dir / "results"


def promote_results(run: Run, complete: bool) -> None:
    """Merge the staged results into the final ones (replace them after a complete run); copy other files."""
    from . import report

    staged = report.load(run.profile, run.staging_results)
    if complete:
        results = staged
    else:
        results = report.merge(report.load(run.profile, run.results_dir), staged)
    report.save(results, run.profile, run.results_dir)
    for path in run.staging_results.iterdir():
        if path.is_file() and path.name != report.results_path(run.profile, run.staging_results).name:
            temporary = run.results_dir / f".{path.name}.partial"
            shutil.copyfile(path, temporary)
            os.chmod(temporary, 0o644)
            os.replace(temporary, run.results_dir / path.name)


@contextlib.contextmanager
def kernel_environment(values: dict[str, str | None]):
    """Set (or, for None, remove) environment variables the chapters' kernels inherit; restore them after."""
    def assign(pairs):
        for name, value in pairs.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    saved = {name: os.environ.get(name) for name in values}
    try:
        assign(values)
        yield
    finally:
        assign(saved)


def run_chapters(notebooks: list[Path], run: Run, parameters: dict[str, dict] | None, kernel: str,
                 progress: bool, complete: bool) -> dict[str, float]:
    """Execute the chapters in order; each replaces its target only if it succeeded.

    ``complete`` (every chapter of the book is run) starts from an empty results file and
    replaces the final one at the end; otherwise the final results are the starting point
    and each chapter's keys are merged in. Stops at the first failure with a
    :class:`BookError`.
    """
    from . import report

    if run.staging_dir.exists():
        shutil.rmtree(run.staging_dir)
    run.staging_results.mkdir(parents=True)
    run.results_dir.mkdir(parents=True, exist_ok=True)
    final_results = report.results_path(run.profile, run.results_dir)
    if not complete and final_results.exists():
        shutil.copyfile(final_results, report.results_path(run.profile, run.staging_results))
    progress_file = run.staging_dir / "progress.log"
    environment = {report.RESULTS_DIR_VARIABLE: str(run.staging_results),
                   PROGRESS_FILE_VARIABLE: str(progress_file) if progress else None,
                   PROGRESS_VARIABLE: None if progress else "0"}
    times, cache = {}, cache_dir()
    with kernel_environment(environment), ProgressForwarder(progress_file, progress):
        for number, notebook in enumerate(notebooks, 1):
            target = notebook if run.inplace else run.chapters_dir / notebook.name
            staged = run.staging_dir / notebook.name
            if progress:
                print(f"[{number}/{len(notebooks)}] {notebook.stem} ...", file=sys.stderr, flush=True)
            entries = cache_entries(cache)
            try:
                seconds = execute_chapter(notebook, staged, run.chapters_dir,
                                          (parameters or {}).get(notebook.stem), kernel, progress)
            except Exception as error:  # noqa: BLE001 - every failure is reported the same way
                raise BookError(describe_failure(error, notebook, staged)) from error
            if run.inplace:
                strip_run_metadata(staged, previous=None if run.all_outputs else notebook)
            else:
                mark_executed(staged, run.profile, run.overrides)
            warmth = "cold" if cache_entries(cache) > entries else "warm"
            report.record_run_time(run.profile, notebook.stem, seconds, warmth, run.staging_results)
            os.replace(staged, target)
            promote_results(run, complete=False)
            times[notebook.stem] = seconds
            print(f"{notebook.stem}: {seconds:.1f} s ({warmth} cache)", flush=True)
    if complete:
        promote_results(run, complete=True)
    shutil.rmtree(run.staging_dir, ignore_errors=True)
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


def toc_notebooks(book_root: Path) -> list[Path]:
    """The executed chapters the ``_toc.yml`` of ``book_root`` lists."""
    with open(book_root / "_toc.yml") as handle:
        toc = yaml.safe_load(handle)
    files = []

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return [book_root / f"{name}.ipynb" for name in files if (book_root / f"{name}.ipynb").exists()]


def build_book(book_root: Path, strict: bool) -> Path:
    """``jupyter-book build <book_root>`` (``-W -n --keep-going`` if ``strict``); returns the index page."""
    check_one_profile(toc_notebooks(book_root))
    command = jupyter_book_command() + ["build", str(book_root)]
    if strict:
        command += ["-W", "-n", "--keep-going"]
    print("$ " + " ".join(command), flush=True)
    completed = subprocess.run(command, cwd=book_root)
    if completed.returncode != 0:
        raise BookError(f"jupyter-book build failed with exit code {completed.returncode}")
    return book_root / "_build" / "html" / "index.html"


# --- run folders -------------------------------------------------------------------------------


def run_name(profile: Profile, overrides) -> str | None:
    """None for the report (an unmodified paper run), else the folder name under ``_build/runs``."""
    if profile.is_report and not overrides:
        return None
    return profile.name + ("-custom" if overrides else "")


def banner(profile: Profile, overrides) -> str:
    """The note on the front page of a book that is not the paper report."""
    text = (f"```{{warning}}\nThis book was run with the **{profile.name}** profile"
            + (" and the overrides " + ", ".join(f"`{c + '.' if c else ''}{n} = {v!r}`" for c, n, v in overrides)
               if overrides else "")
            + f". It is not the paper report: its numbers are not meant to match the paper "
            f"unless the profile says so. The report is the book built from `book/` with the "
            f"`{REPORT_PROFILE}` profile.\n```\n\n")
    return text


def prepare_run_folder(root: Path, folder: Path, profile: Profile, overrides) -> None:
    """A buildable book in ``folder``: the root's configuration, pages and bibliography, a bannered intro."""
    (folder / "book").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(root / "_config.yml", folder / "_config.yml")
    for page in (root / "book").iterdir():
        if page.suffix in (".md", ".bib") and page.name != "intro.md":
            shutil.copyfile(page, folder / "book" / page.name)
    intro = (root / "book" / "intro.md").read_text()
    title, _, rest = intro.partition("\n")
    (folder / "book" / "intro.md").write_text(f"{title}\n\n{banner(profile, overrides)}{rest}")
    write_run_toc(root, folder)


def write_run_toc(root: Path, folder: Path) -> None:
    """The root's ``_toc.yml`` with only the chapters that ``folder/book`` holds."""
    with open(root / "_toc.yml") as handle:
        toc = yaml.safe_load(handle)

    def present(entry) -> bool:
        name = entry.get("file", "")
        source = root / f"{name}.ipynb"
        return not source.exists() or (folder / f"{name}.ipynb").exists()

    for part in toc.get("parts", []):
        part["chapters"] = [entry for entry in part.get("chapters", []) if present(entry)]
    toc["parts"] = [part for part in toc.get("parts", []) if part["chapters"]]
    with open(folder / "_toc.yml", "w") as handle:
        yaml.safe_dump(toc, handle, sort_keys=False)


def find_root(given: str | None) -> Path:
    """The repository root: ``given``, else the working folder, else the source tree of this package."""
    candidates = [Path(given)] if given else [Path.cwd(), Path(__file__).resolve().parents[2]]
    for candidate in candidates:
        if (candidate / "notebooks").is_dir() and (candidate / "_config.yml").exists():
            return candidate.resolve()
    where = given or Path.cwd()
    raise BookError(f"{where} is not the kdoffload repository (no notebooks/ and _config.yml there): "
                    "run kdoffload inside the repository or point at it with --root PATH")


# --- commands --------------------------------------------------------------------------------


def command_book(args) -> None:
    if args.no_run and args.no_build:
        raise BookError("--no-run and --no-build together do nothing; give at most one of them")
    root = find_root(args.root)
    every = chapter_notebooks(root / "notebooks")
    notebooks = chapter_notebooks(root / "notebooks", args.only)
    profile = load_profile(args.profile)
    overrides = parse_overrides(args.param)
    check_profile_names(profile, every)
    parameters = resolve_parameters(profile, notebooks, overrides, all_chapters=[p.stem for p in every])
    name = run_name(profile, overrides)
    book_root = root if name is None else root / "_build" / "runs" / name
    if not args.no_run:
        if name is not None:
            prepare_run_folder(root, book_root, profile, overrides)
        run = Run(chapters_dir=book_root / "book", results_dir=book_root / "book" / "results",
                  staging_dir=root / "_build" / "staging" / (name or REPORT_PROFILE), profile=profile.name,
                  overrides={f"{c + '.' if c else ''}{n}": v for c, n, v in overrides})
        print(f"profile {profile.name}: {len(notebooks)} chapter(s) from {root / 'notebooks'} into {run.chapters_dir}",
              flush=True)
        times = run_chapters(notebooks, run, parameters, args.kernel, not args.quiet,
                             complete=len(notebooks) == len(every))
        if name is not None:
            write_run_toc(root, book_root)
        print(f"executed {len(times)} chapter(s) in {sum(times.values()):.0f} s; results in "
              f"{run.results_dir / (profile.name + '.json')}", flush=True)
    if not args.no_build:
        if not (book_root / "_toc.yml").exists():
            raise BookError(f"nothing to build in {book_root}: run the chapters first (drop --no-run)")
        index = build_book(book_root, args.strict)
        print(f"book: {index}")


def command_refresh(args) -> None:
    from . import report

    root = find_root(args.root)
    every = chapter_notebooks(root / "notebooks")
    notebooks = chapter_notebooks(root / "notebooks", args.only)
    os.environ.pop(report.RESULTS_DIR_VARIABLE, None)
    results = report.results_dir()  # where the chapters record under nbval
    run = Run(chapters_dir=root / "notebooks", results_dir=results,
              staging_dir=root / "_build" / "staging" / "refresh", profile="smoke", inplace=True,
              all_outputs=args.all_outputs)
    run_chapters(notebooks, run, None, args.kernel, not args.quiet, complete=len(notebooks) == len(every))


def command_parameters(args) -> None:
    root = find_root(args.root)
    every = chapter_notebooks(root / "notebooks")
    notebooks = chapter_notebooks(root / "notebooks", args.only)
    resolved = None
    if args.profile:
        profile = load_profile(args.profile)
        check_profile_names(profile, every)
        resolved = resolve_parameters(profile, notebooks, all_chapters=[p.stem for p in every])
    for notebook in notebooks:
        print(notebook.stem)
        for name, info in declared_parameters(notebook).items():
            value = info["default"] if resolved is None else json.dumps(resolved[notebook.stem].get(name, _default_value(info)))
            help_text = f"  # {info['help']}" if info.get("help") else ""
            print(f"  {name} = {value}{help_text}")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kdoffload", description="Run the book's chapters with papermill and build the book.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"kdoffload {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    def common(sub):
        sub.add_argument("--root", default=None,
                         help="repository root holding _config.yml and notebooks/ (default: the working folder)")
        sub.add_argument("--only", nargs="+", metavar="CHAPTER", help="chapters to run, by prefix (e.g. 03) or name")

    def running(sub):
        sub.add_argument("--kernel", default="python3", help="Jupyter kernel (default python3)")
        sub.add_argument("-q", "--quiet", action="store_true", help="no progress output")

    book = commands.add_parser("book", help="execute the chapters and build the HTML", epilog=EXAMPLES,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    common(book)
    running(book)
    book.add_argument("--profile", default=REPORT_PROFILE,
                      help=f"profile name {available_profiles()} or YAML path (default {REPORT_PROFILE})")
    book.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"),
                      help="override a parameter (VALUE read as YAML); CHAPTER.NAME for one chapter, "
                           "CHAPTER a number (04) or a name")
    book.add_argument("--no-run", action="store_true", help="only build the HTML from the executed chapters")
    book.add_argument("--no-build", action="store_true", help="only execute the chapters")
    book.add_argument("--strict", action="store_true", help="build with -W -n --keep-going (as CI does)")
    book.set_defaults(func=command_book)

    refresh = commands.add_parser("refresh", help="re-execute notebooks/ in place with their smoke defaults")
    common(refresh)
    running(refresh)
    refresh.add_argument("--all-outputs", action="store_true",
                         help="also replace the stored outputs of timing cells (nbval-ignore-output) whose "
                              "source did not change (by default they are kept, so a refresh without a real "
                              "change leaves no diff)")
    refresh.set_defaults(func=command_refresh)

    params = commands.add_parser("parameters", help="list every chapter's parameters and defaults")
    common(params)
    params.add_argument("--profile", default=None, help="show the values this profile gives instead of the defaults")
    params.set_defaults(func=command_parameters)
    return parser


def main(argv=None) -> int:
    args = make_parser().parse_args(argv)
    try:
        args.func(args)
    except (BookError, ProfileError) as error:
        print(f"kdoffload: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("kdoffload: interrupted; finished chapters were kept, the others are as they were",
              file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
