"""The keys Table 1 times, read from :mod:`kdoffload.registry`.

Every registered policy lists the forms in which Table 1 times it
(:class:`kdoffload.registry.Timed`): its *vectorised* form (the policy itself: numpy
over a batch, or torch) and its *lean* form (per-request code,
:mod:`kdoffload.lean_policies`), each under a key of the results file's ``table1``.
"""

from __future__ import annotations

from .. import registry

#: The two forms of a policy.
FORM_NAMES = registry.FORMS

#: Display labels of the Table 1 keys (a timed key's label wins over a policy's figure label).
LABELS = registry.Labels(table1=True)


def forms() -> dict[str, tuple[str, str, str]]:
    """Every timed key, in table order: (the paper's policy it implements, its form, the implementation)."""
    return {timed.key: (info.key, timed.form, timed.implementation) for info, timed in registry.timed_forms()}


def policy_order() -> tuple[str, ...]:
    """The timed keys in table order (policy order; each policy's vectorised form, then its lean form)."""
    return tuple(forms())


def greedy_forms() -> tuple[str, ...]:
    """The keys of Greedy's forms; each regime is normalised by the fastest of them."""
    return tuple(timed.key for timed in registry.get("greedy").table1)


def form_of(key: str) -> tuple[str, str, str]:
    """(policy, form, implementation) of a timed key (:func:`forms`; else read from a ``_lean`` suffix)."""
    known = forms()
    if key in known:
        return known[key]
    if key.endswith("_lean"):
        return key[:-len("_lean")], "lean", ""
    return key, "vectorised", ""
