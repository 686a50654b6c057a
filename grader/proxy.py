"""The one door between the tests and an implementation under test.

Tests never import a candidate's module. They ask a :class:`Candidate` (a proxy) to
call ``module.function(*args, **kwargs)`` and get back *plain data*: numpy arrays,
Python numbers, strings, lists, dicts, ``None``. Exceptions come back as
:class:`CandidateError` objects that carry the exception's type names and message, never
the exception object itself.

Because only plain data crosses the door, the backend behind it can be swapped: today
:class:`InProcessBackend` imports the modules in this process; a sandboxed backend can run
them in another process without any test changing.

Example::

    candidate = Candidate(InProcessBackend(Path("exercises")), label="exercises")
    gram = candidate.module("style_losses").gram_matrix(AsTensor(features))
"""

from __future__ import annotations

import hashlib
import importlib
import sys
import traceback
import types
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np


@dataclass(frozen=True)
class AsTensor:
    """Marks an argument to be handed to the candidate as a ``tf.Tensor``.

    Args:
        array: the value, as a numpy array (its dtype is kept).
    """

    array: np.ndarray


class _CandidateProblem:
    """What the implementation did wrong, as plain data (shared by the two errors below).

    Attributes:
        type_names: the exception's class and its base classes, most specific first
            (``["ZeroDivisionError", "ArithmeticError", "Exception", ...]``).
        message: the exception's message.
        where: a short traceback limited to the implementation's own files.
    """

    def __init__(self, summary: str, type_names: Sequence[str] = (), message: str = "",
                 where: str = "") -> None:
        super().__init__(summary)  # type: ignore[call-arg]
        self.summary = summary
        self.type_names = list(type_names)
        self.message = message
        self.where = where

    def is_a(self, type_name: str) -> bool:
        """True if the original exception was a ``type_name`` (or a subclass of it)."""
        return type_name in self.type_names

    def __str__(self) -> str:
        return self.summary + (f"\n{self.where}" if self.where else "")


class CandidateError(_CandidateProblem, Exception):
    """A call into the implementation raised an exception."""


class MissingImplementation(_CandidateProblem, BaseException):
    """The implementation has no such module or function, cannot be imported, or raised
    ``NotImplementedError``.

    It derives from ``BaseException`` on purpose: hypothesis then stops at the first
    example instead of trying (and shrinking) many inputs that cannot help.
    """


class Backend(Protocol):
    """Runs calls for a :class:`Candidate`; implementations decide where the code runs."""

    def call(self, module: str, function: str, args: tuple, kwargs: dict) -> Any: ...

    def value_and_grad(self, module: str, function: str, args: tuple, kwargs: dict,
                       wrt: Sequence[int]) -> tuple[Any, list[Any]]: ...


class ModuleHandle:
    """``candidate.module("style_losses").gram_matrix(x)`` reads like a normal call."""

    def __init__(self, candidate: Candidate, name: str) -> None:
        self._candidate = candidate
        self._name = name

    def value_and_grad(self, function: str, *args, wrt: Sequence[int] = (0,), **kwargs):
        """See :meth:`Candidate.value_and_grad`."""
        return self._candidate.value_and_grad(self._name, function, *args, wrt=wrt, **kwargs)

    def __getattr__(self, function: str):
        if function.startswith("_"):
            raise AttributeError(function)

        def call(*args, **kwargs):
            return self._candidate.call(self._name, function, *args, **kwargs)

        call.__name__ = function
        return call


class Candidate:
    """The proxy through which every test reaches an implementation.

    Args:
        backend: where and how the calls run.
        label: how messages name this implementation (``"exercises"``, a path, ...).

    Attributes:
        journal: one ``(module, function, returned)`` per call so far, in order
            (``returned`` is False when the call raised).
    """

    def __init__(self, backend: Backend, label: str) -> None:
        self.backend = backend
        self.label = label
        self.journal: list[tuple[str, str, bool]] = []

    def _noted(self, module: str, function: str, run):
        """Runs ``run()`` and notes ``(module, function, returned)`` in :attr:`journal`:
        the pytest plugin reads it to tell which functions a test exercised and which
        returned a value (see :mod:`.gating`)."""
        try:
            result = run()
        except BaseException:
            self.journal.append((module, function, False))
            raise
        self.journal.append((module, function, True))
        return result

    def module(self, name: str) -> ModuleHandle:
        """A handle on module ``name`` (``style_losses`` for ``style_losses.py``)."""
        return ModuleHandle(self, name)

    def call(self, module: str, function: str, *args, **kwargs) -> Any:
        """Calls ``module.function(*args, **kwargs)`` and returns its result as plain data."""
        return self._noted(module, function,
                           lambda: self.backend.call(module, function, args, kwargs))

    def value_and_grad(self, module: str, function: str, *args, wrt: Sequence[int] = (0,),
                       **kwargs) -> tuple[Any, list[Any]]:
        """Calls the function under ``tf.GradientTape``, watching the positional
        arguments ``wrt`` (each an array, or a list of arrays).

        Returns:
            ``(value, grads)``: the result and, per watched argument, its gradient (an
            array, a list of arrays for a list argument, or ``None`` where the result does
            not depend on that argument through TensorFlow operations).
        """
        return self._noted(module, function, lambda: self.backend.value_and_grad(
            module, function, args, kwargs, tuple(wrt)))

    def __repr__(self) -> str:
        return f"Candidate({self.label!r})"


# --------------------------------------------------------------------------- plain data


def to_plain(value: Any, *, path: str = "result") -> Any:
    """Converts a candidate's return value to plain data, or raises CandidateError.

    Tensors and arrays (of any subclass) become fresh base-class ``np.ndarray`` objects,
    so nothing a candidate returns can override comparisons or arithmetic.
    """
    if value is None:
        return None
    for plain_type in (bool, int, float, str):  # subclasses become the plain type
        if isinstance(value, plain_type):
            return plain_type(value)
    if isinstance(value, (list, tuple)):
        return [to_plain(item, path=f"{path}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, dict):
        return {str(key): to_plain(item, path=f"{path}[{key!r}]") for key, item in value.items()}
    if isinstance(value, np.generic):
        return np.array(value).item()
    model = _keras_model_to_plain(value)
    if model is not None:
        return model
    array = _tensor_to_numpy(value)
    if array is None and isinstance(value, np.ndarray):
        array = value
    if array is None:
        raise CandidateError(
            f"{path} is a {type(value).__name__}, expected a tensor, an array or a number",
            ["TypeError"], f"unsupported return type {type(value).__name__}",
        )
    plain = np.array(array, copy=True, subok=False)
    if plain.dtype == object:
        raise CandidateError(f"{path} holds Python objects, expected numbers", ["TypeError"])
    return plain


def _keras_model_to_plain(value: Any) -> dict | None:
    """A Keras model crosses the door as its JSON architecture and its layers' shapes.

    Returns ``{"keras_model": <model.to_json()>, "layers": [{"name", "class_name",
    "output_shape"}, ...], "input_shape": [...]}``; rebuild it with
    ``keras.models.model_from_json`` on the trusted side.
    """
    keras = sys.modules.get("keras")
    if keras is None or not isinstance(value, keras.Model):
        return None
    layers = []
    for layer in value.layers:
        try:
            shape = layer.output.shape
        except (AttributeError, ValueError):  # a layer that was never called
            shape = None
        layers.append({"name": layer.name, "class_name": type(layer).__name__,
                       "output_shape": None if shape is None else [
                           None if dim is None else int(dim) for dim in shape]})
    inputs = getattr(value, "inputs", None) or []
    return {
        "keras_model": value.to_json(),
        "input_shape": [None if d is None else int(d) for d in inputs[0].shape] if inputs
        else None,
        "layers": layers,
    }


def _tensor_to_numpy(value: Any) -> np.ndarray | None:
    tf = sys.modules.get("tensorflow")
    if tf is not None and isinstance(value, (tf.Tensor, tf.Variable)):
        return value.numpy()
    return None


# --------------------------------------------------------------------------- in-process


class InProcessBackend:
    """Imports an implementation directory into this process and calls it directly.

    Each directory becomes its own synthetic package, so ``exercises/style_losses.py`` and
    ``solutions/style_losses.py`` can be loaded side by side, and modules of one
    implementation can import each other with ``from . import style_losses``.

    Args:
        directory: the folder holding ``style_losses.py`` and the other task modules.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory).resolve()
        digest = hashlib.sha1(str(self.directory).encode()).hexdigest()[:10]
        self.package = f"_practicum_impl_{digest}"
        self._modules: dict[str, types.ModuleType | MissingImplementation] = {}

    def _load(self, module: str) -> types.ModuleType:
        cached = self._modules.get(module)
        if cached is None:
            cached = self._modules[module] = self._import(module)
        if isinstance(cached, MissingImplementation):
            raise cached
        return cached

    def _import(self, module: str) -> types.ModuleType | MissingImplementation:
        path = self.directory / f"{module}.py"
        if not path.is_file():
            return MissingImplementation(
                f"{self.directory} has no module {module}.py: the tests for {module} cannot run",
                ["ModuleNotFoundError"],
            )
        if self.package not in sys.modules:
            package = types.ModuleType(self.package)
            package.__path__ = [str(self.directory)]
            sys.modules[self.package] = package
        try:
            return importlib.import_module(f"{self.package}.{module}")
        except BaseException as error:  # noqa: BLE001 - a broken submission must not stop us
            sys.modules.pop(f"{self.package}.{module}", None)
            return MissingImplementation(
                f"{module}.py could not be imported: {_describe(error)}",
                _type_names(error), str(error), _short_traceback(error, self.directory),
            )

    def _function(self, module: str, function: str):
        loaded = self._load(module)
        target = getattr(loaded, function, None)
        if not callable(target):
            raise MissingImplementation(
                f"{module}.py has no function {function}()", ["AttributeError"]
            )
        return target

    def call(self, module: str, function: str, args: tuple, kwargs: dict) -> Any:
        target = self._function(module, function)
        args, kwargs = _materialise(args), _materialise(kwargs)
        try:
            result = target(*args, **kwargs)
        except BaseException as error:  # noqa: BLE001
            raise _as_candidate_error(module, function, error, self.directory) from None
        return to_plain(result, path=f"{function}() result")

    def value_and_grad(self, module: str, function: str, args: tuple, kwargs: dict,
                       wrt: Sequence[int]) -> tuple[Any, list[Any]]:
        import tensorflow as tf

        target = self._function(module, function)
        args, kwargs = list(_materialise(args)), _materialise(kwargs)
        watched = []
        for index in wrt:
            value = args[index]
            if isinstance(value, list):
                args[index] = [tf.Variable(item) for item in value]
            else:
                args[index] = tf.Variable(value)
            watched.append(args[index])
        try:
            with tf.GradientTape() as tape:
                result = target(*args, **kwargs)
            gradients = tape.gradient(result, watched)
        except BaseException as error:  # noqa: BLE001
            raise _as_candidate_error(module, function, error, self.directory) from None
        return to_plain(result, path=f"{function}() result"), to_plain(gradients, path="gradient")


def _materialise(value: Any) -> Any:
    """Turns :class:`AsTensor` markers into tensors, recursively."""
    if isinstance(value, AsTensor):
        import tensorflow as tf

        return tf.constant(value.array)
    if isinstance(value, tuple):
        return tuple(_materialise(item) for item in value)
    if isinstance(value, list):
        return [_materialise(item) for item in value]
    if isinstance(value, dict):
        return {key: _materialise(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return value.copy()
    return value


def _type_names(error: BaseException) -> list[str]:
    return [cls.__name__ for cls in type(error).__mro__ if cls is not object]


def _describe(error: BaseException) -> str:
    if isinstance(error, SyntaxError):
        return f"SyntaxError at line {error.lineno}: {error.msg}"
    return f"{type(error).__name__}: {error}"


def _short_traceback(error: BaseException, directory: Path) -> str:
    frames = [
        frame for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename.startswith(str(directory))
    ]
    return "".join(traceback.format_list(frames[-3:])).rstrip()


def _as_candidate_error(module: str, function: str, error: BaseException,
                        directory: Path) -> CandidateError | MissingImplementation:
    where = _short_traceback(error, directory)
    if isinstance(error, NotImplementedError):
        summary = f"{module}.{function} is not implemented yet (NotImplementedError: {error})"
        return MissingImplementation(summary, _type_names(error), str(error), where)
    summary = f"{module}.{function} raised {_describe(error)}"
    return CandidateError(summary, _type_names(error), str(error), where)
