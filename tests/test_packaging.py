"""Package metadata and the README name only what exists."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]

# Pages skae publishes; a URL in pyproject.toml must be one of them (none yet).
PUBLISHED: set[str] = set()


def test_metadata_links_only_what_exists():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert set(project.get("urls", {}).values()) <= PUBLISHED
    readme = ROOT / project["readme"]
    assert readme.is_file()
    # The README points at the documentation that ships with the sources.
    assert "docs/" in readme.read_text() and (ROOT / "docs" / "index.rst").is_file()


def test_readme_figure_is_committed_small_and_regenerable(tmp_path):
    readme = (ROOT / "README.md").read_text()
    figure = ROOT / "docs" / "_static" / "readme_figure.png"
    assert "docs/_static/readme_figure.png" in readme
    assert figure.is_file() and figure.stat().st_size < 200 * 1024
    out = tmp_path / "figure.png"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "make_readme_figure.py"), "--fast", "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert out.stat().st_size < 200 * 1024
