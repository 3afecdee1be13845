"""The n_jobs policy: torch threads used by skae's work, and the caller's count restored."""

import types
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from joblib import cpu_count
from sklearn.base import clone
from sklearn.datasets import load_wine
from skorch.callbacks import Callback
from torch.utils.flop_counter import FlopCounterMode

from skae import (
    AutoencoderAnomalyDetector,
    AutoencoderImputer,
    AutoencoderTransformer,
    ConvAutoencoder,
    DenoisingImputerMLP,
    MLPAutoencoder,
    RecurrentAutoencoder,
    RecurrentImputer,
)
from skae._threads import (
    WORK_PER_THREAD,
    estimator_threads,
    module_work,
    resolve_n_threads,
    step_work,
    torch_threads,
)

ESTIMATORS = [AutoencoderTransformer, AutoencoderAnomalyDetector, AutoencoderImputer]
FAST = dict(max_epochs=2, random_state=0)


@pytest.fixture(scope="module")
def X():
    return load_wine().data


@pytest.fixture
def caller_threads():
    """The caller runs 3 torch threads (not the tests' 1), restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    yield 3
    torch.set_num_threads(before)


def data_for(cls, X):
    if cls is AutoencoderImputer:
        return np.where(np.random.default_rng(0).random(X.shape) < 0.1, np.nan, X)
    return X


class ThreadSpy(Callback):
    """Records torch's thread count at every epoch (skorch clones callbacks)."""

    seen: list = []

    def on_epoch_begin(self, net, **kwargs):
        ThreadSpy.seen.append(torch.get_num_threads())


class InferenceSpy(MLPAutoencoder):
    """An MLP that records torch's thread count whenever it encodes outside training."""

    seen: list = []

    def encode(self, x):
        if not self.training:
            InferenceSpy.seen.append(torch.get_num_threads())
        return super().encode(x)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("n_jobs, expected", [(None, 3), (1, 1), (2, 2)])
def test_training_runs_with_the_policys_threads(cls, n_jobs, expected, X, caller_threads,
                                                monkeypatch):
    # One thread per multiply-add: wine's networks ask for more than any limit.
    monkeypatch.setattr("skae._threads.WORK_PER_THREAD", 1)
    ThreadSpy.seen = []
    est = cls(**FAST, n_jobs=n_jobs, callbacks=[("spy", ThreadSpy())]).fit(data_for(cls, X))
    assert set(ThreadSpy.seen) == {expected}
    assert torch.get_num_threads() == caller_threads
    assert est.get_params()["n_jobs"] == n_jobs
    assert clone(est).n_jobs == n_jobs


@pytest.mark.parametrize("n_jobs, expected", [(None, 1), (2, 2), (-1, 1)])
def test_inference_runs_with_the_policys_threads(n_jobs, expected, X, caller_threads,
                                                 monkeypatch):
    if n_jobs == 2:  # as if wine's batches were billions of multiply-adds
        monkeypatch.setattr("skae._threads.WORK_PER_THREAD", 1)
    est = AutoencoderTransformer(**FAST, module=InferenceSpy, n_jobs=n_jobs).fit(X)
    InferenceSpy.seen = []
    est.transform(X)
    est.score_samples(X)
    assert set(InferenceSpy.seen) == {expected}
    assert torch.get_num_threads() == caller_threads


def test_imputer_trees_run_on_one_openmp_thread_whatever_n_jobs(X, monkeypatch, caller_threads):
    # Two threads on a busy machine made the trees' fits 700x slower.
    import skae._imputer

    limits = []
    real = skae._imputer.openmp_threads

    def spy(n_threads):
        limits.append(n_threads)
        return real(n_threads)

    monkeypatch.setattr(skae._imputer, "openmp_threads", spy)
    gaps = X.copy()
    gaps[np.random.default_rng(0).random(X.shape) < 0.2] = np.nan
    imputer = AutoencoderImputer(**FAST, n_jobs=2).fit(gaps)
    imputer.transform(gaps)
    assert any(model is not None for model in imputer.trees_)
    assert limits and set(limits) == {1}


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_caller_threads_restored_after_a_failing_fit(cls, X, caller_threads):
    class Fail(Callback):
        def on_epoch_end(self, net, **kwargs):
            raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        cls(**FAST, n_jobs=2, callbacks=[("fail", Fail())]).fit(data_for(cls, X))
    assert torch.get_num_threads() == caller_threads


def test_caller_threads_restored_after_failing_inference(X, caller_threads):
    est = AutoencoderTransformer(**FAST, n_jobs=2).fit(X)
    with pytest.raises(ValueError):
        est.transform(np.full((3, X.shape[1] + 1), 1.0))
    with pytest.raises(RuntimeError, match="broken"):
        with torch_threads(2):
            raise RuntimeError("broken")
    assert torch.get_num_threads() == caller_threads


def test_concurrent_fits_restore_the_callers_count(X, caller_threads):
    def fit(seed):
        return AutoencoderTransformer(max_epochs=3, random_state=seed, n_jobs=2).fit(X)

    with ThreadPoolExecutor(3) as pool:
        list(pool.map(fit, range(3)))
    assert torch.get_num_threads() == caller_threads


def test_policy_is_size_aware_and_capped_by_the_callers_setting(caller_threads):
    assert resolve_n_threads(None, 1e6) == 1
    assert resolve_n_threads(None, 2 * WORK_PER_THREAD) == 3
    assert resolve_n_threads(None, 100 * WORK_PER_THREAD) == caller_threads
    torch.set_num_threads(1)  # as in a joblib worker or under threadpool_limits(1)
    assert resolve_n_threads(None, 100 * WORK_PER_THREAD) == 1
    # An explicit n_jobs is the most threads: small work still runs on one
    # (two new users' n_jobs=2 fits took 6-85x as long on busy cores).
    assert resolve_n_threads(4, 0) == 1
    assert resolve_n_threads(4, 2 * WORK_PER_THREAD) == 3
    assert resolve_n_threads(4, 100 * WORK_PER_THREAD) == 4
    assert resolve_n_threads(2, 100 * WORK_PER_THREAD) == 2  # above torch's setting too
    assert resolve_n_threads(-1, 0) == 1
    assert resolve_n_threads(-1, 1000 * WORK_PER_THREAD) == cpu_count()
    assert resolve_n_threads(-(cpu_count() + 5), 1000 * WORK_PER_THREAD) == 1


def test_policy_respects_threadpoolctl_limits(caller_threads):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
        if torch.get_num_threads() != 1:
            pytest.skip("threadpoolctl does not control this torch build's thread pool")
        assert resolve_n_threads(None, 100 * WORK_PER_THREAD) == 1


@pytest.mark.parametrize("n_jobs", [0, 1.5, "all"])
def test_invalid_n_jobs_is_refused(n_jobs, X):
    with pytest.raises(ValueError, match="n_jobs"):
        AutoencoderTransformer(n_jobs=n_jobs).fit(X)


def test_models_saved_before_n_jobs_existed_load_with_the_default(X):
    est = AutoencoderTransformer(**FAST).fit(X)
    state = est.__getstate__()
    del state["n_jobs"]
    loaded = AutoencoderTransformer.__new__(AutoencoderTransformer)
    loaded.__setstate__(state)
    assert loaded.get_params()["n_jobs"] is None
    np.testing.assert_allclose(loaded.transform(X), est.transform(X))


def _threads_seen_in_training(X):
    ThreadSpy.seen = []
    AutoencoderTransformer(**FAST, callbacks=[("spy", ThreadSpy())]).fit(X)
    return set(ThreadSpy.seen), torch.get_num_threads()


def test_joblib_workers_are_not_oversubscribed(X):
    joblib = pytest.importorskip("joblib")
    with joblib.parallel_config(backend="loky", inner_max_num_threads=1):
        results = joblib.Parallel(n_jobs=2)(
            joblib.delayed(_threads_seen_in_training)(X) for _ in range(2))
    for seen, after in results:
        assert seen == {1} and after == 1



@pytest.mark.parametrize("make, width, run", [
    (lambda: MLPAutoencoder(30, 4, hidden_layer_sizes=(64, 32)), 30,
     lambda m, x: m.decode(m.encode(x))),
    (lambda: ConvAutoencoder(784, 8, image_shape=(28, 28)), 784,
     lambda m, x: m.decode(m.encode(x))),
    (lambda: RecurrentAutoencoder(48, 4, sequence_shape=(48, 1), cell="gru"), 48,
     lambda m, x: m.decode(m.encode(x))),
    (lambda: RecurrentImputer(48, sequence_shape=(24, 2)), 48,
     lambda m, x: m(x, torch.ones_like(x))),
    (lambda: DenoisingImputerMLP(20, (64, 64)).eval(), 20,
     lambda m, x: m(x, torch.ones_like(x))),
], ids=["mlp", "conv", "recurrent", "recurrent-imputer", "imputer-two-passes"])
def test_module_work_counts_reused_weights(make, width, run):
    # The n_jobs=None policy weighs a batch by its multiply-adds: weights that
    # serve at every time step or position count that many times (torch's own
    # FLOP counter as the reference; it counts 2 FLOPs per multiply-add).
    module = make()
    with FlopCounterMode(display=False) as counter:
        run(module, torch.zeros(4, width))
    assert module_work(module, 4) == pytest.approx(counter.get_total_flops() / 2, rel=0.05)
    weights = sum(p.numel() for p in module.parameters())
    if isinstance(module, (ConvAutoencoder, RecurrentAutoencoder, RecurrentImputer)):
        assert module_work(module, 4) > 10 * 4 * weights


def test_recurrent_work_is_weighed_per_time_step(caller_threads):
    # A recurrent layer's time steps run one after another, each a small
    # operation: threads pay per step, not per pass (a recurrent imputer of
    # 3.3 billion multiply-adds per batch of 512 took two threads and, on a busy
    # machine, 184 s instead of 6 s).
    module = RecurrentImputer(64, sequence_shape=(64, 1))
    estimator = types.SimpleNamespace(n_jobs=None, device_=torch.device("cpu"))
    assert module_work(module, 256) > WORK_PER_THREAD  # the pass would ask for two
    assert step_work(module, 256) == pytest.approx(module_work(module, 256) / 64)
    assert estimator_threads(estimator, 256, module) == 1
    dense = MLPAutoencoder(64, 4, hidden_layer_sizes=(64, 32))
    assert step_work(dense, 256) == module_work(dense, 256)


def test_torch_threads_sets_the_count_even_when_torch_reads_it_already(monkeypatch):
    # A new user's trial: under threadpoolctl's limits torch reads OpenMP's
    # count (1) while the MKL inside torch kept the 2 threads of an earlier
    # fit, so skipping the call when the counts "agreed" trained on 2 threads.
    calls = []
    real = torch.set_num_threads
    monkeypatch.setattr(torch, "set_num_threads", lambda n: (calls.append(n), real(n)))
    current = torch.get_num_threads()
    with torch_threads(current):
        assert calls == [current]
    assert calls == [current, current]


def test_detector_neighbour_queries_follow_the_size_rule(X, monkeypatch, caller_threads):
    # scikit-learn's distance kernels use every OpenMP thread; a one-row
    # score_samples spent 37-83 ms there on two threads, 5 ms on one (trial 48).
    import threadpoolctl
    from sklearn.neighbors import NearestNeighbors

    seen = []
    real = NearestNeighbors.kneighbors

    def spy(self, *args, **kwargs):
        info = threadpoolctl.threadpool_info()
        seen.append({lib["num_threads"] for lib in info if lib["user_api"] == "openmp"})
        return real(self, *args, **kwargs)

    monkeypatch.setattr(NearestNeighbors, "kneighbors", spy)
    detector = AutoencoderAnomalyDetector(**FAST, score_method="combined").fit(X)
    seen.clear()
    scores = detector.score_samples(X[:1])
    assert seen and all(threads <= {1} for threads in seen)
    monkeypatch.setattr(NearestNeighbors, "kneighbors", real)
    np.testing.assert_allclose(detector.score_samples(X[:1]), scores)


def _blas_threads():
    from threadpoolctl import threadpool_info

    return {info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}


@pytest.mark.parametrize("n_jobs, expected", [(None, 1), (2, 2)])
def test_imputer_array_work_runs_with_the_policys_blas_threads(n_jobs, expected, X, monkeypatch,
                                                               caller_threads):
    # The linear recall's least-squares fits took 2.7x longer on OpenBLAS's
    # two threads than on one, on 2 busy cores.
    from threadpoolctl import threadpool_limits

    import skae._imputer

    if not _blas_threads():
        pytest.skip("no BLAS library visible to threadpoolctl")
    if n_jobs == 2:  # as if wine's batches were billions of multiply-adds
        monkeypatch.setattr("skae._threads.WORK_PER_THREAD", 1)
    seen = []
    for name in ("_fit_linear", "_recall_linear"):
        real = getattr(skae._imputer.AutoencoderImputer, name)

        def spy(self, *args, _real=real, **kwargs):
            seen.append(_blas_threads())
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(skae._imputer.AutoencoderImputer, name, spy)
    gaps = X.copy()
    gaps[np.random.default_rng(0).random(X.shape) < 0.2] = np.nan
    with threadpool_limits(3, user_api="blas"):  # the caller's setting
        imputer = AutoencoderImputer(**FAST, n_jobs=n_jobs).fit(gaps)
        imputer.transform(gaps)
        assert _blas_threads() == {3}
    assert seen and all(counts == {expected} for counts in seen)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("n_jobs, expected", [(None, 1), (2, 2)])
def test_work_after_training_runs_with_trainings_threads(cls, n_jobs, expected, X, monkeypatch,
                                                         caller_threads):
    # The transformer's closed-form refit and choice of PCA ran on torch's
    # default threads: a 10-epoch fit on digits took 1.36 s instead of 0.78 s
    # on 2 busy cores.
    from threadpoolctl import threadpool_limits

    if n_jobs == 2:  # as if wine's batches were billions of multiply-adds
        monkeypatch.setattr("skae._threads.WORK_PER_THREAD", 1)
    seen = []
    real = cls._after_training

    def spy(self, *args, **kwargs):
        seen.append((torch.get_num_threads(), _blas_threads()))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(cls, "_after_training", spy)
    with threadpool_limits(3, user_api="blas"):
        cls(**FAST, n_jobs=n_jobs).fit(data_for(cls, X))
    blas = {expected} if _blas_threads() else set()
    assert seen and all(entry == (expected, blas) for entry in seen)
    assert torch.get_num_threads() == caller_threads
