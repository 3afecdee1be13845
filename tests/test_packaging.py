"""Package metadata names only what exists."""

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
