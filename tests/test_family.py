"""The autoencoder family: each variant must do what its name says.

Every test here would fail if its variant were a no-op: sparse codes must be
sparser, denoising must denoise, the KL term must count, samples must look
like the data, convolutions must beat dense layers on images.
"""

import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits, load_wine
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.preprocessing import StandardScaler

from skae import (
    AutoencoderAnomalyDetector,
    AutoencoderImputer,
    AutoencoderTransformer,
    ConvAutoencoder,
    VariationalAutoencoder,
    VariationalImputerMLP,
)


@pytest.fixture(scope="module")
def digits():
    X = load_digits().data
    return train_test_split(X, test_size=0.3, random_state=0)


def test_sparse_codes_are_sparse(digits):
    X_train, X_test = digits
    params = dict(n_components=16, max_epochs=60, random_state=0)
    plain = AutoencoderTransformer(**params).fit(X_train).transform(X_test)
    sparse_model = AutoencoderTransformer(module__sparsity=1.0, **params).fit(X_train)
    sparse = sparse_model.transform(X_test)
    assert np.mean(plain == 0) < 0.05
    assert np.mean(sparse == 0) > 0.4  # most entries of each code are exactly zero
    # Sparse codes still carry the data: well under the error of the
    # columns' means (1.03 in standardized units). The error itself differs
    # by CPU (above -0.5 on the AMD EPYC of earlier CI runs, -0.56 on an
    # Intel Xeon with AVX512).
    mean_error = np.mean(StandardScaler().fit(X_train).transform(X_test) ** 2)
    assert sparse_model.score(X_test) > -0.7 * mean_error


@pytest.mark.parametrize("noise_type, level", [("gaussian", 0.5), ("mask", 0.3)])
def test_denoising_reconstructs_corrupted_rows_better(digits, noise_type, level):
    X_train, X_test = digits
    # Trained to early stopping or near it: at 60 epochs the weight average
    # that validation scores still lags (gaussian 0.5: 0.918 of the plain
    # network's error there, 0.813 at 120).
    # The encoder's codes (transform_max_iter=0) show what denoising training
    # does; refined codes clean both networks' input better still (errors
    # 0.18 against 0.27 and 0.22 from the encoder), and equally.
    params = dict(n_components=16, max_epochs=120, random_state=0, transform_max_iter=0)
    plain = AutoencoderTransformer(module__noise=0.0, **params).fit(X_train)
    denoising = AutoencoderTransformer(
        module__noise=level, module__noise_type=noise_type, **params
    ).fit(X_train)
    scaler = denoising.scaler_
    rng = np.random.default_rng(1)
    clean = scaler.transform(X_test)
    if noise_type == "gaussian":
        noisy = clean + level * rng.normal(size=clean.shape)
    else:
        noisy = clean * (rng.random(clean.shape) >= level)
    X_noisy = scaler.inverse_transform(noisy)

    def error(model):
        rec = model.scaler_.transform(model.inverse_transform(model.transform(X_noisy)))
        return np.mean((rec - model.scaler_.transform(X_test)) ** 2)

    assert error(denoising) < 0.9 * error(plain)


def test_vae_kl_term_counts_and_codes_are_deterministic(digits):
    X_train, X_test = digits
    params = dict(n_components=8, module=VariationalAutoencoder, max_epochs=40, random_state=0)
    vae = AutoencoderTransformer(**params).fit(X_train)
    no_kl = AutoencoderTransformer(module__beta=0.0, **params).fit(X_train)
    x = torch.as_tensor(vae.scaler_.transform(X_test), dtype=torch.float32)
    with torch.no_grad():
        kl_vae = vae.module_.kl_divergence(x).mean().item()
        kl_free = no_kl.module_.kl_divergence(x).mean().item()
    assert kl_vae > 0.5  # the codes carry information, at a price
    assert kl_free > 3 * kl_vae  # without the KL term the posterior drifts far from the prior
    # The KL term pulls codes toward the prior, at some cost in reconstruction.
    assert vae.score(X_test) < no_kl.score(X_test)
    np.testing.assert_array_equal(vae.transform(X_test), vae.transform(X_test))


def test_vae_samples_match_the_data_roughly():
    X = load_wine().data
    ae = AutoencoderTransformer(n_components=4, module=VariationalAutoencoder, random_state=0)
    samples = ae.fit(X).sample(4000, random_state=0)
    assert samples.shape == (4000, 13)
    mean_error = np.abs(samples.mean(axis=0) - X.mean(axis=0)) / X.std(axis=0)
    spread_ratio = samples.std(axis=0) / X.std(axis=0)
    assert np.all(mean_error < 0.3)
    assert np.all((spread_ratio > 0.5) & (spread_ratio < 1.5))
    np.testing.assert_array_equal(ae.sample(5, random_state=1), ae.sample(5, random_state=1))


def test_sample_needs_a_variational_module():
    ae = AutoencoderTransformer(max_epochs=2, random_state=0).fit(load_wine().data)
    with pytest.raises(ValueError, match="sample needs a variational module"):
        ae.sample(3)


def test_variational_detector_and_imputer():
    X = load_wine().data
    det = AutoencoderAnomalyDetector(
        module=VariationalAutoencoder, score_method="variational", random_state=0
    ).fit(X)
    assert np.isfinite(det.score_samples(X)).all()
    with pytest.raises(ValueError, match="needs a variational module"):
        AutoencoderAnomalyDetector(score_method="variational").fit(X)
    mask = np.random.default_rng(0).random(X.shape) < 0.2
    X_missing = np.where(mask, np.nan, X)
    imp = AutoencoderImputer(module=VariationalImputerMLP, max_epochs=50, random_state=0)
    draws = np.stack(imp.fit(X_missing).sample_imputations(X_missing, 10, random_state=0))
    assert np.all(np.ptp(draws, axis=0)[~mask] == 0)
    assert np.all(draws.std(axis=0)[mask] > 0)


def test_variants_are_clone_safe_and_grid_searchable(digits):
    X_train, _ = digits
    base = AutoencoderTransformer(n_components=4, max_epochs=3, random_state=0,
                                  module=VariationalAutoencoder, module__beta=0.5)
    copy = clone(base)
    assert copy.get_params()["module__beta"] == 0.5 and copy.module is VariationalAutoencoder
    search = GridSearchCV(
        AutoencoderTransformer(n_components=4, max_epochs=3, random_state=0),
        {"module__sparsity": [0.0, 0.1], "module__noise": [0.0, 0.3]},
        cv=2,
    ).fit(X_train)
    assert len(search.cv_results_["params"]) == 4


def test_illegal_variant_settings_are_rejected(digits):
    X_train, _ = digits
    cases = [
        ({"module__noise_type": "salt"}, "noise_type must be one of"),
        ({"module__noise": -1.0}, "noise must be >= 0"),
        ({"module__sparsity": -0.1}, "sparsity must be a number >= 0"),
        ({"module": VariationalAutoencoder, "module__beta": -1.0}, "beta must be a number >= 0"),
        # A new user's trial 52: a string and NaN failed inside torch.
        ({"module": VariationalAutoencoder, "module__beta": "x"}, "beta must be a number >= 0"),
        ({"module": VariationalAutoencoder, "module__beta": np.nan}, "beta must be a number >= 0"),
        ({"module__dropout": 1.5}, "dropout must be a number >= 0 and < 1"),
        ({"module": ConvAutoencoder}, "needs the images' shape"),
        ({"module": ConvAutoencoder, "module__image_shape": (7, 7)}, "holds 49 values"),
        # A new user's trial 42: a TypeError from inside the module, and an
        # even kernel accepted although the docstring says odd.
        ({"module": ConvAutoencoder, "module__image_shape": 64}, "got 64"),
        ({"module": ConvAutoencoder, "module__image_shape": (8, 8), "module__kernel_size": 4},
         "kernel_size must be an odd"),
    ]
    for params, match in cases:
        with pytest.raises(ValueError, match=match):
            AutoencoderTransformer(max_epochs=1, **params).fit(X_train)


def test_conv_autoencoder_on_digit_images(digits):
    X_train, X_test = digits
    ae = AutoencoderTransformer(
        n_components=8, module=ConvAutoencoder, module__image_shape=(8, 8),
        module__channels=(16,), max_epochs=5, random_state=0,
    ).fit(X_train)
    assert ae.transform(X_test).shape == (len(X_test), 8)
    assert ae.inverse_transform(ae.transform(X_test)).shape == X_test.shape
    # Images are scaled as a whole, not pixel by pixel.
    assert np.ptp(ae.scaler_.scale_) == 0


def test_one_shared_scale_warns_on_columns_of_unequal_ranges(digits):
    """A table passed to an image module: its narrow columns would be lost (trial 67)."""
    X_wine = load_wine().data  # ranges from 0.53 (nonflavanoid phenols) to 1,402 (proline)
    conv = dict(n_components=2, module=ConvAutoencoder, module__channels=(4,), max_epochs=1,
                random_state=0)

    def shared_scale_warnings(X, **params):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            AutoencoderTransformer(**conv, **params).fit(X)
        return [w for w in caught if "one shared mean" in str(w.message)]

    caught = shared_scale_warnings(X_wine, module__image_shape=(1, 13))
    assert len(caught) == 1  # once, not again for the folds of a small table
    assert 'ranges go from 0.53 to 1.4e+03' in str(caught[0].message)
    assert 'pass scaling="standard"' in str(caught[0].message)
    assert caught[0].filename == __file__  # points at the user's call
    # Pixels share a range; a scaling the user chose is not second-guessed.
    assert not shared_scale_warnings(digits[0], module__image_shape=(8, 8))
    for scaling in ("global", "standard"):
        assert not shared_scale_warnings(X_wine, module__image_shape=(1, 13), scaling=scaling)


def test_conv_beats_mlp_and_pca_on_usps(shared_data):
    data = np.load(shared_data / "highdim" / "usps.npz")
    X = data["X"].astype(np.float64)
    rng = np.random.default_rng(0)
    index = rng.permutation(len(X))
    X_train, X_test = X[index[:2000]], X[index[2000:3000]]

    def error(model):
        return np.mean((model.inverse_transform(model.transform(X_test)) - X_test) ** 2)

    pca = error(PCA(16).fit(X_train))
    mlp = error(AutoencoderTransformer(n_components=16, max_epochs=60, random_state=0).fit(X_train))
    conv = error(
        AutoencoderTransformer(
            n_components=16, module=ConvAutoencoder, module__image_shape=(16, 16),
            max_epochs=60, random_state=0,
        ).fit(X_train)
    )
    assert conv < mlp < pca


def test_linear_family_member_is_pca(digits):
    # The sanity anchor: a linear autoencoder from a random start finds PCA's
    # subspace (held-out error within 5%).
    X_train, X_test = digits
    scaler = StandardScaler().fit(X_train)
    pca = PCA(6).fit(scaler.transform(X_train))
    S = scaler.transform(X_test)
    pca_error = np.mean((pca.inverse_transform(pca.transform(S)) - S) ** 2)
    linear = AutoencoderTransformer(
        n_components=6, activation="identity", module__linear_path=False, random_state=0
    ).fit(X_train)
    rec = scaler.transform(linear.inverse_transform(linear.transform(X_test)))
    assert np.mean((rec - S) ** 2) < 1.05 * pca_error


@pytest.mark.parametrize("estimator, module, family", [
    (AutoencoderImputer, ConvAutoencoder, "an autoencoder module"),
    (AutoencoderAnomalyDetector, VariationalImputerMLP, "an imputation module"),
    (AutoencoderTransformer, VariationalImputerMLP, "an imputation module"),
])
def test_a_module_of_the_other_family_is_refused_by_name(estimator, module, family):
    # A new user's trial: these failed with a TypeError from inside the net
    # (a missing constructor argument, a forward without the mask).
    X = np.random.default_rng(0).normal(size=(40, 16))
    with pytest.raises(ValueError, match=f"cannot train module={module.__name__}.*is {family}"):
        estimator(module=module, max_epochs=1).fit(X)


class _PlainAutoencoder(torch.nn.Module):
    def __init__(self, n_features, n_components):
        super().__init__()
        self.encoder = torch.nn.Linear(n_features, n_components)
        self.decoder = torch.nn.Linear(n_components, n_features)

    def forward(self, x):
        return self.decoder(self.encoder(x))


class _PlainImputer(torch.nn.Module):
    def __init__(self, n_features):
        super().__init__()
        self.layer = torch.nn.Linear(n_features, n_features)

    def forward(self, x, visible):
        return self.layer(x * visible)


@pytest.mark.parametrize("estimator, module, match", [
    (AutoencoderImputer, _PlainAutoencoder, "its forward takes 1 positional argument.*not "
     r"\(x, visible\)"),
    (AutoencoderTransformer, _PlainImputer, "it has no encode or decode"),
    (AutoencoderAnomalyDetector, _PlainAutoencoder, "it has no encode or decode"),
])
def test_a_plain_module_that_breaks_the_protocol_is_refused_before_training(
        estimator, module, match):
    # A new user's trial 42: an autoencoder module (forward(x)) given to the
    # imputer failed with torch's "forward() takes 2 positional arguments
    # but 3 were given", 18 frames deep; a module without encode trained
    # the transformer in full, then failed in transform.
    X = np.random.default_rng(0).normal(size=(40, 16))
    X[::4, 1] = np.nan if estimator is AutoencoderImputer else X[::4, 1]
    with pytest.raises(ValueError, match=f"cannot train module={module.__name__}: {match}"):
        estimator(module=module, max_epochs=1).fit(X)
    fits = {AutoencoderImputer: _PlainImputer}.get(estimator)
    if fits is not None:  # the right protocol trains
        assert estimator(module=fits, max_epochs=1).fit(X).transform(X).shape == X.shape
