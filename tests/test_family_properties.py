"""Property tests of the family's members: finite outputs or clear errors.

``test_robustness.py`` covers the default networks over shapes, dtypes and
values; this file draws the same kinds of tables for the other members
(variational, sparse and denoising, convolutional, recurrent, and the two
imputation networks) and calls their extra methods too (``sample``,
``sample_imputations``).
"""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skae import (
    AutoencoderAnomalyDetector,
    AutoencoderImputer,
    AutoencoderTransformer,
    ConvAutoencoder,
    RecurrentAutoencoder,
    RecurrentImputer,
    VariationalAutoencoder,
    VariationalImputerMLP,
)

TINY = dict(hidden_layer_sizes=(4,), max_epochs=2, batch_size=8, random_state=0)
# Modules with their own sizes refuse hidden_layer_sizes.
OWN_SIZES = {"conv", "recurrent", "recurrent detector", "recurrent imputer"}
MEMBERS = {
    "variational": (AutoencoderTransformer, {"module": VariationalAutoencoder}),
    "sparse+denoising": (AutoencoderTransformer, {"module__sparsity": 0.1, "module__noise": 0.2}),
    "conv": (AutoencoderTransformer, {"module": ConvAutoencoder, "module__image_shape": (4, 4)}),
    "recurrent": (AutoencoderTransformer, {"module": RecurrentAutoencoder,
                                           "module__sequence_shape": (8, 2),
                                           "module__hidden_size": 4}),
    "recurrent detector": (AutoencoderAnomalyDetector, {"module": RecurrentAutoencoder,
                                                        "module__sequence_shape": (None, 1),
                                                        "module__hidden_size": 4}),
    "variational detector": (AutoencoderAnomalyDetector, {"module": VariationalAutoencoder,
                                                          "score_method": "variational"}),
    "variational imputer": (AutoencoderImputer, {"module": VariationalImputerMLP}),
    "recurrent imputer": (AutoencoderImputer, {"module": RecurrentImputer,
                                               "module__sequence_shape": (None, 2),
                                               "module__hidden_size": 4}),
}


@st.composite
def tables(draw):
    n_rows = draw(st.integers(2, 12))  # one row is refused (test_robustness.py)
    X = draw(arrays(np.float64, (n_rows, 16), elements=st.floats(-1, 1, width=32)))
    X = X * draw(st.sampled_from([1e-20, 1.0, 1e8]))
    if draw(st.booleans()):
        X[:, draw(st.integers(0, 15))] = draw(st.floats(-5, 5))  # a constant column
    if n_rows > 1 and draw(st.booleans()):
        X[-1] = X[0]  # a duplicated row
    return X.astype(draw(st.sampled_from([np.float32, np.float64])))


def check(output, n_rows, dtype=None):
    """Finite, one row per input row, and of the input's float dtype if given."""
    output = np.asarray(output)
    assert output.shape[0] == n_rows
    assert np.isfinite(output).all()
    if dtype is not None:
        assert output.dtype == dtype


@given(member=st.sampled_from(sorted(MEMBERS)), X=tables(), gaps=st.floats(0.0, 0.5))
def test_members_give_finite_outputs(member, X, gaps):
    cls, params = MEMBERS[member]
    if cls is AutoencoderImputer:
        X = np.where(np.random.default_rng(0).random(X.shape) < gaps, np.nan, X)
        X[0] = np.nan_to_num(X[0], nan=1.0)  # no empty column (they are dropped)
    code = {} if cls is AutoencoderImputer else {"n_components": 2}
    try:
        tiny = {k: v for k, v in TINY.items()
                if not (member in OWN_SIZES and k == "hidden_layer_sizes")}
        est = cls(**tiny, **code, **params).fit(X)
    except ValueError as error:  # the one clear refusal: values too large once scaled
        assert "too large" in str(error), error
        return
    n = len(X)
    if cls is AutoencoderTransformer:
        codes = est.transform(X)
        check(codes, n, X.dtype)
        check(est.inverse_transform(codes), n, X.dtype)
        check(est.score_samples(X), n)
        if member == "variational":
            check(est.sample(3, random_state=0), 3, np.float64)
    elif cls is AutoencoderAnomalyDetector:
        check(est.score_samples(X), n)
        assert set(est.predict(X)) <= {-1, 1}
        check(est.explain(X).to_numpy(), n)
    else:
        filled = est.transform(X)
        check(filled, n, X.dtype)
        observed = ~np.isnan(X)
        np.testing.assert_array_equal(filled[observed], X[observed])
        for draw in est.sample_imputations(X, n_imputations=2, random_state=0):
            check(draw, n, X.dtype)
