"""Run profiles (kdoffload.settings): one YAML file per profile holds its training settings
and chapter parameters; the paper's dataset sizes are written there once."""

import pytest

from kdoffload import cli, paper, settings, train


def test_the_paper_profile_trains_at_the_papers_sizes():
    paper_sizes = settings.training("paper")["sizes"]
    assert paper_sizes == {"train_size": 100_000, "test_size": 10_000, "narrow_size": 1_000}
    assert paper_sizes == {f"{name}_size": size for name, size in paper.DATASET_SIZES.items()}
    assert train.check_profile("paper") == {"sizes": paper_sizes, "teacher": {}, "student": {}, "dqn": {},
                                            "dqn_narrow": {"lr": 3e-4}}


def test_only_the_narrow_dqn_takes_the_dqn_narrow_overrides():
    from kdoffload import drl

    # paper.yaml sets dqn_narrow.lr = 3e-4 (chosen on the development set); DQNConfig's default is 1e-3
    assert drl.narrow_config("paper").lr == 3e-4 and drl.narrow_config("paper").stats == "fit"
    assert train.profile_config(drl.DQN_CONFIG, "paper", "dqn").lr == 1e-3  # the wide DQN keeps it
    assert drl.narrow_config("smoke").lr == 1e-3  # the smoke profile sets no dqn_narrow
    assert drl.narrow_config("smoke").updates == 300  # ... but both DQNs take its dqn overrides
    assert drl.narrow_config("paper", stats="wide").stats == "wide"


def test_the_smoke_profile_shrinks_sizes_and_runs():
    smoke = settings.training("smoke")
    assert smoke["sizes"] == {"train_size": 2_000, "test_size": 500, "narrow_size": 200}
    assert train.profile_config(train.TEACHER_CONFIG, "smoke", "teacher").epochs == 8
    assert train.profile_config(train.STUDENT_CONFIG, "smoke", "student").patience == 30
    smoke["sizes"]["train_size"] = 1  # a copy: the next reader sees the file's value
    assert settings.training("smoke")["sizes"]["train_size"] == 2_000


def test_unknown_train_profile_names_the_choices():
    with pytest.raises(ValueError, match=r"unknown profile 'huge' for training; choose one of \['paper', 'smoke'\]"):
        train.check_profile("huge")


def test_training_sizes_reach_every_chapter_that_declares_them(tmp_path):
    every = cli.chapter_notebooks(cli.find_root(None) / "notebooks")
    notebooks = [path for path in every if path.stem in ("02_labels", "05_baselines")]
    stems = [path.stem for path in every]
    resolved = cli.resolve_parameters(settings.load_profile("paper"), notebooks, all_chapters=stems)
    assert resolved["02_labels"]["train_size"] == 100_000 and resolved["02_labels"]["narrow_size"] == 1_000
    assert resolved["05_baselines"]["test_size"] == 10_000
    mine = tmp_path / "mine.yaml"
    mine.write_text("training: {sizes: {test_size: 50}}\ncommon: {test_size: 70}\n")
    resolved = cli.resolve_parameters(settings.load_profile(str(mine)), notebooks, all_chapters=stems)
    assert resolved["05_baselines"]["test_size"] == 70  # common wins over training.sizes


@pytest.mark.parametrize("text, message", [
    ("training: {sizes: {train_size: 5, val_size: 3}}\n", r"unknown sizes \['val_size'\]"),
    ("training: {optimiser: {}}\n", r"unknown keys \['optimiser'\] in training"),
    ("training: [1, 2]\n", r"training must be a mapping, got list"),
    ("chapters: {01_x: 3}\n", r"chapters.01_x must be a mapping, got int"),
])
def test_bad_profiles_are_errors_naming_the_section(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(settings.ProfileError, match=message):
        settings.load_profile(str(path))
