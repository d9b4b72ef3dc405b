"""Small models for emotion heads, evaluated in numpy and stored as plain arrays.

Training uses scikit-learn (or torch); the fitted parameters are copied into
these classes, which predict with numpy only and serialise to a flat dict of
arrays for :func:`moodbridge.affect.base.save_weights`.  No pickle, so the
shipped weights load whatever scikit-learn version the user has.

Each model has ``predict(X) -> ndarray``, ``to_arrays(prefix) -> dict`` and
``from_arrays(arrays, prefix)``; :func:`model_from_arrays` dispatches on the
stored ``kind``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np

from moodbridge.errors import InvalidValueError


class ArrayModel(Protocol):
    """What every stored model offers."""

    kind: ClassVar[str]

    def predict(self, X: np.ndarray) -> np.ndarray: ...

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]: ...


def kind_array(kind: str) -> np.ndarray:
    """A model kind name stored as bytes (the ``kind`` entry of :meth:`ArrayModel.to_arrays`)."""
    return np.frombuffer(kind.encode(), dtype=np.uint8)


@dataclass
class Standardize:
    """``(X - mean) / scale`` (scikit-learn's StandardScaler)."""

    mean: np.ndarray
    scale: np.ndarray
    kind: ClassVar[str] = "standardize"

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (np.asarray(X, dtype=np.float64) - self.mean) / self.scale

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}kind": kind_array(self.kind), f"{prefix}mean": self.mean, f"{prefix}scale": self.scale}

    @classmethod
    def from_arrays(cls, a: Mapping[str, np.ndarray], prefix: str) -> "Standardize":
        return cls(a[f"{prefix}mean"], a[f"{prefix}scale"])

    @classmethod
    def fit(cls, X: np.ndarray) -> "Standardize":
        """Mean and standard deviation of ``X`` (constant columns get scale 1)."""
        X = np.asarray(X, dtype=np.float64)
        scale = X.std(axis=0)
        return cls(X.mean(axis=0), np.where(scale > 1e-12, scale, 1.0))


@dataclass
class Linear:
    """``X @ coef.T + intercept`` (ridge, linear or logistic-regression scores)."""

    coef: np.ndarray  # (outputs, features)
    intercept: np.ndarray  # (outputs,)
    kind: ClassVar[str] = "linear"

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=np.float64) @ self.coef.T + self.intercept

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}kind": kind_array(self.kind), f"{prefix}coef": self.coef, f"{prefix}intercept": self.intercept}

    @classmethod
    def from_arrays(cls, a: Mapping[str, np.ndarray], prefix: str) -> "Linear":
        return cls(a[f"{prefix}coef"], a[f"{prefix}intercept"])

    @classmethod
    def from_sklearn(cls, est: Any) -> "Linear":
        """From a fitted Ridge, LinearRegression, LogisticRegression or LinearSVC."""
        coef = np.atleast_2d(np.asarray(est.coef_, dtype=np.float64))
        return cls(coef, np.atleast_1d(np.asarray(est.intercept_, dtype=np.float64)))


@dataclass
class RBFKernel:
    """Kernel expansion ``sum_i dual[i] * exp(-gamma |x - sv_i|^2) + intercept``.

    Covers scikit-learn's SVR, KernelRidge (rbf) and binary/one-vs-rest SVC decision values.
    """

    support: np.ndarray  # (S, features)
    dual: np.ndarray  # (outputs, S)
    intercept: np.ndarray  # (outputs,)
    gamma: float
    kind: ClassVar[str] = "rbf-kernel"

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        S = np.asarray(self.support, dtype=np.float64)  # may be stored in float16
        sq = (X * X).sum(1)[:, None] + (S * S).sum(1)[None, :] - 2.0 * X @ S.T
        K = np.exp(-self.gamma * np.maximum(sq, 0.0))
        return K @ self.dual.T + self.intercept

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}kind": kind_array(self.kind), f"{prefix}support": self.support, f"{prefix}dual": self.dual,
            f"{prefix}intercept": self.intercept, f"{prefix}gamma": np.array(self.gamma),
        }

    @classmethod
    def from_arrays(cls, a: Mapping[str, np.ndarray], prefix: str) -> "RBFKernel":
        return cls(a[f"{prefix}support"], a[f"{prefix}dual"], a[f"{prefix}intercept"], float(a[f"{prefix}gamma"]))


@dataclass
class MLP:
    """A ReLU multilayer perceptron; ``weights[i]`` is ``(out, in)`` like ``torch.nn.Linear``."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    kind: ClassVar[str] = "mlp"

    def predict(self, X: np.ndarray) -> np.ndarray:
        h = np.asarray(X, dtype=np.float64)
        for i, (W, b) in enumerate(zip(self.weights, self.biases)):
            h = h @ W.T + b
            if i < len(self.weights) - 1:
                h = np.maximum(h, 0.0)
        return h

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        out = {f"{prefix}kind": kind_array(self.kind), f"{prefix}layers": np.array(len(self.weights))}
        for i, (W, b) in enumerate(zip(self.weights, self.biases)):
            out[f"{prefix}W{i}"] = W
            out[f"{prefix}b{i}"] = b
        return out

    @classmethod
    def from_arrays(cls, a: Mapping[str, np.ndarray], prefix: str) -> "MLP":
        n = int(a[f"{prefix}layers"])
        return cls([a[f"{prefix}W{i}"] for i in range(n)], [a[f"{prefix}b{i}"] for i in range(n)])


@dataclass
class Chain:
    """Models applied one after another (e.g. standardise, then a kernel model)."""

    steps: list[Any]
    kind: ClassVar[str] = "chain"

    def predict(self, X: np.ndarray) -> np.ndarray:
        for step in self.steps:
            X = step.predict(X)
        return X

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        out = {f"{prefix}kind": kind_array(self.kind), f"{prefix}steps": np.array(len(self.steps))}
        for i, step in enumerate(self.steps):
            out.update(step.to_arrays(f"{prefix}{i}."))
        return out

    @classmethod
    def from_arrays(cls, a: Mapping[str, np.ndarray], prefix: str) -> "Chain":
        return cls([model_from_arrays(a, f"{prefix}{i}.") for i in range(int(a[f"{prefix}steps"]))])


@dataclass
class Average:
    """Weighted mean ``sum_m weights[m] * model_m(X)`` of models on the same input (an ensemble)."""

    models: list[Any]
    weights: np.ndarray
    kind: ClassVar[str] = "average"

    def predict(self, X: np.ndarray) -> np.ndarray:
        return sum(float(w) * m.predict(X) for w, m in zip(self.weights, self.models))

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        out = {f"{prefix}kind": kind_array(self.kind), f"{prefix}weights": np.asarray(self.weights, dtype=np.float64)}
        for i, model in enumerate(self.models):
            out.update(model.to_arrays(f"{prefix}{i}."))
        return out

    @classmethod
    def from_arrays(cls, a: Mapping[str, np.ndarray], prefix: str) -> "Average":
        weights = np.asarray(a[f"{prefix}weights"], dtype=np.float64)
        return cls([model_from_arrays(a, f"{prefix}{i}.") for i in range(len(weights))], weights)


_KINDS: dict[str, Any] = {c.kind: c for c in (Standardize, Linear, RBFKernel, MLP, Chain, Average)}


def register_model_kind(cls: Any) -> Any:
    """Class decorator: make a new stored model kind loadable by :func:`model_from_arrays`."""
    _KINDS[cls.kind] = cls
    return cls


def model_from_arrays(arrays: Mapping[str, np.ndarray], prefix: str = "") -> Any:
    """Rebuild a stored model from its arrays (the ``kind`` entry says which class)."""
    key = f"{prefix}kind"
    if key not in arrays:
        raise InvalidValueError(f"no stored model under prefix {prefix!r}")
    kind = bytes(arrays[key]).decode()
    if kind not in _KINDS:
        raise InvalidValueError(f"unknown stored model kind {kind!r}")
    return _KINDS[kind].from_arrays(arrays, prefix)


def softmax(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax."""
    z = scores - scores.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def stack_features(parts: Sequence[np.ndarray]) -> np.ndarray:
    """Concatenate feature blocks column-wise after checking they have the same rows."""
    rows = {p.shape[0] for p in parts}
    if len(rows) != 1:
        raise InvalidValueError(f"feature blocks have different numbers of rows: {sorted(rows)}")
    return np.concatenate([np.asarray(p, dtype=np.float64).reshape(p.shape[0], -1) for p in parts], axis=1)
