"""MLP offloading policies (§3.3, §5): the DIL teacher and the KD-DIL / Baseline DIL student.

Input
    The paper's input is the requirement S = (E, D, p1, p2, b1, b2): the 2|A| + 5 = 17
    numbers of :func:`kdoffload.features` (each field divided by the upper end of its
    wide range). The network's own input pipeline, :class:`InputScaler`, then maps them
    element-wise to what the first layer sees, so the width stays 17:

    * ``"log"`` (default): ``log(max(x, 1e-6))``, then standardised. Latencies are ratios
      (E/p, D/b), so in log space the comparisons a decision rests on become
      differences, and the heavy tail of ``1/b`` near b = 0 becomes a light one.
    * ``"standard"``: the 17 features standardised.
    * ``"none"``: the 17 features as they are.

    The standardisation (per-feature mean and std, stored as buffers so it travels with
    the weights) comes from one of two sources, ``stats``:

    * ``"wide"`` (default): the exact moments of the transformed features when the
      requirements follow the wide (§5.1) ranges — computed from
      :data:`kdoffload.PRESETS`, no data involved, the same fixed-scaling principle as
      :func:`kdoffload.features` (which divides by the wide upper ends). Every model,
      whatever it is trained on, then sees the same input map, and a model trained on
      the narrow (§5.2) samples does not blow its narrow ranges up to unit variance
      (which would turn the wide test inputs into extreme extrapolations);
    * ``"fit"``: the moments of the model's own training split (:meth:`InputScaler.fit`).

Output
    3·|A| logits read as |A| groups of 3 (Assumptions, point 11); a softmax over each group
    gives the probabilities of device / edge / cloud for that subtask, and the decision
    is the argmax of each group.

Sizes (Assumptions, point 10)
    The layer shapes the paper states give far fewer parameters than it reports:
    teacher 17-256-256-256-256-256-18 has 272,402 parameters (paper: "1.6 million"),
    student 17-32-32-18 has 2,226 (paper: "about 10,000"). :func:`count_parameters`
    gives the real counts; :mod:`kdoffload.paper` holds the paper's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .checks import check_choice, check_count, check_widths
from .data import LOG_FLOOR, STATS, TRANSFORMS, feature_columns, feature_width, features, subtasks_of_width
from .paper import STUDENT_HIDDEN, TEACHER_HIDDEN
from .system import NUM_LOCATIONS, PRESETS, Requirements




def _uniform_moments(a: float, transform: str) -> tuple[float, float]:
    """Mean and std of ``Y`` (``"standard"``) or ``log Y`` (``"log"``) for ``Y ~ U(a, 1)``."""
    if transform == "standard":
        return (1 + a) / 2, (1 - a) / np.sqrt(12)
    if a == 0:  # -log Y ~ Exp(1)
        return -1.0, 1.0
    m1 = (-1 - a * np.log(a) + a) / (1 - a)  # integral of log y over [a, 1], divided by 1 - a
    m2 = (2 - a * (np.log(a) ** 2 - 2 * np.log(a) + 2)) / (1 - a)
    return float(m1), float(np.sqrt(m2 - m1 ** 2))


def wide_statistics(num_subtasks: int, transform: str = "log") -> tuple[np.ndarray, np.ndarray]:
    """Exact per-feature mean and std (2|A| + 5,) of the transformed :func:`kdoffload.features`
    under the wide (§5.1) preset: each field is uniform on ``(low, high]`` and divided by
    ``high``, so it is ``U(low / high, 1)``. ``transform="none"`` gives zeros and ones."""
    width = feature_width(num_subtasks)
    if transform == "none":
        return np.zeros(width), np.ones(width)
    mean, std = [], []
    for field, count in feature_columns(num_subtasks).items():  # the column order of kdoffload.features
        low, high = PRESETS["wide"][field]
        m, s = _uniform_moments(low / high, transform)
        mean += [m] * count
        std += [s] * count
    return np.array(mean), np.array(std)


def _is_chain_width(width: int) -> bool:
    """Whether ``width`` is 2|A| + 5 for some |A| >= 1."""
    return width >= feature_width(1) and (width - feature_width(0)) % 2 == 0


def check_features(x, width: int) -> np.ndarray:
    """``x`` as a finite float32 (n, width) matrix with n >= 1, or a ValueError saying what is wrong."""
    array = np.asarray(x, dtype=np.float32)
    if array.ndim != 2 or array.shape[1] != width:
        raise ValueError(f"expected features of shape (n, {width}), got shape {array.shape}")
    if array.shape[0] == 0:
        raise ValueError("expected at least one sample, got an empty feature matrix (n = 0)")
    if not np.isfinite(array).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(f"features must be finite, got features{list(index)} = {array[index]}")
    return array


class InputScaler(nn.Module):
    """Element-wise transform of the 17 features, then per-feature standardisation.

    Parameters
    ----------
    width : int
        Number of features (2|A| + 5 for a chain; any width >= 1 with ``stats="fit"``,
        e.g. the features of a task-graph learning problem, :mod:`kdoffload.graphs.learning`).
    transform : {"log", "standard", "none"}
        See the module docstring. ``"none"`` uses no statistics.
    stats : {"wide", "fit"}
        ``"wide"``: the exact moments under the wide preset (:func:`wide_statistics`),
        set at construction; :meth:`fit` keeps them (chain features only). ``"fit"``:
        :meth:`fit` estimates them from training features.
    """

    def __init__(self, width: int, transform: str = "log", stats: str = "wide"):
        super().__init__()
        check_choice("transform", transform, TRANSFORMS)
        check_choice("stats", stats, STATS)
        self.width = check_count("width", width)
        self.transform = transform
        self.stats = stats
        if stats == "wide" or _is_chain_width(self.width):
            mean, std = wide_statistics(subtasks_of_width(self.width), transform)
        else:  # placeholders until fit()
            mean, std = np.zeros(self.width), np.ones(self.width)
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32))

    def _pre(self, x: torch.Tensor) -> torch.Tensor:
        if self.transform == "log":
            return torch.log(torch.clamp(x, min=LOG_FLOOR))
        return x

    @torch.no_grad()
    def fit(self, x) -> "InputScaler":
        """With ``stats="fit"``, set the mean and std from training features ``x`` (n, width);
        with ``stats="wide"`` only check ``x``. Returns ``self``."""
        x = torch.from_numpy(check_features(x, self.width))
        if self.stats == "wide":
            return self
        z = self._pre(x).double()
        self.mean.copy_(z.mean(dim=0).float())
        self.std.copy_(torch.clamp(z.std(dim=0, unbiased=False), min=1e-6).float())
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.transform == "none":
            return x
        return (self._pre(x) - self.mean) / self.std


def hidden_layers(input_width: int, hidden: Sequence[int]) -> tuple[list[nn.Module], int]:
    """Fully connected ReLU layers of widths ``hidden`` after ``input_width`` inputs, and
    the width of their output (shared by the MLP policies and the DQN trunk)."""
    layers: list[nn.Module] = []
    width = input_width
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    return layers, width


class MLPPolicy(nn.Module):
    """A fully connected ReLU network from the features to |A| groups of 3 logits.

    Implements :class:`kdoffload.policy.Policy` (``name`` and ``decide``).

    Parameters
    ----------
    num_subtasks : int
        |A| (6 in the paper); the input width is 2|A| + 5 and the output 3|A|.
    hidden : sequence of int
        Hidden layer widths, e.g. :data:`TEACHER_HIDDEN` or :data:`STUDENT_HIDDEN`.
    transform : {"log", "standard", "none"}
    stats : {"wide", "fit"}
        Input pipeline, see :class:`InputScaler`.
    name : str
        Name shown by :func:`kdoffload.evaluate`.
    input_width : int, optional
        Number of input features; default 2|A| + 5 (the chain's :func:`kdoffload.features`).
        Another width (a task-graph learning problem, :mod:`kdoffload.graphs.learning`)
        needs ``stats="fit"``.

    Attributes set by training (see :mod:`kdoffload.train`): ``history`` (a pandas
    DataFrame, one row per epoch), ``train_seconds`` and ``config``.
    """

    def __init__(self, num_subtasks: int = 6, hidden: Sequence[int] = TEACHER_HIDDEN,
                 transform: str = "log", name: str = "dil", stats: str = "wide", input_width: int | None = None):
        super().__init__()
        self.num_subtasks = check_count("num_subtasks", num_subtasks)
        self.hidden = check_widths("hidden", hidden)
        self.name = name
        self.input_width = feature_width(self.num_subtasks) if input_width is None else check_count(
            "input_width", input_width)
        if stats == "wide" and self.input_width != feature_width(self.num_subtasks):
            raise ValueError(f"stats must be 'fit' for input_width = {self.input_width} (the wide moments are "
                             f"those of the chain's 2|A| + 5 = {feature_width(self.num_subtasks)} features), "
                             f"got stats = 'wide'")
        self.scaler = InputScaler(self.input_width, transform, stats)
        layers, width = hidden_layers(self.input_width, self.hidden)
        layers.append(nn.Linear(width, NUM_LOCATIONS * self.num_subtasks))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (n, |A|, 3) for raw features ``x`` (n, 2|A| + 5)."""
        return self.body(self.scaler(x)).view(-1, self.num_subtasks, NUM_LOCATIONS)

    def _inputs(self, req_or_features) -> torch.Tensor:
        features_of = getattr(req_or_features, "features", None)
        if callable(features_of):  # a learning batch of task-graph requests (kdoffload.graphs.learning)
            return torch.from_numpy(check_features(features_of(), self.input_width))
        if isinstance(req_or_features, Requirements):
            if req_or_features.num_subtasks != self.num_subtasks:
                raise ValueError(f"this network decides |A| = {self.num_subtasks} subtasks, "
                                 f"got requirements with |A| = {req_or_features.num_subtasks}")
            x = features(req_or_features)
        else:
            x = check_features(req_or_features, self.input_width)
        return torch.from_numpy(x)

    @torch.no_grad()
    def logits(self, req_or_features) -> np.ndarray:
        """The outputs before the softmax, (n, |A|, 3) float64, for Requirements or raw features.

        They order each group's three locations exactly as :meth:`decide`'s argmax does
        (the float32 softmax of :meth:`probabilities` may round two close ones together).
        """
        was_training = self.training
        self.eval()
        try:
            return self(self._inputs(req_or_features)).double().numpy()
        finally:
            self.train(was_training)

    @torch.no_grad()
    def probabilities(self, req_or_features) -> np.ndarray:
        """Softmax of each group, (n, |A|, 3) float64, for Requirements or raw features."""
        was_training = self.training
        self.eval()
        try:
            return torch.softmax(self(self._inputs(req_or_features)), dim=-1).double().numpy()
        finally:
            self.train(was_training)

    @torch.no_grad()
    def decide(self, req: Requirements) -> np.ndarray:
        """Locations (n, |A|) int64: the argmax of each group of 3 outputs."""
        was_training = self.training
        self.eval()
        try:
            return self(self._inputs(req)).argmax(dim=-1).numpy().astype(np.int64)
        finally:
            self.train(was_training)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, parameters={count_parameters(self)}"


def teacher(num_subtasks: int = 6, transform: str = "log", name: str = "dil", stats: str = "wide") -> MLPPolicy:
    """The §5.1 DIL network: 5 hidden layers of 256 (untrained)."""
    return MLPPolicy(num_subtasks, TEACHER_HIDDEN, transform, name, stats)


def student(num_subtasks: int = 6, transform: str = "log", name: str = "kd_dil", stats: str = "wide") -> MLPPolicy:
    """The §5.2 network: 2 hidden layers of 32 (untrained)."""
    return MLPPolicy(num_subtasks, STUDENT_HIDDEN, transform, name, stats)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (the scaler's fitted mean and std are buffers, not counted)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def parameter_counts(num_subtasks: int = 6) -> dict[str, dict[str, float]]:
    """Real parameter counts of the teacher and student beside the paper's stated ones."""
    from . import paper

    return {
        "teacher": {"real": count_parameters(teacher(num_subtasks)), "paper": paper.PARAMETERS["teacher"]},
        "student": {"real": count_parameters(student(num_subtasks)), "paper": paper.PARAMETERS["student"]},
    }
