"""The two calls every chapter notebook makes around its ``parameters`` cell.

A chapter opens with::

    from kdoffload import chapter
    start = chapter.setup(globals())     # last line of the imports cell

then its ``parameters`` cell (papermill injects its overrides after it), then::

    params = chapter.parameters(globals(), start)

:func:`setup` fixes torch's threads and the plotting style. :func:`parameters` checks
every name papermill injected against the names the ``parameters`` cell declares (a
misspelt ``-p temprature 3`` is an error, not a silently unused variable), checks that
each injected value has the type of its default, shows the table of what the chapter runs
with, and returns it as a dict.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import warnings
from dataclasses import dataclass

#: The first line of the cell papermill injects after a ``parameters`` cell.
INJECTED_MARKER = "# Parameters"


@dataclass(frozen=True)
class ChapterStart:
    """What :func:`setup` saw: the names defined before the parameters, and its history index."""

    names: frozenset
    history_index: int | None


def setup(namespace: dict, threads: int = 1) -> ChapterStart:
    """Prepare a chapter's kernel: fixed torch threads, the book's plot style, a name snapshot.

    Parameters
    ----------
    namespace : dict
        The notebook's ``globals()``.
    threads : int
        CPU threads for torch (fixed, so the same seed prints the same numbers).
    """
    from . import plots
    from .threads import set_torch_threads

    warnings.filterwarnings("ignore", "IProgress")  # tqdm's notebook bar without ipywidgets
    set_torch_threads(threads)
    plots.setup()
    stable_table_output()
    history = namespace.get("In")
    index = len(history) - 1 if isinstance(history, list) and history else None
    return ChapterStart(frozenset(namespace), index)


def styler_html(styler) -> str:
    """HTML of a pandas Styler whose element ids depend only on its contents (no random uuid)."""
    digest = hashlib.sha1(styler.data.to_csv().encode()).hexdigest()[:10]
    return styler.set_uuid(digest).to_html()


def styler_text(styler, printer, cycle) -> None:
    """Plain text of a pandas Styler: its table, not an object address."""
    printer.text(styler.data.to_string())


def stable_table_output() -> None:
    """Make pandas Stylers display with stable ids and a plain-text table (no ``<... at 0x...>``)."""
    from IPython import get_ipython
    from pandas.io.formats.style import Styler

    shell = get_ipython()
    if shell is None:
        return
    formatters = shell.display_formatter.formatters
    formatters["text/html"].for_type(Styler, styler_html)
    formatters["text/plain"].for_type(Styler, styler_text)


def _assignments(source: str) -> dict[str, object]:
    """``{name: value}`` of the top-level ``name = literal`` lines of a cell (non-literals: ``...``)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    found = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            if isinstance(target, ast.Name) and node.value is not None:
                try:
                    found[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    found[target.id] = ...
    return found


def _type_name(value) -> str:
    return type(value).__name__


def same_kind(default, value) -> bool:
    """Whether ``value`` may replace ``default``: a number for a number, a list for a list, the
    same type otherwise; anything for a ``None`` or non-literal default."""
    if default is None or default is ... or value is ...:
        return True
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    if isinstance(default, (list, tuple)):
        return isinstance(value, (list, tuple))
    return isinstance(value, type(default))


def check_injected(declared: dict, injected: dict) -> None:
    """Raise ``ValueError`` for an injected name that is not declared or whose type differs.

    Parameters
    ----------
    declared : dict
        ``{name: default}`` of the ``parameters`` cell.
    injected : dict
        ``{name: value}`` papermill injected.
    """
    problems = []
    for name, value in injected.items():
        if name not in declared:
            close = difflib.get_close_matches(name, list(declared), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"unknown parameter {name!r}{hint}; this chapter's parameters are {sorted(declared)}")
        elif not same_kind(declared[name], value):
            problems.append(f"parameter {name} = {value!r} is a {_type_name(value)}, but its default "
                            f"{declared[name]!r} is a {_type_name(declared[name])}")
    if problems:
        raise ValueError("bad chapter parameters:\n  " + "\n  ".join(problems))


def injected_parameters(namespace: dict, start: ChapterStart) -> tuple[dict, dict]:
    """``(declared, injected)`` name→value maps read from the kernel's input history.

    The cells run since :func:`setup` are the ``parameters`` cell and, under papermill, the
    injected cell that starts with ``# Parameters``. Without a history (not an IPython
    kernel) both are empty.
    """
    history = namespace.get("In")
    if start.history_index is None or not isinstance(history, list):
        return {}, {}
    declared, injected = {}, {}
    for source in history[start.history_index + 1:-1]:
        target = injected if source.lstrip().startswith(INJECTED_MARKER) else declared
        target.update(_assignments(source))
    return declared, injected


def defined_since(namespace: dict, start: ChapterStart) -> dict:
    """The variables defined in ``namespace`` since :func:`setup` (the chapter's parameters)."""
    return {name: value for name, value in namespace.items()
            if name not in start.names and not name.startswith("_") and name not in ("In", "Out")
            and not isinstance(value, ChapterStart)}


def format_value(value) -> str:
    """A short, stable text form of a parameter value."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def parameters_markdown(params: dict) -> str:
    """A markdown table of ``params``."""
    lines = ["| parameter | value |", "|---|---|"]
    lines += [f"| `{name}` | `{format_value(value)}` |" for name, value in params.items()]
    return "\n".join(lines)


def parameters(namespace: dict, start: ChapterStart) -> dict:
    """Check the injected parameters, show the chapter's parameter table, return the parameters."""
    from IPython.display import Markdown, display

    declared, injected = injected_parameters(namespace, start)
    check_injected(declared, injected)
    params = defined_since(namespace, start)
    profile = params.get("profile", "?")
    display(Markdown(f"This chapter ran with the **{profile}** profile:\n\n" + parameters_markdown(params)))
    return params
