"""GPU behaviour: training on CUDA, mixed precision, CUDA models on a CPU machine.

Every test here skips without a CUDA device (CI has none); run them on a GPU
machine with ``pytest tests/test_gpu.py``.
"""

import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from skae import AutoencoderAnomalyDetector, AutoencoderImputer, AutoencoderTransformer

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


@pytest.fixture(scope="module")
def digits():
    return load_digits().data


@pytest.fixture(scope="module")
def digits_missing(digits):
    mask = np.random.default_rng(0).random(digits.shape) < 0.2
    return np.where(mask, np.nan, digits)


def test_auto_picks_cuda_and_everything_lives_there(digits):
    ae = AutoencoderTransformer(n_components=4, max_epochs=5, random_state=0).fit(digits)
    assert ae.device_.type == "cuda"
    assert all(p.device.type == "cuda" for p in ae.module_.parameters())
    Z = ae.transform(digits)
    assert isinstance(Z, np.ndarray) and Z.dtype == np.float64 and np.isfinite(Z).all()


@pytest.mark.parametrize("mixed_precision", [False, True])
def test_all_estimators_train_on_cuda(digits, digits_missing, mixed_precision):
    params = dict(device="cuda", random_state=0, mixed_precision=mixed_precision)
    ae = AutoencoderTransformer(n_components=8, max_epochs=30, **params).fit(digits)
    assert np.isfinite(ae.transform(digits)).all()
    det = AutoencoderAnomalyDetector(**params).fit(digits)
    assert set(np.unique(det.predict(digits))) <= {-1, 1}
    assert np.isfinite(det.score_samples(digits)).all()
    imp = AutoencoderImputer(max_epochs=30, **params).fit(digits_missing)
    out = imp.transform(digits_missing)
    assert np.isfinite(out).all()
    observed = ~np.isnan(digits_missing)
    np.testing.assert_array_equal(out[observed], digits_missing[observed])
    draws = imp.sample_imputations(digits_missing, n_imputations=2, random_state=0)
    assert len(draws) == 2


def test_gpu_quality_matches_cpu(digits):
    gpu = AutoencoderTransformer(n_components=8, device="cuda", random_state=0).fit(digits)
    cpu = AutoencoderTransformer(n_components=8, device="cpu", random_state=0).fit(digits)
    assert gpu.score(digits) == pytest.approx(cpu.score(digits), rel=0.25)


def test_same_seed_same_result_on_cuda(digits):
    a = AutoencoderTransformer(n_components=4, max_epochs=10, device="cuda", random_state=0)
    b = AutoencoderTransformer(n_components=4, max_epochs=10, device="cuda", random_state=0)
    np.testing.assert_allclose(a.fit_transform(digits), b.fit_transform(digits), atol=1e-4)


def test_partial_fit_on_cuda(digits):
    ae = AutoencoderTransformer(n_components=4, max_epochs=2, device="cuda", random_state=0)
    ae.partial_fit(digits[:900])
    first = ae.score(digits)
    for _ in range(5):
        ae.partial_fit(digits[900:])
        ae.partial_fit(digits[:900])
    assert ae.score(digits) > first


def test_cuda_model_loads_on_a_cpu_only_machine(digits, tmp_path):
    det = AutoencoderAnomalyDetector(device="cuda", random_state=0).fit(digits)
    expected = det.score_samples(digits[:50])
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(det))
    np.save(tmp_path / "X.npy", digits[:50])
    script = textwrap.dedent(
        f"""
        import pickle, numpy as np, torch, warnings
        assert not torch.cuda.is_available()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            det = pickle.loads(open({str(tmp_path / "model.pkl")!r}, "rb").read())
        scores = det.score_samples(np.load({str(tmp_path / "X.npy")!r}))
        np.save({str(tmp_path / "scores.npy")!r}, scores)
        print(det.device_, det.get_params()["device"])
        """
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["cpu", "cuda"]
    np.testing.assert_allclose(np.load(tmp_path / "scores.npy"), expected, rtol=1e-3, atol=1e-5)
