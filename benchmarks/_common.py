"""Helpers shared by the benchmark scripts: data discovery and table printing."""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

SHARED_DATA = Path(
    os.environ.get("SKAE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
ADBENCH = SHARED_DATA / "adbench"


def adbench_files() -> list[Path]:
    """The ADBench ``.npz`` files, sorted by their numeric prefix."""
    if not ADBENCH.is_dir():
        print(f"[skip] ADBench folder not found at {ADBENCH}; set SKAE_SHARED_DATA.")
        return []
    return sorted(ADBENCH.glob("*.npz"), key=lambda p: int(p.name.split("_")[0]))


def load_adbench(path: Path) -> tuple[np.ndarray, np.ndarray]:
    data = np.load(path)
    return data["X"].astype(np.float64), data["y"].astype(int)


def dataset_name(path: Path) -> str:
    return path.stem.split("_", 1)[1]


def machine() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (
        f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), {gpu}, Python {sys.version.split()[0]}"
    )


@contextmanager
def timer() -> Iterator[list]:
    """``with timer() as t: ...`` then ``t[0]`` holds the seconds."""
    box = [0.0]
    start = time.perf_counter()
    try:
        yield box
    finally:
        box[0] = time.perf_counter() - start


def print_table(rows: list[dict], columns: list[str], floatfmt: str = "{:.3f}") -> None:
    def fmt(value):
        if isinstance(value, float):
            return floatfmt.format(value)
        return str(value)

    cells = [[fmt(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.rjust(w) for c, w in zip(columns, widths)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths)))


def geometric_mean(values) -> float:
    values = np.asarray(list(values), dtype=float)
    return float(np.exp(np.mean(np.log(values))))


def stratified_cap(X, y, cap: int, seed: int = 0):
    """At most ``cap`` rows, keeping the label proportions."""
    if len(X) <= cap:
        return X, y
    from sklearn.model_selection import train_test_split

    X, _, y, _ = train_test_split(X, y, train_size=cap, stratify=y, random_state=seed)
    return X, y
