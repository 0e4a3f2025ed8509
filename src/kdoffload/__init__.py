"""kdoffload: knowledge distillation for mobile edge computation offloading (Chen et al., 2020).

Public API::

    import kdoffload as kd
    req = kd.sample(n, preset="wide", num_subtasks=6, seed=0)
    kd.latency(req, decisions)            # (n,) seconds
    kd.solve(req, method="dp")            # (n, |A|) optimal decisions
    data = kd.labelled_dataset(1000)      # cached, labelled by PuLP/CBC
"""

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("kdoffload")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from .data import LabelledDataset, features, label, labelled_dataset, paper_datasets  # noqa: E402
from .policy import Policy  # noqa: E402
from .solvers import (  # noqa: E402
    DynamicProgramming, ExhaustiveSearch, FixedLocation, Greedy, IntegerProgram, RandomPolicy,
    heuristic, solve,
)
from .system import PRESETS, Requirements, cost, cost_tensors, energy, latency, sample  # noqa: E402
from .evaluate import evaluate, latency_ratios, normalized_latency, summarize  # noqa: E402
from . import delay, lean  # noqa: E402
from .lean import LeanFormatError, LeanMLP, export_lean, load_lean  # noqa: E402
from . import nets, paper, train, distill, drl  # noqa: E402
from .nets import MLPPolicy, count_parameters, parameter_counts  # noqa: E402
from .train import TrainConfig, train_baseline_dil, train_supervised, train_teacher  # noqa: E402
from .distill import distill as distill_student, kd_loss, soften, softening_example, train_student_kd  # noqa: E402
from .drl import DQNConfig, QNetwork, fit_dqn, train_dqn  # noqa: E402
from .lean import LeanDynamicProgramming  # noqa: E402
