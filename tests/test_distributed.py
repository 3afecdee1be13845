"""Data-parallel training over torch.distributed (gloo on the CPU)."""

import json
import os
import pickle
import subprocess
import sys
import warnings
from contextlib import nullcontext
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from skae import AutoencoderTransformer, _distributed, data_parallel
from skae._data import BatchIterator, TensorDataset
from skae._distributed import ShardedBatchIterator

ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).with_name("distributed_worker.py")

# Free of dropout and input noise (the transformer's default denoising draws
# its noise per rank), so that the 2-process fit takes the single process's steps.
PARAMS = dict(n_components=2, hidden_layer_sizes=[32], max_epochs=6, batch_size=32,
              random_state=0, n_iter_no_change=100, module__noise=0.0)


def _table(n=400, seed=0):
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 2))
    return np.sin(latent @ rng.normal(size=(2, 8))) * 2 + 0.01 * rng.normal(size=(n, 8))


@pytest.fixture(scope="module")
def two_process_fit(tmp_path_factory):
    """Rank results of a fit on 2 processes started by torchrun (gloo, CPU)."""
    if not torch.distributed.is_available():
        pytest.skip("torch was built without torch.distributed")
    folder = tmp_path_factory.mktemp("ddp")
    np.save(folder / "X.npy", _table())
    (folder / "params.json").write_text(json.dumps(PARAMS))
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-m", "torch.distributed.run", "--standalone",
             "--nproc-per-node=2", str(WORKER), str(folder)],
            env=env, capture_output=True, text=True, timeout=600,
        )
        # One more launch only for gloo's rare abort (SIGABRT) of a process,
        # never for an error raised by skae.
        if result.returncode == 0 or "exitcode: -6" not in result.stderr:
            break
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    ranks = [json.loads((folder / f"rank{r}.json").read_text()) for r in range(2)]
    return folder, ranks


def test_each_rank_trains_on_half_of_the_rows(two_process_fit):
    _, ranks = two_process_fit
    n_train = 400 - int(0.1 * 400)  # validation_fraction=0.1 held out
    for rank in ranks:
        assert rank["rows_per_epoch"] == [n_train // 2] * PARAMS["max_epochs"]


def test_two_processes_reach_the_single_process_loss(two_process_fit):
    # Same seed, same global batches: the 2-process fit takes the same steps
    # as one process; only the order of floating-point sums differs.
    _, ranks = two_process_fit
    single = AutoencoderTransformer(**PARAMS).fit(_table())
    expected = [epoch["train_loss"] for epoch in single.history_]
    for rank in ranks:
        np.testing.assert_allclose(rank["train_loss"], expected, rtol=1e-4)
    # Losses are averaged across ranks: the same history, so the same early stopping.
    assert ranks[0]["valid_loss"] == ranks[1]["valid_loss"]


def test_ranks_end_with_the_same_ranges(two_process_fit):
    # A new user's trial: each rank kept the code range of its own shards,
    # so the ranks (and the model saved by one of them) differed.
    _, ranks = two_process_fit
    assert ranks[0]["ranges"] == ranks[1]["ranges"]
    single = AutoencoderTransformer(**PARAMS).fit(_table())
    np.testing.assert_allclose(ranks[0]["ranges"][0], single.module_.input_range.numpy(),
                               rtol=1e-6)


def test_saved_model_loads_in_a_plain_process(two_process_fit):
    folder, _ = two_process_fit
    with open(folder / "model.pkl", "rb") as f:
        model = pickle.load(f)
    assert type(model.module_).__module__.startswith("skae.")
    assert model.net_.data_parallel is None
    X = _table()
    np.testing.assert_allclose(model.transform(X), np.load(folder / "codes.npy"), rtol=1e-6)
    single = AutoencoderTransformer(**PARAMS).fit(X)
    np.testing.assert_allclose(model.transform(X), single.transform(X), atol=1e-3)


def test_imputer_trains_data_parallel(two_process_fit):
    # Each rank hides its own entries, yet the ranks end with the same network.
    _, ranks = two_process_fit
    assert ranks[0]["imputer_train_loss"] == ranks[1]["imputer_train_loss"]
    assert ranks[0]["imputed_sum"] == ranks[1]["imputed_sum"]


def test_ranks_with_different_data_get_a_clear_error(two_process_fit):
    _, ranks = two_process_fit
    for rank in ranks:
        assert "disagree on the number of rows" in rank["mismatch_error"]


def _fake_parallel(rank, world_size):
    return SimpleNamespace(rank=rank, world_size=world_size, rank_streams=nullcontext)


@pytest.mark.parametrize(
    "n, batch_size, world_size", [(10, 4, 2), (11, 4, 3), (9, 4, 2), (7, 7, 3), (1025, 512, 2)])
def test_shards_cover_the_global_batches(n, batch_size, world_size):
    dataset = TensorDataset(torch.arange(n, dtype=torch.float32)[:, None])
    single = [x[:, 0].tolist() for x, _ in BatchIterator(dataset, batch_size)]
    shards = [
        [x[:, 0].tolist() for x, _ in ShardedBatchIterator(
            _fake_parallel(rank, world_size), dataset, batch_size, shuffle=False)]
        for rank in range(world_size)
    ]
    merged = [sum(parts, []) for parts in zip(*shards)]
    assert sum(merged, []) == list(range(n))  # every row once, in order
    assert all(len(part) >= 1 for parts in shards for part in parts)
    # The global batches are the single process's, a batch with fewer rows
    # than processes joined to the one before.
    if len(single[-1]) >= world_size:
        assert merged == single
    else:
        assert merged == [*single[:-2], single[-2] + single[-1]]


def test_too_few_rows_for_the_processes():
    dataset = TensorDataset(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="at least 3 rows"):
        ShardedBatchIterator(_fake_parallel(0, 3), dataset, 4, shuffle=False)


def test_a_group_without_a_named_backend_trains_on_the_cpu_through_gloo(monkeypatch):
    # dist.init_process_group() with no backend (the guide's example) reports
    # "undefined" and serves the CPU with gloo; it was refused.
    monkeypatch.setattr(torch.distributed, "get_backend", lambda group=None: "undefined")
    monkeypatch.setattr(torch.distributed, "get_backend_config",
                        lambda group=None: "cpu:gloo,cuda:nccl")
    assert _distributed.training_device(torch.device("cpu"), None) == torch.device("cpu")
    monkeypatch.setattr(torch.distributed, "get_backend_config", lambda group=None: "cuda:nccl")
    with pytest.raises(RuntimeError, match="backend='gloo'"):
        _distributed.training_device(torch.device("cpu"), None)


def test_nccl_cannot_train_on_the_cpu(monkeypatch):
    monkeypatch.setattr(torch.distributed, "get_backend", lambda group=None: "nccl")
    with pytest.raises(RuntimeError, match="backend='gloo'"):
        _distributed.training_device(torch.device("cpu"), None)


def test_launched_without_a_process_group_warns(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    X = _table(60)
    with pytest.warns(UserWarning, match="init_process_group"):
        AutoencoderTransformer(n_components=2, max_epochs=1).fit(X)
    with warnings.catch_warnings(record=True) as caught, data_parallel(enabled=False):
        warnings.simplefilter("always")
        AutoencoderTransformer(n_components=2, max_epochs=1).fit(X)
    assert not [w for w in caught if "init_process_group" in str(w.message)]


def test_disabled_callbacks_are_refused_in_a_process_group(monkeypatch):
    monkeypatch.setattr(_distributed, "current_group", lambda: "group")
    with pytest.raises(ValueError, match="callbacks='disable'"):
        AutoencoderTransformer(max_epochs=1, callbacks="disable").fit(_table(60))
    with pytest.raises(ValueError, match="callbacks__data_parallel=None"):
        AutoencoderTransformer(max_epochs=1, callbacks__data_parallel=None).fit(_table(60))
