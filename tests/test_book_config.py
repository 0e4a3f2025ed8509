"""The book's configuration serves MathJax from the build, not a CDN (kdoffload.sphinx_mathjax).

These tests read _config.yml the way `jupyter-book build` does and start (but do not run) a
Sphinx application on it: no notebook is read and no page is written.
"""

import copy
import io
from pathlib import Path

import pytest

from kdoffload import sphinx_mathjax

ROOT = Path(__file__).resolve().parents[1]
EXTENSION = "kdoffload.sphinx_mathjax"


@pytest.fixture(scope="module")
def sphinx_config():
    from jupyter_book.config import get_final_config

    # The overrides that `jupyter-book build . -n` passes.
    cli = {"external_toc_path": (ROOT / "_toc.yml").as_posix(), "latex_individualpages": False,
           "nitpicky": True}
    config, _ = get_final_config(user_yaml=ROOT / "_config.yml", cli_config=cli, sourcedir=ROOT)
    return config


def _remote(value) -> bool:
    return isinstance(value, str) and "://" in value


def test_extension_registered(sphinx_config):
    assert EXTENSION in sphinx_config["extensions"]


def test_no_cdn_configured(sphinx_config):
    mathjax_keys = {k: v for k, v in sphinx_config.items() if "mathjax" in k.lower()}
    assert not [k for k, v in mathjax_keys.items() if _remote(v)], mathjax_keys
    text = (ROOT / "_config.yml").read_text(encoding="utf-8").lower()
    for cdn in ("cdn.jsdelivr", "cdnjs", "unpkg.com", "mathjax@"):
        assert cdn not in text


def test_installed_mathjax_is_version_3():
    assert (sphinx_mathjax.mathjax_source() / sphinx_mathjax.ENTRY).is_file()
    assert sphinx_mathjax.mathjax_version().split(".")[0] == "3"
    fonts = sphinx_mathjax.mathjax_source() / "output" / "chtml" / "fonts" / "woff-v2"
    assert any(fonts.glob("MathJax_Main-Regular.woff"))


# sphinx-external-toc scans gc.get_objects(), touching torch's deprecated attributes.
@pytest.mark.filterwarnings("ignore:.*torch.distributed:FutureWarning")
def test_sphinx_resolves_mathjax_path_locally(sphinx_config, tmp_path):
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace

    warnings = io.StringIO()
    with docutils_namespace():
        app = Sphinx(srcdir=ROOT, confdir=None, outdir=tmp_path / "html",
                     doctreedir=tmp_path / "doctrees", buildername="html",
                     confoverrides=copy.deepcopy(sphinx_config), status=None, warning=warnings, freshenv=True)
        mathjax_path = app.config.mathjax_path
    assert mathjax_path == sphinx_mathjax.MATHJAX_PATH
    assert not _remote(mathjax_path)
    # Relative mathjax_path is relative to _static/, which is where the build copies it.
    assert mathjax_path == f"{sphinx_mathjax.STATIC_DIR}/{sphinx_mathjax.ENTRY}"
    assert warnings.getvalue() == ""


def test_copy_mathjax(tmp_path):
    entry = sphinx_mathjax.copy_mathjax(tmp_path)
    static = tmp_path / "_static"
    assert entry == static / sphinx_mathjax.MATHJAX_PATH
    assert entry.read_bytes() == (sphinx_mathjax.mathjax_source() / sphinx_mathjax.ENTRY).read_bytes()
    copied = entry.parent
    assert (copied / "output" / "chtml" / "fonts" / "woff-v2" / "MathJax_Main-Regular.woff").is_file()
    assert (copied / "input" / "tex" / "extensions").is_dir()
    # Only the one entry bundle at the top level; the other combined bundles are left out.
    assert sorted(p.name for p in copied.iterdir() if p.is_file()) == [sphinx_mathjax.ENTRY]
    # Copying again (a rebuild) is harmless.
    assert sphinx_mathjax.copy_mathjax(tmp_path) == entry
