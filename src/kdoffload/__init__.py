"""kdoffload: knowledge distillation for mobile edge computation offloading (Chen et al., 2020).

The promoted names (``__all__``)::

    import kdoffload as kd
    req = kd.sample(n, preset="wide", num_subtasks=6, seed=0)   # kd.Requirements
    kd.latency(req, decisions)            # (n,) seconds
    kd.solve(req, method="dp")            # (n, |A|) optimal decisions
    kd.heuristic("greedy").decide(req)    # a registered heuristic
    data = kd.labelled_dataset(1000)      # cached, labelled by PuLP/CBC
    teacher = kd.train_teacher(seed=0)    # the §5.1 DIL network (imports torch on first use)

Importing the package, the cost model and the exact solvers does not import torch; the
learned policies (:mod:`kdoffload.train`, :mod:`kdoffload.distill`, :mod:`kdoffload.drl`)
load it when first used. Every other module is reachable as ``kd.<module>`` (imported on
first access), e.g. ``kd.registry``, ``kd.experiments``, ``kd.timing``.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("kdoffload")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from .data import LabelledDataset, features, label, labelled_dataset, paper_datasets  # noqa: E402
from .evaluate import summarize  # noqa: E402
from .policy import Policy  # noqa: E402
from .solvers import (  # noqa: E402
    DynamicProgramming, ExhaustiveSearch, FixedLocation, Greedy, IntegerProgram, RandomPolicy, heuristic, solve,
)
from .system import PRESETS, Requirements, cost, cost_tensors, energy, latency, sample  # noqa: E402

#: Promoted names that need torch, imported on first use: name -> module.
_LAZY = {"train_teacher": "train", "train_baseline_dil": "train", "train_student_kd": "distill",
         "train_dqn": "drl"}

__all__ = [
    # the system model (§3.1-3.2)
    "Requirements", "PRESETS", "sample", "latency", "energy", "cost", "cost_tensors",
    # policies: the interface, exact solvers, heuristics
    "Policy", "solve", "heuristic", "DynamicProgramming", "ExhaustiveSearch", "IntegerProgram", "Greedy",
    "FixedLocation", "RandomPolicy",
    # data and evaluation
    "features", "label", "labelled_dataset", "paper_datasets", "LabelledDataset", "summarize",
    # the learned policies (torch)
    "train_teacher", "train_baseline_dil", "train_student_kd", "train_dqn",
]


def __getattr__(name: str):
    """A promoted learned-policy entry point or a submodule, imported on first access."""
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    try:
        return import_module(f".{name}", __name__)
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
