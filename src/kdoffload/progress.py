"""Progress bars: one place decides whether a bar is shown and where it is drawn.

A bar is shown when

* the caller asks for it (``progress=True``), or
* ``KDOFFLOAD_PROGRESS=1`` is set, or
* ``KDOFFLOAD_PROGRESS_FILE`` names a file (``kdoffload book`` sets it for the chapters it
  runs and copies the file to its own terminal), or
* standard error is a terminal.

``KDOFFLOAD_PROGRESS=0`` or ``progress=False`` switch every bar off. Inside a notebook
kernel standard error is not a terminal, so a chapter run by ``pytest --nbval`` or plain
papermill stores no bar in its outputs; run by ``kdoffload book``, its bars go to the
progress file, never into the notebook.
"""

from __future__ import annotations

import os
import sys

from tqdm import tqdm

#: "0" switches every bar off, "1" forces bars on.
PROGRESS_VARIABLE = "KDOFFLOAD_PROGRESS"
#: A file the bars are appended to instead of standard error.
PROGRESS_FILE_VARIABLE = "KDOFFLOAD_PROGRESS_FILE"

_streams: dict[str, object] = {}


def progress_enabled(progress: bool | None = None) -> bool:
    """Whether a bar is shown: ``progress`` if given, else the rules of the module docstring."""
    if progress is not None:
        return bool(progress)
    setting = os.environ.get(PROGRESS_VARIABLE)
    if setting is not None:
        return setting != "0"
    if os.environ.get(PROGRESS_FILE_VARIABLE):
        return True
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def progress_stream():
    """Where bars are drawn: the file named by ``KDOFFLOAD_PROGRESS_FILE``, else standard error."""
    path = os.environ.get(PROGRESS_FILE_VARIABLE)
    if not path:
        return sys.stderr
    if path not in _streams:
        _streams[path] = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - kept open
    return _streams[path]


def bar(iterable=None, *, progress: bool | None = None, **options) -> tqdm:
    """A ``tqdm`` bar over ``iterable`` that follows :func:`progress_enabled` and :func:`progress_stream`."""
    enabled = progress_enabled(progress)
    return tqdm(iterable, disable=not enabled, file=progress_stream() if enabled else None, **options)
