"""Run profiles: the YAML files that hold every setting a profile changes, and their loader.

A profile is ``profiles/<name>.yaml`` in this package (``paper``, ``smoke``) or a YAML file
given by path::

    description: one line
    training:            # read by kdoffload.train when train_profile = <name>
      sizes: {train_size: 100000, test_size: 10000, narrow_size: 1000}
      teacher: {}        # TrainConfig overrides of the §5.1 teacher
      student: {}        # TrainConfig overrides of the §5.2 students
      dqn: {}            # DQNConfig overrides of both DQNs
      dqn_narrow: {}     # further DQNConfig overrides of the narrow (§5.2) DQN only
    common:              # chapter parameters, for every chapter that declares the name
      seeds: [0, 1, 2]
    chapters:            # chapter parameters, per chapter
      01_system_model: {n_samples: 100000}

The ``training.sizes`` are also chapter parameters: ``kdoffload book`` gives them to every
chapter that declares ``train_size``, ``test_size`` or ``narrow_size`` (before ``common``),
so the paper's dataset sizes are written once, here.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

#: Folder of the shipped profiles.
PROFILES_DIR = Path(__file__).parent / "profiles"

#: The profile whose unmodified run is the committed report in ``book/``.
REPORT_PROFILE = "paper"

#: Top-level sections of a profile, and the parts of its ``training`` section.
SECTIONS = ("description", "training", "common", "chapters")
TRAINING_PARTS = ("sizes", "teacher", "student", "dqn", "dqn_narrow")
SIZES = ("train_size", "test_size", "narrow_size")


class ProfileError(ValueError):
    """A profile that cannot be used: missing, not a mapping, or with unknown sections."""


@dataclass
class Profile:
    """A named set of settings: the learned models' ``training``, chapter parameters
    ``common`` to all chapters and per ``chapters``."""

    name: str
    common: dict = field(default_factory=dict)
    chapters: dict = field(default_factory=dict)
    description: str = ""
    path: Path | None = None
    training: dict = field(default_factory=dict)

    @property
    def is_report(self) -> bool:
        """Whether this is the shipped profile of the committed report."""
        return self.path is not None and self.path.resolve() == (PROFILES_DIR / f"{REPORT_PROFILE}.yaml").resolve()

    def chapter_defaults(self) -> dict:
        """The chapter parameters the profile sets for every chapter: ``training.sizes``, then ``common``."""
        return {**self.training.get("sizes", {}), **self.common}


def available_profiles() -> list[str]:
    """Names of the profiles shipped with the package."""
    return sorted(path.stem for path in PROFILES_DIR.glob("*.yaml"))


def _mapping(value, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ProfileError(f"{where} must be a mapping, got {type(value).__name__}")
    return dict(value)


def load_profile(name_or_path: str) -> Profile:
    """A shipped profile by name (``paper``, ``smoke``) or a YAML file by path."""
    import yaml

    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = PROFILES_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        raise ProfileError(f"no profile {name_or_path!r}: choose one of {available_profiles()} or give a YAML file")
    with open(path) as handle:
        data = _mapping(yaml.safe_load(handle), f"profile {path}")
    unknown = set(data) - set(SECTIONS)
    if unknown:
        raise ProfileError(f"profile {path}: unknown top-level keys {sorted(unknown)}; allowed: {', '.join(SECTIONS)}")
    training = _mapping(data.get("training"), f"profile {path}: training")
    unknown = set(training) - set(TRAINING_PARTS)
    if unknown:
        raise ProfileError(f"profile {path}: unknown keys {sorted(unknown)} in training; "
                           f"allowed: {', '.join(TRAINING_PARTS)}")
    training = {part: _mapping(training.get(part), f"profile {path}: training.{part}") for part in TRAINING_PARTS}
    unknown = set(training["sizes"]) - set(SIZES)
    if unknown:
        raise ProfileError(f"profile {path}: unknown sizes {sorted(unknown)}; allowed: {', '.join(SIZES)}")
    chapters = _mapping(data.get("chapters"), f"profile {path}: chapters")
    for chapter, params in chapters.items():
        chapters[chapter] = _mapping(params, f"profile {path}: chapters.{chapter}")
    return Profile(name=path.stem, common=_mapping(data.get("common"), f"profile {path}: common"), chapters=chapters,
                   description=data.get("description", ""), path=path, training=training)


@lru_cache(maxsize=None)
def _training(name: str, directory: Path) -> dict:
    profile = load_profile(str(directory / f"{name}.yaml"))
    missing = [size for size in SIZES if size not in profile.training["sizes"]]
    if missing:
        raise ProfileError(f"profile {name!r} sets no training.sizes {missing}: it cannot be a train_profile")
    return profile.training


def training(name: str) -> dict:
    """The ``training`` section of the shipped profile ``name`` (a ``train_profile``): ``sizes``
    and the ``teacher``, ``student``, ``dqn`` and ``dqn_narrow`` overrides; a ProfileError for another name."""
    if not isinstance(name, str) or name not in available_profiles():
        raise ProfileError(f"unknown profile {name!r} for training; choose one of {available_profiles()}")
    return copy.deepcopy(_training(name, PROFILES_DIR))
