"""The one registry of policies: each policy's name, display label, family and order.

Every decision-maker the package offers -- exact solvers, heuristics, learned networks --
is registered here once, with :func:`register`. Figures, tables, the delay table (Table 1)
and the experiments read this registry instead of keeping lists of their own, so adding
a policy is one registration::

    from kdoffload import registry

    registry.register("edge_first", label="Edge first", family="heuristic", order=75,
                      build=lambda seed=0, **options: EdgeFirst())

after which ``experiments.policy("edge_first")``, ``plots.label("edge_first")``,
``experiments.rule_based()`` and, with ``table1=``, the delay table know it.

Names are unique within a system model (``model``: ``"chain"``, the paper's chain of
subtasks, or ``"graph"``, a task graph of :mod:`kdoffload.graphs`), so a graph solver
may share a name with a chain one. Learned policies register factories that import
torch only when called, so importing this module (and :mod:`kdoffload`) stays torch-free.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from .checks import check_choice

#: Families of policies: solvers that return optimal decisions, rules, trained networks.
FAMILIES = ("exact", "heuristic", "learned")

#: System models a policy decides for.
MODELS = ("chain", "graph")

#: The forms in which Table 1 times a policy (:mod:`kdoffload.timing`).
FORMS = ("vectorised", "lean")


@dataclass(frozen=True)
class Timed:
    """One form of a policy as Table 1 times it.

    Attributes
    ----------
    key : str
        Its key in the results file's ``table1`` (e.g. ``"optimal_dp"``, ``"drl_lean"``).
    form : {"vectorised", "lean"}
        ``vectorised``: the registered policy itself; ``lean``: its per-request form
        (:func:`kdoffload.lean_policies.lean_form`).
    label : str
        Display label of the row.
    implementation : str
        How the form computes, for the table (e.g. ``"dynamic program, numpy"``).
    """

    key: str
    form: str
    label: str
    implementation: str

    def __post_init__(self):
        check_choice("form", self.form, FORMS)


@dataclass(frozen=True)
class PolicyInfo:
    """A registered policy.

    Attributes
    ----------
    name : str
        The one name of the policy (``experiments.policy(name)``), unique within ``model``.
    label : str
        Display label in figures and tables.
    family : {"exact", "heuristic", "learned"}
    order : float
        Position in tables and figures (ascending).
    build : callable
        ``build(seed=0, **options)`` returns the policy (an object with ``name`` and
        ``decide(req) -> (n, |A|) int64``). Rule-based policies take the cost options
        (``objective``, ``weight``, ``output_return``) where they apply; learned ones the
        options of :func:`kdoffload.experiments.learned_policy`.
    model : {"chain", "graph"}
        The system model the policy decides for.
    key : str
        The paper's policy this one stands for in the results file's figures and in
        Table 1's "at equal effort" rows (``"optimal"`` for every exact solver, ``"drl"``
        for both DQNs); defaults to ``name``.
    key_label : str
        Display label of ``key`` (e.g. ``"Optimal"``); defaults to ``label``.
    seeded : bool
        Whether the decisions depend on the seed (trained networks, Random).
    stochastic : bool
        Whether the decisions are random draws: same seed, same draws, but a batch need
        not decide as its rows one at a time.
    example : callable or None
        ``example(num_subtasks)``: an instance that needs no training (a learned policy's
        network with its initial weights), for the policy contract checks; None: ``build()``.
    table1 : tuple of Timed
        The forms Table 1 times (none: not timed).
    """

    name: str
    label: str
    family: str
    order: float
    build: Callable = field(repr=False)
    model: str = "chain"
    key: str = ""
    key_label: str = ""
    seeded: bool = False
    stochastic: bool = False
    example: Callable | None = field(default=None, repr=False)
    table1: tuple[Timed, ...] = ()

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"name must be a Python identifier, got name = {self.name!r}")
        check_choice("family", self.family, FAMILIES)
        check_choice("model", self.model, MODELS)
        if not callable(self.build):
            raise ValueError(f"build must be callable, got build = {self.build!r}")
        object.__setattr__(self, "key", self.key or self.name)
        object.__setattr__(self, "key_label", self.key_label or self.label)
        object.__setattr__(self, "table1", tuple(self.table1))

    def instance(self, num_subtasks: int = 6):
        """A policy for checks that need no training: ``example(num_subtasks)`` or ``build()``."""
        return self.example(num_subtasks) if self.example is not None else self.build()


_REGISTRY: dict[tuple[str, str], PolicyInfo] = {}

#: Modules whose import registers the built-in policies (loaded on the first lookup).
_BUILTIN_MODULES = ("kdoffload.solvers", "kdoffload.learned", "kdoffload.graphs.solvers", "kdoffload.graphs.heuristics")
_loaded = False


def _load_builtins() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        from importlib import import_module

        for module in _BUILTIN_MODULES:
            import_module(module)


def register(name: str, *, label: str, family: str, order: float, build: Callable, model: str = "chain",
             replace: bool = False, **fields) -> PolicyInfo:
    """Register a policy and return its :class:`PolicyInfo`.

    ``fields`` are the other attributes of :class:`PolicyInfo` (``key``, ``key_label``,
    ``seeded``, ``stochastic``, ``example``, ``table1``). Registering a name that is taken
    for ``model`` raises ``ValueError`` unless ``replace``; so does a Table 1 key that
    another policy already times.
    """
    info = PolicyInfo(name=name, label=label, family=family, order=order, build=build, model=model, **fields)
    if (model, name) in _REGISTRY and not replace:
        raise ValueError(f"policy {name!r} is already registered for the {model} model; "
                         f"pass replace=True to replace it")
    taken = {timed.key: other.name for other in _REGISTRY.values() if other.name != name and other.model == model
             for timed in other.table1}
    for timed in info.table1:
        if timed.key in taken:
            raise ValueError(f"table1 key {timed.key!r} of {name!r} is already timed for {taken[timed.key]!r}")
    _REGISTRY[model, name] = info
    return info


def unregister(name: str, model: str = "chain") -> PolicyInfo:
    """Remove a registered policy (for tests that register a toy one) and return it."""
    get(name, model)
    return _REGISTRY.pop((model, name))


def policies(model: str = "chain", family: str | None = None) -> list[PolicyInfo]:
    """The registered policies of ``model`` (of one ``family`` if given), in ``order``."""
    _load_builtins()
    check_choice("model", model, MODELS)
    if family is not None:
        check_choice("family", family, FAMILIES)
    found = [info for (m, _), info in _REGISTRY.items() if m == model and family in (None, info.family)]
    return sorted(found, key=lambda info: info.order)


def names(model: str = "chain", family: str | None = None) -> tuple[str, ...]:
    """Names of :func:`policies`, in order."""
    return tuple(info.name for info in policies(model, family))


def get(name: str, model: str = "chain") -> PolicyInfo:
    """The registered policy ``name`` of ``model``, or a ValueError listing the known names."""
    _load_builtins()
    check_choice("model", model, MODELS)
    info = _REGISTRY.get((model, name))
    if info is None:
        known = [n for m, n in _REGISTRY if m == model]
        raise ValueError(f"unknown policy {name!r} for the {model} model; choose one of {sorted(known)}")
    return info


def build(name: str, seed: int = 0, model: str = "chain", **options):
    """The policy ``name`` of ``model`` for ``seed`` (``options`` as its ``build`` takes them)."""
    return get(name, model).build(seed=seed, **options)


def timed_forms(model: str = "chain") -> list[tuple[PolicyInfo, Timed]]:
    """Every (policy, form) Table 1 times, in policy order, each policy's forms in registration order."""
    return [(info, timed) for info in policies(model) for timed in info.table1]


def label(key: str, model: str = "chain") -> str:
    """Display label of a policy name, a Table 1 key or a results-file key (``key``); else ``key``."""
    return Labels(model).get(key, key)


class Labels(Mapping):
    """Display labels as a live read-only mapping over the registry.

    A registered name maps to its ``label``, a key of the results file's figures (a
    policy's ``key``, e.g. ``"drl"``) to its ``key_label`` and a Table 1 key
    (``"greedy_lean"``) to that form's label. Where one string is several of these, a
    name wins over a key and a key over a Table 1 key, except in ``Labels(table1=True)``,
    where Table 1 keys win (``"drl"`` there is the timed narrow DQN, ``"DRL (torch)"``;
    ``"greedy"`` is ``"Greedy (vectorised)"``). A policy registered later shows up at once.
    """

    def __init__(self, model: str = "chain", table1: bool = False):
        self.model = model
        self.table1 = table1

    def _table(self) -> dict[str, str]:
        infos = policies(self.model)
        timed = {timed.key: timed.label for _, timed in timed_forms(self.model)}
        table = {} if self.table1 else dict(timed)
        table.update({info.key: info.key_label for info in infos})
        table.update({info.name: info.label for info in infos})
        return table | timed if self.table1 else table

    def __getitem__(self, key: str) -> str:
        return self._table()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())
