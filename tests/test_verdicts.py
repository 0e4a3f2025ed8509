"""The Summary's verdicts (kdoffload.verdicts), on hand-made results files."""

import pandas as pd
import pytest

from kdoffload import assumptions, paper, verdicts

# The tolerance band of Figure 5's DIL (1.095, 5 %): 1.095 +- 0.05475 = [1.04025, 1.14975].


@pytest.mark.parametrize("paper_value, mean, std, verdict", [
    (1.095, 1.10, None, verdicts.REPRODUCED),
    (1.095, 1.30, None, verdicts.DIFFERS),
    (1.095, 1.30, 0.15, verdicts.REPRODUCED),  # old rule: |1.30 - 1.095| = 0.205 <= 2 * 0.15
    (1.095, 1.15, None, verdicts.DIFFERS),  # just above 1.14975
    (1.095, 1.149, None, verdicts.REPRODUCED),
    (1.095, None, None, verdicts.UNCHECKABLE),
    (None, 1.0, None, verdicts.UNCHECKABLE),
])
def test_number_verdict_old_rule(paper_value, mean, std, verdict):
    assert verdicts.number_verdict(paper_value, mean, std) == verdict


@pytest.mark.parametrize("mean, low, high, verdict", [
    (1.10, 1.00, 1.20, verdicts.REPRODUCED),  # point in the band
    (1.03, 0.99, 1.20, verdicts.INDISTINGUISHABLE),  # point below 1.04025, interval overlaps
    (1.20, 1.14, 1.26, verdicts.INDISTINGUISHABLE),  # point above 1.14975, interval overlaps
    (1.20, 1.14975, 1.26, verdicts.INDISTINGUISHABLE),  # touching counts as overlapping
    (1.20, 1.15, 1.26, verdicts.DIFFERS),  # interval wholly above
    (1.00, 0.98, 1.04, verdicts.DIFFERS),  # interval wholly below
])
def test_number_verdict_with_an_interval(mean, low, high, verdict):
    # the std no longer widens the band once an interval is given
    assert verdicts.number_verdict(1.095, mean, 0.2, low=low, high=high) == verdict


def test_a_paper_number_given_two_ways():
    # 63 % stated, 1 - 0.17 / 0.51 = 2/3 implied; at 25 %: [0.63 * 0.75, (2/3) * 1.25] = [0.4725, 0.8333]
    band = verdicts.tolerance_band((0.63, 1 - 0.17 / 0.51), rtol=0.25)
    assert band == pytest.approx((0.4725, 0.83333333))
    assert verdicts.number_verdict((0.63, 2 / 3), 0.80, rtol=0.25) == verdicts.REPRODUCED
    assert verdicts.number_verdict(0.63, 0.80, rtol=0.25) == verdicts.DIFFERS  # 0.80 > 0.7875
    assert verdicts.number_verdict((0.63, 2 / 3), 0.85, rtol=0.25) == verdicts.DIFFERS


@pytest.mark.parametrize("mean, low, high, verdict", [
    (1.05, None, None, verdicts.REPRODUCED),
    (1.10, None, None, verdicts.DIFFERS),
    (1.05, 1.02, 1.09, verdicts.REPRODUCED),
    (1.05, 1.02, 1.12, verdicts.INDISTINGUISHABLE),  # point below, interval across 1.10
    (1.15, 1.08, 1.20, verdicts.INDISTINGUISHABLE),
    (1.15, 1.10, 1.20, verdicts.DIFFERS),
    (None, None, None, verdicts.UNCHECKABLE),
])
def test_bound_verdict(mean, low, high, verdict):
    assert verdicts.bound_verdict(1.10, mean, low, high) == verdict


def test_claim_text():
    assert verdicts.claim_text({"local": (-0.3, -0.1), "cloud": (-2.0, -1.0)}) == ("holds", verdicts.REPRODUCED)
    assert verdicts.claim_text({"local": (-0.3, 0.1), "cloud": (-2.0, -1.0)}) == (
        "indistinguishable from local", verdicts.INDISTINGUISHABLE)
    assert verdicts.claim_text({"local": (0.0, 0.0)})[1] == verdicts.INDISTINGUISHABLE  # an exact tie
    assert verdicts.claim_text({"local": (-0.3, 0.1), "cloud": (0.5, 1.0)}) == (
        "fails against cloud", verdicts.DIFFERS)


def test_summary_rows_without_results_cannot_check_anything():
    rows = verdicts.summary_rows({})
    assert rows and all(row["verdict"] == verdicts.UNCHECKABLE for row in rows)
    assert all(row["uncertainty"] == verdicts.BASIS_NONE for row in rows)
    assert verdicts.tally(rows)[verdicts.UNCHECKABLE] == sum(row["kind"] == verdicts.RESULT for row in rows)


def test_the_paper_column_and_verdicts_follow_kdoffload_paper(monkeypatch):
    results = {"figure5": {"normalized_latency": {"dil": {"mean": 1.5, "std": 0.0}}},
               "settings": {"train_size": 123}}
    rows = {(row["where"], row["what"]): row for row in verdicts.summary_rows(results)}
    assert rows["Figure 5", "normalised latency, dil"]["verdict"] == verdicts.DIFFERS
    monkeypatch.setattr(paper, "FIGURE5", {"optimal": 1.0, "dil": 1.5})
    monkeypatch.setattr(paper, "DATASET_SIZES", {"train": 123, "test": 7, "narrow": 5})
    rows = {(row["where"], row["what"]): row for row in verdicts.summary_rows(results)}
    assert rows["Figure 5", "normalised latency, dil"]["paper"] == "1.5"
    assert rows["Figure 5", "normalised latency, dil"]["verdict"] == verdicts.REPRODUCED
    assert rows["§5.1", "setting: wide training requirements"]["paper"] == "123"
    assert rows["§5.1", "setting: wide training requirements"]["verdict"] == verdicts.REPRODUCED


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
    assert "not measured yet" in assumptions.assumption_effects({})[1]
    variant = "output_return={}/ratio_of_means"
    results = {"baselines": {"variants": {variant.format(r): {"edge": {"mean": 2.0}, "local": {"mean": 1.5}}
                                          for r in (True, False)},
                             "orderings": {"Edge < Local": {variant.format(True): False, variant.format(False): True}}}}
    effects = assumptions.assumption_effects(results)
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
    cut = rows["Table 1 (batched)", "KD-DIL's delay is 63 % below DIL's"]
    assert cut["ours"] == "60%" and cut["verdict"] == verdicts.REPRODUCED  # 1 - 0.2 / 0.5
    # the paper states 63 %, its own Table 1 gives 1 - 0.17 / 0.51 = 66.7 %
    assert cut["paper"] == "63% stated; 67% by its Table 1"
    assert rows["Table 1 (batched)", "Greedy is slightly slower than DIL"]["verdict"] == verdicts.REPRODUCED
    assert rows["Table 1 (online)", "Greedy is slightly slower than DIL"]["verdict"] == verdicts.UNCHECKABLE


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
    effects = assumptions.assumption_effects(results)
    assert "Orderings that change: none" in effects[1]
    assert "6.48" in effects[12] and "3.00 / 0.50" in effects[14]


def test_summary_table_styles_verdicts():
    rows = verdicts.summary_rows({})
    html = verdicts.summary_table(rows, "t").to_html()
    assert "cannot be checked" in html



def _rows(results):
    return {(row["where"], row["what"]): row for row in verdicts.summary_rows(results)}


def test_summary_uses_stored_intervals_and_says_so():
    dil = {"mean": 1.16, "std": 0.01}
    old = _rows({"figure5": {"normalized_latency": {"dil": dil}}})["Figure 5", "normalised latency, dil"]
    # old rule: |1.16 - 1.095| = 0.065 > max(0.05475, 0.02)
    assert old["verdict"] == verdicts.DIFFERS and old["uncertainty"] == verdicts.BASIS_SEEDS
    assert old["ours"] == "1.16 ± 0.01"
    new = _rows({"figure5": {"normalized_latency": {"dil": {**dil, "low": 1.12, "high": 1.20}}}})
    row = new["Figure 5", "normalised latency, dil"]
    assert row["verdict"] == verdicts.INDISTINGUISHABLE and row["uncertainty"] == verdicts.BASIS_INTERVAL
    assert row["ours"] == "1.16 [1.12, 1.2]"
    bound = new["Figure 5 (text)", "DIL's latency is less than 10 % above optimal"]
    assert bound["verdict"] == verdicts.DIFFERS  # the whole interval is above 1.10
    assert bound["ours"] == "+16.0% [+12.0%, +20.0%]"


def test_orderings_use_stored_difference_intervals():
    means = {"edge": {"mean": 1.2}, "local": {"mean": 1.6}, "cloud": {"mean": 1.2}}

    def row(differences):
        results = {"figure5": {"normalized_latency": means, "differences": {"normalized_latency": differences}}}
        return _rows(results)

    # no intervals: the old rule on the means; Edge = Cloud exactly is a tie, not a failure
    rows = row({})
    assert rows["Figure 5 (text)", "Edge beats Local"]["verdict"] == verdicts.REPRODUCED
    assert rows["Figure 5 (text)", "Edge beats Local"]["uncertainty"] == verdicts.BASIS_POINT
    assert rows["Figure 5 (text)", "Edge beats Cloud"]["verdict"] == verdicts.INDISTINGUISHABLE
    # the point says Edge < Local, the interval of edge - local does not
    rows = row({"edge < local": {"difference": -0.4, "low": -0.9, "high": 0.1},
                "edge < cloud": {"difference": 0.0, "low": 0.0, "high": 0.0}})
    assert rows["Figure 5 (text)", "Edge beats Local"]["ours"] == "indistinguishable from local"
    assert rows["Figure 5 (text)", "Edge beats Local"]["verdict"] == verdicts.INDISTINGUISHABLE
    assert rows["Figure 5 (text)", "Edge beats Local"]["uncertainty"] == verdicts.BASIS_INTERVAL
    assert rows["Figure 5 (text)", "Edge beats Cloud"]["verdict"] == verdicts.INDISTINGUISHABLE
    rows = row({"edge < local": {"difference": -0.4, "low": -0.6, "high": -0.2},
                "edge < cloud": {"difference": 0.0, "low": 0.1, "high": 0.3}})
    assert rows["Figure 5 (text)", "Edge beats Local"]["verdict"] == verdicts.REPRODUCED
    assert rows["Figure 5 (text)", "Edge beats Cloud"]["verdict"] == verdicts.DIFFERS


def test_figure6_drl_claim_reads_the_paired_interval():
    results = {"figure5": {"normalized_latency": {"drl": {"mean": 1.5}}},
               "figure6": {"normalized_latency": {"drl": {"mean": 1.7}}}}
    what = "Figure 6 (text)", "DRL is much worse with 1,000 samples than in Figure 5"
    assert _rows(results)[what]["verdict"] == verdicts.REPRODUCED  # old rule: 1.7 > 1.5
    results["figure6"]["differences"] = {"normalized_latency": {
        "drl_wide < drl": {"difference": -0.2, "low": -0.5, "high": 0.1}}}
    assert _rows(results)[what]["verdict"] == verdicts.INDISTINGUISHABLE


def test_kinds_and_the_tally_of_results():
    results = {"settings": {"train_size": paper.DATASET_SIZES["train"], "num_subtasks": paper.NUM_SUBTASKS},
               "figure5": {"normalized_latency": {"optimal": {"mean": 1.0, "std": 0.0},
                                                  "dil": {"mean": 1.09, "std": 0.01}}},
               "table1": {"batched": {"greedy": {"vs_greedy": 1.0}}}}
    rows = _rows(results)
    assert rows["§5.1", "setting: wide training requirements"]["kind"] == verdicts.SETTING
    assert rows["Figure 5", "normalised latency, optimal"]["kind"] == verdicts.IDENTITY
    assert rows["Table 1 (batched)", "inference delay / Greedy's, greedy"]["kind"] == verdicts.IDENTITY
    assert rows["Table 1 (batched)", "inference delay / Greedy's, dil"]["kind"] == verdicts.RESULT
    # reproduced: two settings, two identities, and two results (DIL's 1.09 and its bound)
    assert sum(row["verdict"] == verdicts.REPRODUCED for row in rows.values()) == 6
    results_rows = [row for row in rows.values() if row["kind"] == verdicts.RESULT]
    counts = verdicts.tally(list(rows.values()))
    assert counts == {verdicts.REPRODUCED: 2, verdicts.INDISTINGUISHABLE: 0, verdicts.DIFFERS: 0,
                      verdicts.UNCHECKABLE: len(results_rows) - 2}
    assert verdicts.tally(pd.DataFrame(rows.values())) == counts


def test_fallback_brings_chapter5_intervals_and_renames_its_dqn():
    variant = "output_return=True/ratio_of_means"
    results = {"baselines": {
        "variants": {variant: {"edge": {"mean": 1.2, "std": 0.1, "low": 1.0, "high": 1.5},
                               "local": {"mean": 1.6, "std": 0.1}, "drl_wide": {"mean": 1.4}}},
        "differences": {variant: {"edge < local": {"difference": -0.4, "low": -0.8, "high": 0.05}}}}}
    rows = _rows(results)
    assert rows["Figure 5 (text)", "Edge beats Local"]["verdict"] == verdicts.INDISTINGUISHABLE
    assert rows["Figure 5 (text)", "Edge beats Local"]["uncertainty"] == verdicts.BASIS_INTERVAL
    # chapter 5's drl_wide stands in for Figure 5's DQN
    results["figure6"] = {"normalized_latency": {"drl": {"mean": 1.7}}}
    assert _rows(results)["Figure 6 (text)", "DRL is much worse with 1,000 samples than in Figure 5"]["ours"] == \
        "1.7 vs 1.4"


def test_summary_table_colours_indistinguishable_rows():
    results = {"figure5": {"normalized_latency": {"dil": {"mean": 1.16, "std": 0.01, "low": 1.12, "high": 1.2}}}}
    html = verdicts.summary_table(verdicts.summary_rows(results), "t").to_html()
    assert verdicts.VERDICT_STYLES[verdicts.INDISTINGUISHABLE].split(": ")[1] in html


def test_fallback_differences_only_beside_fallback_means():
    variant = "output_return=True/ratio_of_means"
    results = {"figure5": {"normalized_latency": {"edge": {"mean": 1.2}}},  # chapter 3 ran Edge only
               "baselines": {"variants": {variant: {"edge": {"mean": 5.0}, "local": {"mean": 1.6}}},
                             "differences": {variant: {"edge < local": {"difference": 3.4, "low": 3.0, "high": 4.0}}}}}
    row = _rows(results)["Figure 5 (text)", "Edge beats Local"]
    # chapter 3's Edge (1.2) against chapter 5's Local (1.6), on the means: chapter 5's interval does not apply
    assert row["verdict"] == verdicts.REPRODUCED and row["uncertainty"] == verdicts.BASIS_POINT


def test_table1_is_judged_at_equal_effort_when_recorded():
    """With equal-effort ratios recorded, DIL's and KD-DIL's rows use them, and the fastest exact
    form stands for Optimal: here Optimal 300 and DRL 250 times Greedy against DIL's 0.5 are 600
    and 500 times DIL's delay ("hundreds of times": reproduced)."""
    table = {regime: {"greedy": {"vs_greedy": 1.0}, "dil": {"vs_greedy": 0.5}, "kd_dil": {"vs_greedy": 0.2},
                      "optimal": {"vs_greedy": 300.0}, "drl": {"vs_greedy": 250.0}} for regime in ("batched", "online")}
    results = {"table1": {regime: {"dil": {"vs_greedy": 9.0}} for regime in ("batched", "online")},
               "table1_details": {"equal_effort": table}}
    rows = {(row["where"], row["what"]): row for row in verdicts.summary_rows(results)}
    assert rows[("Table 1 (online)", "inference delay / Greedy's, dil")]["ours"].startswith("0.5")
    slow = rows[("Table 1 (batched)", "Optimal and DRL take hundreds of times DIL's delay")]
    assert slow["verdict"] == verdicts.REPRODUCED and "600" in slow["ours"]
