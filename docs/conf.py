"""Sphinx configuration of skae's documentation (built offline by `make docs`)."""

import os
import sys
from datetime import date

sys.path.insert(0, os.path.abspath(".."))
import skae  # noqa: E402

project = "skae"
author = "skae developers"
copyright = f"{date.today().year}, {author}"
release = skae.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "**.ipynb_checkpoints"]
html_theme = "pydata_sphinx_theme"
html_title = f"skae {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": False,
}

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Fail the build on docstrings that miss a section scikit-learn's dialect asks for.
numpydoc_validation_checks = {"PR01", "PR02", "RT01", "GL08"}
numpydoc_validation_exclude = {
    r"\.__init__$",
    r"\.set_\w+_request$",
    r"\.get_metadata_routing$",
    r"\.set_output$",
    r"\.fit_predict$",
    r"\.get_params$",
}

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"demo\.py",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
}
