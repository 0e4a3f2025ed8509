"""The learned policies of Figures 5 and 6, registered by name, trained on first use.

``dil`` (§5.1 teacher), ``kd_dil`` (§5.2 student distilled from the teacher of the same
seed), ``baseline_dil`` (§5.2 student on hard labels), ``drl_wide`` (Figure 5's DQN, wide
training set) and ``drl_narrow`` (Figure 6's DQN, the 1,000 narrow samples). Each comes
from a cached entry point (:func:`kdoffload.train.train_teacher`,
:func:`kdoffload.distill.train_student_kd`, :func:`kdoffload.train.train_baseline_dil`,
:func:`kdoffload.drl.train_dqn`), so every chapter asking for the same (policy, seed,
``train_profile``, ``data_seed``, T, alpha) gets the same model, trained once. torch is
imported only when a policy is built.
"""

from __future__ import annotations

from . import paper, registry


def learned_policy(name: str, seed: int = 0, train_profile: str = "smoke", data_seed: int = 0,
                   T: float = paper.TEMPERATURE, alpha: float = 0.0, progress: bool | None = None,
                   narrow_stats: str | None = None):
    """The learned policy ``name`` (a registered policy of family ``"learned"``) of training seed ``seed``.

    Through the cached entry points, so a second call (from any chapter) loads the model.
    ``T`` and ``alpha`` matter for ``kd_dil`` only. ``narrow_stats`` (``"fit"`` or
    ``"wide"``) replaces the input statistics of the §5.2 models (``kd_dil``,
    ``baseline_dil``, ``drl_narrow``); None keeps their default,
    :data:`kdoffload.train.NARROW_STATS`.
    """
    from .nets import STATS

    learned = registry.names(family="learned")
    if name not in learned:
        raise ValueError(f"unknown learned policy {name!r}; choose one of {list(learned)}")
    if narrow_stats is not None and narrow_stats not in STATS:
        raise ValueError(f"narrow_stats must be one of {list(STATS)} or None, got narrow_stats = {narrow_stats!r}")
    return registry.build(name, seed=seed, train_profile=train_profile, data_seed=data_seed, T=T, alpha=alpha,
                          progress=progress, narrow_stats=narrow_stats)


def _common(seed, train_profile, data_seed, progress) -> dict:
    """Arguments every cached entry point takes."""
    return {"seed": int(seed), "profile": train_profile, "data_seed": int(data_seed), "progress": progress}


def _narrow_config(piece: str, train_profile: str, narrow_stats: str | None):
    """The §5.2 model's config with ``narrow_stats`` (None: None, the entry point's default)."""
    if narrow_stats is None:
        return None
    from dataclasses import replace

    from .train import STUDENT_CONFIG, profile_config

    if piece == "dqn":
        from .drl import narrow_config

        return narrow_config(train_profile, stats=narrow_stats)
    return replace(profile_config(STUDENT_CONFIG, train_profile, piece), stats=narrow_stats)


def _dil(seed=0, train_profile="smoke", data_seed=0, progress=None, **_):
    from .train import train_teacher

    return train_teacher(**_common(seed, train_profile, data_seed, progress))


def _kd_dil(seed=0, train_profile="smoke", data_seed=0, progress=None, T=paper.TEMPERATURE, alpha=0.0,
            narrow_stats=None, **_):
    from .distill import train_student_kd
    from .train import train_teacher

    common = _common(seed, train_profile, data_seed, progress)
    config = _narrow_config("student", train_profile, narrow_stats)
    return train_student_kd(train_teacher(**common), T=T, alpha=alpha, config=config, **common)


def _baseline_dil(seed=0, train_profile="smoke", data_seed=0, progress=None, narrow_stats=None, **_):
    from .train import train_baseline_dil

    config = _narrow_config("student", train_profile, narrow_stats)
    return train_baseline_dil(config=config, **_common(seed, train_profile, data_seed, progress))


def _drl_wide(seed=0, train_profile="smoke", data_seed=0, progress=None, **_):
    from .drl import train_dqn

    return train_dqn("wide", **_common(seed, train_profile, data_seed, progress))


def _drl_narrow(seed=0, train_profile="smoke", data_seed=0, progress=None, narrow_stats=None, **_):
    from .drl import train_dqn

    config = _narrow_config("dqn", train_profile, narrow_stats)
    return train_dqn("narrow", config=config, **_common(seed, train_profile, data_seed, progress))


def _untrained_mlp(name: str, teacher: bool):
    def example(num_subtasks: int = 6):
        from . import nets

        return (nets.teacher if teacher else nets.student)(num_subtasks, name=name)

    return example


def _untrained_dqn(name: str):
    def example(num_subtasks: int = 6):
        from .drl import DQN_CONFIG, QNetwork

        return QNetwork(num_subtasks, DQN_CONFIG.hidden, DQN_CONFIG.dueling, name=name)

    return example


def _forms(key: str, label: str, lean_implementation: str = "numpy") -> list[registry.Timed]:
    return [registry.Timed(key, "vectorised", f"{label} (torch)", "torch"),
            registry.Timed(f"{key}_lean", "lean", f"{label} (lean numpy)", lean_implementation)]


_LEARNED = {"family": "learned", "seeded": True}
_DRL = {**_LEARNED, "key": "drl", "key_label": "DRL"}

registry.register("drl_wide", label="DRL (wide)", order=30, build=_drl_wide, example=_untrained_dqn("drl_wide"),
                  **_DRL)
registry.register("drl_narrow", label="DRL (narrow)", order=31, build=_drl_narrow,
                  example=_untrained_dqn("drl_narrow"), table1=_forms("drl", "DRL", "numpy, argmax of the advantages"),
                  **_DRL)
registry.register("dil", label="DIL", order=40, build=_dil, example=_untrained_mlp("dil", teacher=True),
                  table1=_forms("dil", "DIL"), **_LEARNED)
registry.register("kd_dil", label="KD-DIL", order=50, build=_kd_dil, example=_untrained_mlp("kd_dil", teacher=False),
                  table1=_forms("kd_dil", "KD-DIL", "numpy, from the lean weight file"), **_LEARNED)
registry.register("baseline_dil", label="Baseline DIL", order=60, build=_baseline_dil,
                  example=_untrained_mlp("baseline_dil", teacher=False), table1=_forms("baseline_dil", "Baseline DIL"),
                  **_LEARNED)
