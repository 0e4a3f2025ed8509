"""The numbers the paper publishes — and only those, each labelled as the paper's.

Chen, Zeng, Yu, Chen, "Knowledge Distillation for Mobile Edge Computation Offloading",
ZTE Communications 18(2), 2020 (arXiv:2004.04366). This is the ONE place the project
keeps them; the book and the tests read them from here and show them beside what this
project measures. Nothing in this module is a measurement of ours.

The web copy of the paper lost its figures and formulas (see
the book's Assumptions page): Figures 5 and 6 are bar charts whose only number in
the text is DIL = 1.095, and Table 1's only numbers in the text are Greedy = 1.00 (the
normaliser), DIL = 0.51 and KD-DIL = 0.17.
"""

from __future__ import annotations

#: §5.1: "We randomly generate 100 000 samples offline to train DIL model and 10 000
#: testing samples"; §5.2: "we only generate 1 000 samples for training".
DATASET_SIZES = {"train": 100_000, "test": 10_000, "narrow": 1_000}

#: §5.1: |A| = 6 subtasks.
NUM_SUBTASKS = 6

#: Network shapes as the paper states them (§5.1, §5.2): hidden layer widths.
TEACHER_HIDDEN = (256, 256, 256, 256, 256)
STUDENT_HIDDEN = (32, 32)

#: Parameter counts as the paper states them: "1.6 million" (teacher, §5.1) and
#: "about 10,000" (student, §5.2). The stated layer shapes give about 272k and 2.2k
#: (Assumptions, point 10); :func:`kdoffload.nets.count_parameters` gives the real counts.
PARAMETERS = {"teacher": 1.6e6, "student": 1e4}

#: §4: "In the following experiment we set T = 5."
TEMPERATURE = 5

#: §4's worked softening example: the teacher label ``p`` and the paper's softened
#: labels at T = 5 and T = 10. No single power of ``p`` reproduces both (Assumptions, point 12).
SOFTENING_EXAMPLE = {
    "p": (0.999, 2e-4, 3e-6),
    "softened": {5: (0.71, 0.20, 0.09), 10: (0.53, 0.28, 0.19)},
}

#: Figure 5 (§5.1): normalised latency (optimal = 1.0). Only DIL's bar is given in
#: the text ("the latency of decision made by our DIL model is 1.095").
FIGURE5 = {"optimal": 1.0, "dil": 1.095}

#: Figure 6 (§5.2): normalised latency of KD-DIL and baselines. The text gives no
#: number, only the ordering claim "our KD-DIL model still outperforms baseline models".
FIGURE6 = {"optimal": 1.0}

#: Table 1: inference delay per decision normalised to Greedy. Only these three
#: values appear in the text; KD-DIL is "63% (0.17/0.51)" below DIL.
TABLE1 = {"greedy": 1.00, "dil": 0.51, "kd_dil": 0.17}

#: §5.1: "the latency of decision made by our DIL model is 1.095, with an increase less
#: than 10%" (over the optimal decisions).
DIL_INCREASE_BOUND = 0.10

#: §5.2: the student's parameter count is "reduced by 99.375% compared with that in Section 5.1".
STUDENT_REDUCTION = 0.99375

#: Table 1 (text): the delay of "100 000 decisions ... divided by 100 000" per policy.
TABLE1_DECISIONS = 100_000

#: Table 1 (text): "the inference delay of KD-DIL model decrease by 63% (0.17/0.51)"
#: compared with the large DIL model.
KD_DELAY_CUT = 0.63

#: Table 1 (text): "the inference of the optimal approach and DRL is hundreds of times that
#: of our DIL models"; read as at least 100 times.
SLOW_FACTOR = 100
