"""The results file of a run: where it lives, how chapters merge into it, the run times.

Every chapter records its headline figures in ``<results folder>/<profile>.json``. The
folder is ``$KDOFFLOAD_RESULTS_DIR`` if set (``kdoffload book`` sets it), else
``_build/results/`` of the repository this package was installed from (an editable
install), else ``~/.cache/kdoffload/results`` -- never the folder a notebook happens to run
in. Writes merge by key (:func:`record`), so chapters write independently and a rerun of
one chapter replaces only its own keys::

    from kdoffload import report
    report.record(profile, {"labels": {"agreement": {...}}})
    report.load(profile)["labels"]
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from pathlib import Path

import numpy as np

#: Environment variable overriding the folder of the results files.
RESULTS_DIR_VARIABLE = "KDOFFLOAD_RESULTS_DIR"


def project_root() -> Path | None:
    """The repository this package runs from (editable install), or None for an installed copy."""
    candidate = Path(__file__).resolve().parents[2]
    if (candidate / "_config.yml").exists() and (candidate / "notebooks").is_dir():
        return candidate
    return None


def results_dir(root: str | os.PathLike | None = None) -> Path:
    """Folder of the results files: ``root``, else the rule of the module docstring."""
    if root is not None:
        return Path(root)
    if os.environ.get(RESULTS_DIR_VARIABLE):
        return Path(os.environ[RESULTS_DIR_VARIABLE])
    project = project_root()
    if project is not None:
        return project / "_build" / "results"
    cache = Path(os.environ.get("KDOFFLOAD_CACHE_DIR", Path.home() / ".cache" / "kdoffload"))
    return cache / "results"


def display_path(path: str | os.PathLike) -> str:
    """``path`` relative to the repository (or ``~``) where it lies inside, for printed output."""
    path = Path(path).absolute()
    for base, prefix in ((project_root(), ""), (Path.home(), "~/")):
        if base is not None and path.is_relative_to(base):
            return prefix + str(path.relative_to(base))
    return str(path)


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
    os.chmod(temporary, 0o644)  # mkstemp makes 0600; results files are for everyone to read
    os.replace(temporary, path)
    return path


def record(profile: str, update: dict, root: str | os.PathLike | None = None) -> None:
    """Merge ``update`` into the results of ``profile`` and write the file.

    Returns nothing, so a chapter cell ending in ``report.record(...)`` displays nothing;
    :func:`load` reads the merged results back.
    """
    if not isinstance(update, dict):
        raise TypeError(f"update must be a dict, got {type(update).__name__}")
    results = merge(load(profile, root), _plain(update))
    results["profile"] = profile
    save(results, profile, root)


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


# --- status -----------------------------------------------------------------------------------

#: How the on-disk cache was when a chapter ran: something was computed and stored, or nothing.
CACHE_STATES = ("cold", "warm")


def record_run_time(profile: str, chapter: str, seconds: float, cache: str, root=None) -> None:
    """Store the wall-clock time of one chapter and whether the cache was cold (done by ``kdoffload book``).

    Parameters
    ----------
    seconds : float
        Wall-clock time of the chapter, seconds.
    cache : {"cold", "warm"}
        ``cold`` if the chapter computed and stored a dataset or model, ``warm`` if every one
        came from the cache.
    """
    if cache not in CACHE_STATES:
        raise ValueError(f"cache must be one of {CACHE_STATES}, got cache = {cache!r}")
    record(profile, {"run_times": {chapter: {"seconds": round(float(seconds), 2), "cache": cache}},
                            "run_finished": time.strftime("%Y-%m-%d %H:%M:%S %Z")}, root)
