"""Sphinx extension: serve MathJax 3 from the built book rather than from a CDN.

``sphinx.ext.mathjax`` points every page with maths at a CDN copy of MathJax, so a book
opened offline shows raw TeX. This extension takes MathJax from the Python package
``django-static-mathjax`` (a pip-installable copy of MathJax 3's release files; despite
its name it needs no Django), copies its browser build into ``_static/mathjax/`` of the
HTML output and points ``mathjax_path`` there. Registered in ``_config.yml``::

    sphinx:
      extra_extensions:
        - kdoffload.sphinx_mathjax

The entry file is ``tex-mml-chtml.js``, the same bundle as Sphinx's default CDN URL, so
Jupyter Book's and MyST's ``mathjax3_config`` apply unchanged. Next to it come the
directories MathJax loads on demand (TeX extensions, CHTML fonts, the menu and the
accessibility components), but not the other combined bundles, nor the sources.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

#: Entry bundle, as in ``sphinx.ext.mathjax.MATHJAX_URL``.
ENTRY = "tex-mml-chtml.js"
#: Folder under the HTML output's ``_static/`` that receives MathJax.
STATIC_DIR = "mathjax"
#: Value given to ``mathjax_path``: relative paths are relative to ``_static/``.
MATHJAX_PATH = f"{STATIC_DIR}/{ENTRY}"


def mathjax_root() -> Path:
    """The installed MathJax distribution (holds ``package.json`` and ``es5/``)."""
    import mathjax  # the import name of django-static-mathjax

    return Path(mathjax.__file__).resolve().parent / "static" / "mathjax"


def mathjax_source() -> Path:
    """The folder of MathJax's browser build; :data:`ENTRY` lies in it."""
    return mathjax_root() / "es5"


def mathjax_version() -> str:
    """MathJax's own version, from the distribution's ``package.json``."""
    return json.loads((mathjax_root() / "package.json").read_text(encoding="utf-8"))["version"]


def _ignore(source: Path):
    """For :func:`shutil.copytree`: skip the top-level bundles other than :data:`ENTRY`."""
    def ignore(directory: str, names: list[str]) -> list[str]:
        if Path(directory) != source:
            return []
        return [n for n in names if (source / n).is_file() and n != ENTRY]
    return ignore


def copy_mathjax(outdir: Path) -> Path:
    """Copy MathJax into ``outdir/_static/mathjax``; return the entry file's path there."""
    source = mathjax_source()
    target = Path(outdir) / "_static" / STATIC_DIR
    shutil.copytree(source, target, ignore=_ignore(source), dirs_exist_ok=True)
    return target / ENTRY


def _use_local_mathjax(app, config) -> None:
    from sphinx.ext.mathjax import MATHJAX_URL

    # Only the default (CDN) value is replaced: an explicit mathjax_path is left alone.
    if config.mathjax_path == MATHJAX_URL:
        config.mathjax_path = MATHJAX_PATH


def _check_source(app) -> None:
    if not (mathjax_source() / ENTRY).is_file():
        from sphinx.errors import ExtensionError

        raise ExtensionError(f"MathJax entry {ENTRY} is missing from {mathjax_source()}")


def _copy_on_finish(app, exception) -> None:
    if exception is None and app.builder.format == "html" and app.config.mathjax_path == MATHJAX_PATH:
        copy_mathjax(Path(app.outdir))


def setup(app):
    app.setup_extension("sphinx.ext.mathjax")
    app.connect("config-inited", _use_local_mathjax)
    app.connect("builder-inited", _check_source)
    app.connect("build-finished", _copy_on_finish)
    return {"version": mathjax_version(), "parallel_read_safe": True, "parallel_write_safe": True}
