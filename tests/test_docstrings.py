"""Docstrings that cannot drift from the code (numpydoc, scikit-learn's dialect).

Like scikit-learn's ``test_docstring_parameters``: every public class,
method and function of ``skae`` documents exactly the parameters of its
signature; every documented default equals the signature's; every fitted
attribute of an estimator is documented.
"""

import inspect
import re

import numpy as np
import pytest

import skae
from skae._docstrings import format_default

numpydoc = pytest.importorskip("numpydoc.docscrape")

ESTIMATORS = [skae.AutoencoderTransformer, skae.AutoencoderAnomalyDetector,
              skae.AutoencoderImputer]
PUBLIC = [getattr(skae, name) for name in skae.__all__ if not name.startswith("__")]


def documented_parameters(obj):
    doc = numpydoc.ClassDoc(obj) if inspect.isclass(obj) else numpydoc.FunctionDoc(obj)
    return doc["Parameters"]


def signature_names(func):
    names = []
    for p in inspect.signature(func).parameters.values():
        if p.name == "self":
            continue
        names.append({p.VAR_KEYWORD: "**", p.VAR_POSITIONAL: "*"}.get(p.kind, "") + p.name)
    return names


def public_callables():
    for obj in PUBLIC:
        if inspect.isclass(obj):
            if issubclass(obj, Exception):
                continue
            yield obj.__name__, obj, obj.__init__
            for name, member in vars(obj).items():
                if not name.startswith("_") and inspect.isfunction(member):
                    yield f"{obj.__name__}.{name}", member, member
        elif inspect.isfunction(obj):
            yield obj.__name__, obj, obj


CALLABLES = list(public_callables())


@pytest.mark.parametrize("name, documented, func", CALLABLES, ids=[c[0] for c in CALLABLES])
def test_documented_parameters_match_the_signature(name, documented, func):
    if func is object.__init__:
        return
    documented_names = [p.name.split(":")[0].strip() for p in documented_parameters(documented)]
    assert documented_names == signature_names(func)


@pytest.mark.parametrize("name, documented, func", CALLABLES, ids=[c[0] for c in CALLABLES])
def test_documented_defaults_match_the_signature(name, documented, func):
    if func is object.__init__:
        return
    defaults = {p.name: p.default for p in inspect.signature(func).parameters.values()}
    for parameter in documented_parameters(documented):
        match = re.search(r"default=(.*)$", parameter.type)
        if match is None:
            continue
        value = defaults[parameter.name]
        written = match.group(1).strip()
        if isinstance(value, float) and np.isnan(value):
            assert written in ("np.nan", "nan"), parameter.name
        elif isinstance(value, float) and np.isinf(value):
            assert written in ("-np.inf", "np.inf"), parameter.name
        else:
            assert written == format_default(value), (parameter.name, written, value)


def fitted(cls):
    X = np.random.default_rng(0).normal(size=(40, 4))
    if cls is skae.AutoencoderImputer:
        X[::5, 1] = np.nan
    return cls(max_epochs=2, random_state=0).fit(X)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_every_fitted_attribute_is_documented(cls):
    est = fitted(cls)
    documented = {a.name.split(":")[0].strip() for a in numpydoc.ClassDoc(cls)["Attributes"]}
    public = {name for name in dir(est)
              if name.endswith("_") and not name.startswith("_") and hasattr(est, name)}
    assert public - {"feature_names_in_"} <= documented, public - documented


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_public_methods_of_a_fitted_estimator_work(cls):
    """dir() of a fitted estimator lists no method that raises when called as documented."""
    est = fitted(cls)
    X = np.random.default_rng(1).normal(size=(10, 4))
    calls = {
        "fit": (X,), "partial_fit": (X,), "fit_transform": (X,), "transform": (X,),
        "score": (X,), "score_samples": (X,), "decision_function": (X,), "predict": (X,),
        "fit_predict": (X,), "explain": (X,), "sample": (), "sample_imputations": (X,),
        "get_feature_names_out": (), "get_params": (), "set_params": (),
        "get_metadata_routing": (), "set_output": (),
    }
    if hasattr(est, "inverse_transform"):
        calls["inverse_transform"] = (est.transform(X),)
    methods = [name for name in dir(est)
               if not name.startswith("_") and inspect.ismethod(getattr(est, name))]
    unknown = set(methods) - set(calls)
    assert not unknown, f"undocumented public methods: {unknown}"
    for name in methods:
        if name == "sample" and not est.net_.capabilities_.variational:
            with pytest.raises(ValueError, match="variational"):
                est.sample()
            continue
        getattr(est, name)(*calls[name])
