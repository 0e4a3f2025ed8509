"""The results file of a book run, the parameters a chapter ran with, and run status.

Every chapter records its headline figures in ``results/<profile>.json`` relative to the
folder it runs in (``book/results/`` for the book, ``notebooks/results/`` for the smoke
sources), or in ``$KDOFFLOAD_RESULTS_DIR`` if that is set. Writes merge by key
(:func:`record`), so chapters write independently and a rerun of one chapter replaces
only its own keys. The schema is in ``design.md``.

A chapter notebook uses this module in three places::

    from kdoffload import report
    before = report.snapshot(globals())          # last line of the imports cell
    # ... the `parameters` cell (papermill injects its overrides after it) ...
    params = report.show_parameters(globals(), before)   # shows what the chapter ran with
    ...
    report.record(profile, {"labels": {"agreement": {...}}})
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np

#: Environment variable overriding the folder of the results files.
RESULTS_DIR_VARIABLE = "KDOFFLOAD_RESULTS_DIR"


def results_dir(root: str | os.PathLike | None = None) -> Path:
    """Folder of the results files: ``root``, else ``$KDOFFLOAD_RESULTS_DIR``, else ``./results``."""
    if root is not None:
        return Path(root)
    return Path(os.environ.get(RESULTS_DIR_VARIABLE, "results"))


def results_path(profile: str, root: str | os.PathLike | None = None) -> Path:
    """``<results_dir>/<profile>.json``."""
    if not profile or any(sep in profile for sep in "/\\"):
        raise ValueError(f"profile must be a plain name, got profile = {profile!r}")
    return results_dir(root) / f"{profile}.json"


def _plain(value):
    """``value`` with numpy scalars and arrays turned into JSON types (NaN and inf kept as None/str)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        value = float(value)
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    return value


def merge(base: dict, update: dict) -> dict:
    """``base`` updated in place by ``update``: nested dicts merge key by key, anything else replaces."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def load(profile: str, root: str | os.PathLike | None = None) -> dict:
    """The results of ``profile`` (``{"profile": profile}`` if nothing was recorded yet)."""
    path = results_path(profile, root)
    if not path.exists():
        return {"profile": profile}
    with open(path) as handle:
        return json.load(handle)


def save(results: dict, profile: str, root: str | os.PathLike | None = None) -> Path:
    """Write ``results`` as the whole results file of ``profile`` (atomically)."""
    path = results_path(profile, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_plain(results), indent=1, sort_keys=True) + "\n"
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{profile}.", suffix=".json")
    with os.fdopen(handle, "w") as stream:
        stream.write(text)
    os.replace(temporary, path)
    return path


def record(profile: str, update: dict, root: str | os.PathLike | None = None) -> dict:
    """Merge ``update`` into the results of ``profile`` and write the file; returns the new results."""
    if not isinstance(update, dict):
        raise TypeError(f"update must be a dict, got {type(update).__name__}")
    results = merge(load(profile, root), _plain(update))
    results["profile"] = profile
    save(results, profile, root)
    return results


def reset(profile: str, root: str | os.PathLike | None = None) -> None:
    """Delete the results file of ``profile`` (a full book run starts from an empty one)."""
    results_path(profile, root).unlink(missing_ok=True)


def lookup(results: dict, key: str, default=None):
    """``results["a"]["b"]["c"]`` for ``key = "a.b.c"``, or ``default`` if any part is missing."""
    value = results
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return default
        value = value[part]
    return value


# --- parameters a chapter ran with -------------------------------------------------------


def snapshot(namespace: dict) -> frozenset:
    """The names defined in ``namespace`` now (call it just before the parameters cell)."""
    return frozenset(namespace)


def parameters(namespace: dict, before) -> dict:
    """The variables defined in ``namespace`` since :func:`snapshot` (the chapter's parameters)."""
    return {name: value for name, value in namespace.items()
            if name not in before and not name.startswith("_") and name not in ("In", "Out") and value is not before}


def format_value(value) -> str:
    """A short, stable text form of a parameter value."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def parameters_markdown(params: dict) -> str:
    """A markdown table of ``params``."""
    lines = ["| parameter | value |", "|---|---|"]
    lines += [f"| `{name}` | `{format_value(value)}` |" for name, value in params.items()]
    return "\n".join(lines)


def show_parameters(namespace: dict, before) -> dict:
    """Display the chapter's parameters as a table and return them as a dict."""
    from IPython.display import Markdown, display

    params = parameters(namespace, before)
    profile = params.get("profile", "?")
    display(Markdown(f"This chapter ran with the **{profile}** profile:\n\n" + parameters_markdown(params)))
    return params


# --- determinism ----------------------------------------------------------------------------


def set_threads(threads: int = 1) -> None:
    """Fix the CPU threads of torch (if installed), so the same seed prints the same numbers."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return
    torch.set_num_threads(threads)


# --- status -----------------------------------------------------------------------------------

#: Packages whose versions the status page lists.
STATUS_PACKAGES = ("kdoffload", "numpy", "pandas", "torch", "pulp", "scikit-learn", "seaborn", "matplotlib",
                   "papermill", "jupyter-book", "myst-nb", "nbval")


def versions(packages=STATUS_PACKAGES) -> dict[str, str]:
    """Installed version of each package (``"not installed"`` if missing), Python first."""
    found = {"python": platform.python_version()}
    for name in packages:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def machine() -> dict[str, object]:
    """Platform, processor and CPU count of this machine."""
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "executable": sys.executable}


def record_run_time(profile: str, chapter: str, seconds: float, root=None) -> dict:
    """Store the wall-clock time of one chapter under ``run_times`` (done by ``kdoffload book``)."""
    return record(profile, {"run_times": {chapter: round(float(seconds), 2)},
                            "run_finished": time.strftime("%Y-%m-%d %H:%M:%S %Z")}, root)
