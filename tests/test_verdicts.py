"""The Summary's verdicts (kdoffload.verdicts)."""

import pytest

from kdoffload import paper, verdicts


@pytest.mark.parametrize("paper_value, mean, std, verdict", [
    (1.095, 1.10, None, verdicts.REPRODUCED),
    (1.095, 1.30, None, verdicts.DIFFERS),
    (1.095, 1.30, 0.15, verdicts.REPRODUCED),
    (1.095, None, None, verdicts.UNCHECKABLE),
])
def test_number_verdict(paper_value, mean, std, verdict):
    assert verdicts.number_verdict(paper_value, mean, std) == verdict


def test_summary_rows_without_results_cannot_check_anything():
    rows = verdicts.summary_rows({})
    assert rows and all(row["verdict"] == verdicts.UNCHECKABLE for row in rows)
    # every published number appears, read from kdoffload.paper
    papers = {row["paper"] for row in rows}
    assert f"{paper.FIGURE5['dil']:g}" in papers
    assert {f"{v:.2f}" for v in paper.TABLE1.values()} <= papers


def test_summary_rows_verdicts():
    results = {"figure5": {"normalized_latency": {
        "optimal": {"mean": 1.0, "std": 0.0}, "dil": {"mean": 1.09, "std": 0.01},
        "greedy": {"mean": 1.3, "std": 0.1}, "drl": {"mean": 1.5, "std": 0.1}, "local": {"mean": 1.6, "std": 0.1},
        "edge": {"mean": 5.0, "std": 2.0}, "cloud": {"mean": 9.0, "std": 2.0}, "random": {"mean": 14.0, "std": 1.0}}},
        "params": {"teacher": 272_146, "student": 2_226}}
    rows = {(row["where"], row["what"]): row for row in verdicts.summary_rows(results)}
    assert rows["Figure 5", "normalised latency, dil"]["verdict"] == verdicts.REPRODUCED
    assert rows["Figure 5 (text)", "DIL beats every baseline"]["verdict"] == verdicts.REPRODUCED
    assert rows["Figure 5 (text)", "Edge beats Local"]["verdict"] == verdicts.DIFFERS
    assert rows["Figure 5 (text)", "Edge beats Cloud"]["verdict"] == verdicts.REPRODUCED
    assert rows["Figure 5 (text)", "Random is far worse than the others"]["verdict"] == verdicts.REPRODUCED
    assert rows["§5.1–5.2", "parameters of the teacher"]["verdict"] == verdicts.DIFFERS
    assert rows["Figure 6 (text)", "KD-DIL beats Baseline DIL, DRL and Greedy"]["verdict"] == verdicts.UNCHECKABLE


def test_summary_falls_back_to_the_baselines_chapter():
    variant = "output_return=True/ratio_of_means"
    results = {"baselines": {"variants": {variant: {"local": {"mean": 1.6, "std": 0.1},
                                                    "edge": {"mean": 1.2, "std": 0.1}}}}}
    rows = {(row["where"], row["what"]): row for row in verdicts.summary_rows(results)}
    assert rows["Figure 5 (text)", "Edge beats Local"]["verdict"] == verdicts.REPRODUCED


def test_assumption_effects_pending_and_measured():
    assert "not measured yet" in verdicts.assumption_effects({})[1]
    variant = "output_return={}/ratio_of_means"
    results = {"baselines": {"variants": {variant.format(r): {"edge": {"mean": 2.0}, "local": {"mean": 1.5}}
                                          for r in (True, False)},
                             "orderings": {"Edge < Local": {variant.format(True): False, variant.format(False): True}}}}
    effects = verdicts.assumption_effects(results)
    assert "edge 2 / 2" in effects[1] and "Edge < Local" in effects[1]


def test_summary_rows_cover_settings_and_text_claims():
    results = {"params": {"teacher": 272_402, "student": 2_226},
               "settings": {"train_size": 100_000, "test_size": 10_000, "narrow_size": 200, "num_subtasks": 6,
                            "teacher_hidden": [256] * 5, "student_hidden": [32, 32]},
               "figure5": {"normalized_latency": {"dil": {"mean": 1.08, "std": 0.01}}},
               "figure6": {"T": 5},
               "table1": {"batched": {"greedy": {"vs_greedy": 1.0}, "dil": {"vs_greedy": 0.5},
                                      "kd_dil": {"vs_greedy": 0.2}}}}
    rows = {(row["where"], row["what"]): row for row in verdicts.summary_rows(results)}
    assert rows["§5.1", "setting: wide training requirements"]["verdict"] == verdicts.REPRODUCED
    assert rows["§5.2", "setting: narrow training requirements"]["verdict"] == verdicts.DIFFERS
    assert rows["§4, §5.2", "setting: temperature T of KD-DIL"]["verdict"] == verdicts.REPRODUCED
    assert rows["§5.1–5.2", "setting: hidden layers of the student"]["verdict"] == verdicts.REPRODUCED
    assert rows["§5.2", "student's parameters below the teacher's"]["verdict"] == verdicts.DIFFERS
    assert rows["Figure 5 (text)", "DIL's latency is less than 10 % above optimal"]["verdict"] == verdicts.REPRODUCED
    assert rows["Table 1 (batched)", "KD-DIL's delay is 63 % below DIL's"]["ours"] == "60%"
    assert rows["Table 1 (batched)", "Greedy is slightly slower than DIL"]["verdict"] == verdicts.REPRODUCED
    assert rows["Table 1 (online)", "Greedy is slightly slower than DIL"]["verdict"] == verdicts.UNCHECKABLE
    # every number kdoffload.paper holds appears in the paper column
    papers = {row["paper"] for row in rows.values()}
    assert {"100,000", "10,000", "1,000", "6", "5", "99.375%", "63%"} <= papers


def test_assumption_effects_ignore_claims_missing_under_a_reading():
    variant = "output_return={}/ratio_of_means"
    results = {"baselines": {"variants": {variant.format(r): {"edge": {"mean": 2.0}, "local": {"mean": 1.5}}
                                          for r in (True, False)},
                             "orderings": {"DIL < every baseline": {variant.format(True): False,
                                                                     variant.format(False): None}}},
               "softening": {"T5": [0.79, 0.14, 0.06], "T10": [0.59, 0.25, 0.16],
                             "matching": {"T5": {"T": 6.48, "max_error": 0.0097}}},
               "table1": {"batched": {"dil": {"vs_greedy": 3.0}, "kd_dil": {"vs_greedy": 0.5}},
                          "online": {"dil": {"vs_greedy": 5.0}, "kd_dil": {"vs_greedy": 2.0}}}}
    effects = verdicts.assumption_effects(results)
    assert "Orderings that change: none" in effects[1]
    assert "6.48" in effects[12] and "3.00 / 0.50" in effects[14]


def test_summary_table_styles_verdicts():
    rows = verdicts.summary_rows({})
    html = verdicts.summary_table(rows, "t").to_html()
    assert "cannot be checked" in html

