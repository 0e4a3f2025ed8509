"""Inference delay of offloading policies: the paper's Table 1 and the harness behind it.

Modules, one job each:

* :mod:`~kdoffload.timing.harness` -- time any policies on the same inputs, batched and online;
* :mod:`~kdoffload.timing.machine` -- the machine probe (CPU, threads, versions, peak FLOP/s);
* :mod:`~kdoffload.timing.forms` -- the keys Table 1 times, read from :mod:`kdoffload.registry`;
* :mod:`~kdoffload.timing.table1` -- the Table 1 experiment (:func:`run_table1`);
* :mod:`~kdoffload.timing.render` -- Table 1 as frames and sentences.

What chapter 6 runs::

    from kdoffload import timing
    run = timing.run_table1(models, test_req, "kd_dil_student.kdlean")  # 100,000 batched, 10,000 online
    timing.table1_display(run.table1(), paper.TABLE1, timing.LABELS)      # µs per decision, ratio to Greedy
    run.forms()                      # per key: form, operations, floor, both regimes side by side
    print(run.paper_statement())     # which of DIL 0.51 / KD-DIL 0.17 are reachable
    report.record(profile, run.results())   # "table1" and "table1_details"
"""

from .forms import LABELS, form_of, forms
from .harness import REGIMES, DelayInputs, DelayReport, Timing, measure
from .machine import describe_machine, machine_info
from .render import paper_ratio_statement, table1_display, table1_frame
from .table1 import Table1Run, equal_effort, run_table1, table1_policies

__all__ = [
    "LABELS", "REGIMES", "DelayInputs", "DelayReport", "Table1Run", "Timing", "describe_machine", "equal_effort",
    "form_of", "forms", "machine_info", "measure", "paper_ratio_statement", "run_table1", "table1_display",
    "table1_frame", "table1_policies",
]
