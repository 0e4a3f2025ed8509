"""The experiments of chapters 3–6: the policies of Figures 5 and 6 over training seeds.

Modules, one job each (their public names are promoted here, so chapters write
``experiments.scores(...)``):

* :mod:`~kdoffload.experiments.policies` -- policies by registered name, scores and
  per-sample latencies over seeds on one labelled test set;
* :mod:`~kdoffload.experiments.parallel` -- the seeds of the learned policies trained at
  once in worker processes (``$KDOFFLOAD_JOBS``);
* :mod:`~kdoffload.experiments.claims` -- the paper's ordering claims and their intervals;
* :mod:`~kdoffload.experiments.intervals` -- bootstrap intervals of every metric;
* :mod:`~kdoffload.experiments.output_readings` -- chapter 5: both readings of the task output;
* :mod:`~kdoffload.experiments.training` -- input statistics, DQN budgets, distillation
  settings, softening, training histories;
* :mod:`~kdoffload.experiments.tables` -- display formatting of all of the above.

Example::

    from kdoffload import experiments
    frame = experiments.scores(experiments.FIGURE5, test, seeds=[0, 1], train_profile="smoke")
    experiments.mean_std_table(frame, labels=plots.POLICY_LABELS)
"""

from ..learned import learned_policy
from .claims import (
    CLAIMS, FIGURE5_CLAIMS, FIGURE6_CLAIMS, claim_pairs, difference_record, ordering, ordering_intervals, orderings,
    pair_key,
)
from .intervals import interval_record, interval_table, scores_with_intervals
from .output_readings import (
    NORMALISATIONS, reading_intervals, reading_latencies, reading_scores, reading_table,
)
from .parallel import JOBS_VARIABLE, learned_policies, train_in_parallel, train_learned, training_jobs
from .policies import (
    FIGURE5, FIGURE6, METRICS, Latencies, latencies, learned, mean_std, policy, ratios, rule_based, scores,
)
from .tables import (
    METRIC_LABELS, bar_values, claim_readings, config_table, interval_display, mean_std_table, orderings_display,
    reading_display, validation_vs_test,
)
from .training import (
    DQN_BUDGETS, NARROW_MODELS, distillation_scores, dqn_budget_config, dqn_budget_curve, histories,
    matching_temperature, narrow_stats_effect, softening_curves, sweep_record,
)

__all__ = [
    "CLAIMS", "DQN_BUDGETS", "JOBS_VARIABLE", "learned_policies", "train_in_parallel", "train_learned",
    "training_jobs", "FIGURE5", "FIGURE5_CLAIMS", "FIGURE6", "FIGURE6_CLAIMS", "METRICS", "METRIC_LABELS",
    "NARROW_MODELS", "NORMALISATIONS", "Latencies", "bar_values", "claim_pairs", "claim_readings", "config_table",
    "difference_record", "distillation_scores", "dqn_budget_config", "dqn_budget_curve", "histories",
    "interval_display", "interval_record", "interval_table", "latencies", "learned", "learned_policy",
    "matching_temperature", "mean_std", "mean_std_table", "narrow_stats_effect", "ordering", "ordering_intervals",
    "orderings", "orderings_display", "pair_key", "policy", "ratios", "reading_display", "reading_intervals",
    "reading_latencies", "reading_scores", "reading_table", "rule_based", "scores", "scores_with_intervals",
    "softening_curves", "sweep_record", "validation_vs_test",
]
