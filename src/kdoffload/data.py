"""Features, labelled datasets, the on-disk cache and parallel labelling.

Features
    S = (E, D, p1, p2, b1, b2) flattened: |A| + (|A| + 1) + 4 numbers (17 at |A| = 6),
    see :func:`features` for the scaling.

Cache
    :data:`memory` is a ``joblib.Memory`` in ``$KDOFFLOAD_CACHE_DIR`` (default
    ``~/.cache/kdoffload``). Cached functions take the package version as an argument,
    so a new release never reads an old entry; every other argument is part of the key.
    ``kdoffload.data.memory.clear()`` empties it; :func:`set_cache_dir` moves it.

Parallel labelling
    Labels are computed over chunks with ``joblib.Parallel``. On a cluster, switch the
    backend to Dask without touching this code::

        from dask.distributed import Client
        import joblib
        client = Client("scheduler-address:8786")   # or Client(LocalCluster())
        with joblib.parallel_config(backend="dask"):
            data = kd.labelled_dataset(100_000, cache=False)

    Labels do not depend on the chunking, the backend or ``n_jobs``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np

from . import __version__, paper
from .progress import bar
from .checks import check_choice, check_count, check_int
from .solvers import exact_methods, exact_solver
from .system import OBJECTIVES, PRESETS, Requirements, check_requirements, sample

#: Divisors of the "range" feature scaling: the upper ends of the wide (§5.1) ranges,
#: so every wide-preset feature lies in [0, 1] and narrow samples are scaled identically.
FEATURE_SCALE = {name: high for name, (low, high) in PRESETS["wide"].items()}

#: Element-wise transforms of a network's input pipeline (:class:`kdoffload.nets.InputScaler`,
#: :class:`kdoffload.lean.LeanMLP`) and the floor applied before the log (features are
#: scaled to (0, 1], so this is 1e-6 of a range).
TRANSFORMS = ("log", "standard", "none")
LOG_FLOOR = 1e-6

#: Sources of the input pipeline's standardisation statistics: the exact moments under the
#: wide preset, or those fitted on the training split.
STATS = ("wide", "fit")

memory = joblib.Memory(
    os.environ.get("KDOFFLOAD_CACHE_DIR", Path.home() / ".cache" / "kdoffload"), verbose=0
)


def feature_columns(num_subtasks: int) -> dict[str, int]:
    """The feature layout: each field of S, in feature order, and its number of columns
    (|A| for E, |A| + 1 for D, 1 for each of p1, p2, b1, b2)."""
    return {"E": num_subtasks, "D": num_subtasks + 1, "p1": 1, "p2": 1, "b1": 1, "b2": 1}


def feature_width(num_subtasks: int) -> int:
    """Length of the feature vector, 2|A| + 5 (:func:`feature_columns`)."""
    return sum(feature_columns(num_subtasks).values())


def subtasks_of_width(width: int) -> int:
    """The |A| whose feature vector has ``width`` columns, or a ValueError if there is none."""
    num_subtasks = (width - feature_width(0)) // 2
    if num_subtasks < 1 or feature_width(num_subtasks) != width:
        raise ValueError(f"width must be 2|A| + 5 for some |A| >= 1, got width = {width!r}")
    return num_subtasks


def features(req: Requirements) -> np.ndarray:
    """The requirement S = (E, D, p1, p2, b1, b2) as an (n, 2|A| + 5) float32 matrix.

    Columns in the order of :func:`feature_columns`; each field is divided by the upper
    end of its wide (§5.1) range (:data:`FEATURE_SCALE`), a fixed scaling that needs no
    fitting and maps the wide preset into [0, 1].
    """
    req = check_requirements(req)
    columns = [np.reshape(getattr(req, field), (req.n, -1)) / FEATURE_SCALE[field]
               for field in feature_columns(req.num_subtasks)]
    return np.concatenate(columns, axis=1).astype(np.float32)


@dataclass(frozen=True)
class LabelledDataset:
    """Requirements with their exact labels.

    Attributes
    ----------
    requirements : Requirements
    labels : array (n, |A|) int64
        Optimal locations from the exact solver named in ``solver``.
    preset, seed, solver : str, int, str
        How the dataset was made.
    """

    requirements: Requirements
    labels: np.ndarray
    preset: str
    seed: int
    solver: str

    def __len__(self) -> int:
        return self.requirements.n

    @property
    def features(self) -> np.ndarray:
        """Scaled features (n, 2|A| + 5), see :func:`kdoffload.data.features`."""
        return features(self.requirements)


def label(req: Requirements, solver: str = "ilp", objective: str = "latency", weight: float = 0.5,
          output_return: bool = True, n_jobs: int = -1, chunk_size: int = 2000,
          progress: bool | None = None) -> np.ndarray:
    """Optimal decisions (n, |A|) by ``solver``, computed over chunks in parallel.

    Parameters
    ----------
    solver : {"ilp", "dp", "exhaustive"}
    n_jobs : int
        Workers for ``joblib.Parallel`` (-1: all cores); ignored inside a
        ``joblib.parallel_config(backend="dask")`` block that sets its own.
    chunk_size : int
        Requirements per task (and per CBC model for "ilp").
    progress : bool or None
        Show a bar over chunks (None: see :mod:`kdoffload.progress`).
    """
    req = check_requirements(req)
    chunk_size = check_count("chunk_size", chunk_size)
    policy = exact_solver(solver, "solver", objective=objective, weight=weight, output_return=output_return)
    starts = range(0, req.n, chunk_size)
    if len(starts) == 1:
        return policy.decide(req)
    tasks = (joblib.delayed(policy.decide)(req.take(slice(s, s + chunk_size))) for s in starts)
    results = joblib.Parallel(n_jobs=n_jobs, return_as="generator")(tasks)
    chunks = bar(results, progress=progress, total=len(starts), desc=f"labels ({solver})", unit="chunk")
    return np.concatenate(list(chunks), axis=0)


def _build_dataset(n, preset, num_subtasks, seed, solver, objective, weight, output_return, version,
                   n_jobs, chunk_size, progress) -> LabelledDataset:
    req = sample(n, preset, num_subtasks, seed)
    labels = label(req, solver, objective, weight, output_return, n_jobs, chunk_size, progress)
    return LabelledDataset(req, labels, preset, seed, solver)


_cached_build_dataset = memory.cache(_build_dataset, ignore=["n_jobs", "chunk_size", "progress"])


def set_cache_dir(path) -> joblib.Memory:
    """Move the dataset cache to ``path`` (e.g. a temporary directory) and return the new
    :data:`memory`; ``None`` turns caching off. Read ``kdoffload.data.memory`` after
    calling this, not a reference imported before."""
    global memory, _cached_build_dataset
    memory = joblib.Memory(None if path is None else os.fspath(path), verbose=0)
    _cached_build_dataset = memory.cache(_build_dataset, ignore=["n_jobs", "chunk_size", "progress"])
    return memory


def labelled_dataset(n: int, preset: str = "wide", num_subtasks: int = 6, seed: int = 0,
                     solver: str = "ilp", objective: str = "latency", weight: float = 0.5,
                     output_return: bool = True, n_jobs: int = -1, chunk_size: int = 2000,
                     progress: bool | None = None, cache: bool = True) -> LabelledDataset:
    """``n`` requirements drawn by :func:`kdoffload.sample` with labels from ``solver``.

    The result is cached on disk (key: every argument but ``n_jobs``, ``chunk_size``
    and ``progress``, plus the package version), so a later call with the same
    arguments, from any notebook, loads it. ``cache=False`` recomputes and stores nothing.
    """
    check_count("n", n)
    check_count("num_subtasks", num_subtasks)
    check_int("seed", seed, minimum=0)
    check_choice("preset", preset, PRESETS)
    check_choice("solver", solver, exact_methods())
    check_choice("objective", objective, OBJECTIVES)
    build = _cached_build_dataset if cache else _build_dataset
    return build(n, preset, num_subtasks, seed, solver, objective, weight, output_return, __version__,
                 n_jobs, chunk_size, progress)


def paper_datasets(seed: int = 0, train_size: int = paper.DATASET_SIZES["train"],
                   test_size: int = paper.DATASET_SIZES["test"], narrow_size: int = paper.DATASET_SIZES["narrow"],
                   **options) -> dict[str, LabelledDataset]:
    """The paper's three datasets: ``train`` and ``test`` (wide, §5.1) and ``narrow`` (§5.2).

    Their seeds are three independent streams spawned from ``seed`` by
    ``numpy.random.SeedSequence``, so the sets never share samples. ``options`` go to
    :func:`labelled_dataset` (solver, num_subtasks, output_return, ...).
    """
    check_int("seed", seed, minimum=0)
    for name, size in (("train_size", train_size), ("test_size", test_size), ("narrow_size", narrow_size)):
        check_count(name, size)
    seeds = [int(child.generate_state(1)[0]) for child in np.random.SeedSequence(seed).spawn(3)]
    return {
        "train": labelled_dataset(train_size, "wide", seed=seeds[0], **options),
        "test": labelled_dataset(test_size, "wide", seed=seeds[1], **options),
        "narrow": labelled_dataset(narrow_size, "narrow", seed=seeds[2], **options),
    }
