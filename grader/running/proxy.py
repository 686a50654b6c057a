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
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from practicum.grader.sandbox import wire
from practicum.grader.sandbox.wire import AsTensor

__all__ = [
    "AsTensor",
    "Candidate",
    "CandidateError",
    "InProcessBackend",
    "MissingImplementation",
    "ModuleHandle",
    "to_plain",
]


class _CandidateProblem:
    """What the implementation did wrong, as plain data (shared by the two errors below).

    Attributes:
        type_names: the exception's class and its base classes, most specific first
            (``["ZeroDivisionError", "ArithmeticError", "Exception", ...]``).
        message: the exception's message.
        where: a short traceback limited to the implementation's own files.
    """

    def __init__(
        self, summary: str, type_names: Sequence[str] = (), message: str = "", where: str = ""
    ) -> None:
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

    def call(
        self, module: str, function: str, args: tuple, kwargs: dict, timeout: float | None = None
    ) -> Any: ...

    def value_and_grad(
        self, module: str, function: str, args: tuple, kwargs: dict, wrt: Sequence[int]
    ) -> tuple[Any, list[Any]]: ...


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
        return self._noted(
            module, function, lambda: self.backend.call(module, function, args, kwargs)
        )

    def call_within(self, seconds: float, module: str, function: str, *args, **kwargs) -> Any:
        """:meth:`call` with a wall-time limit of ``seconds`` for this call (enforced by a
        sandboxed backend; in process it cannot be)."""
        return self._noted(
            module,
            function,
            lambda: self.backend.call(module, function, args, kwargs, timeout=seconds),
        )

    def value_and_grad(
        self, module: str, function: str, *args, wrt: Sequence[int] = (0,), **kwargs
    ) -> tuple[Any, list[Any]]:
        """Calls the function under ``tf.GradientTape``, watching the positional
        arguments ``wrt`` (each an array, or a list of arrays).

        Returns:
            ``(value, grads)``: the result and, per watched argument, its gradient (an
            array, a list of arrays for a list argument, or ``None`` where the result does
            not depend on that argument through TensorFlow operations).
        """
        return self._noted(
            module,
            function,
            lambda: self.backend.value_and_grad(module, function, args, kwargs, tuple(wrt)),
        )

    def __repr__(self) -> str:
        return f"Candidate({self.label!r})"


# --------------------------------------------------------------------------- plain data


def to_plain(value: Any, *, path: str = "result") -> Any:
    """A candidate's return value as plain data (:func:`.wire.to_plain`), or CandidateError.

    The same conversion runs inside a sandboxed worker, so a value is accepted or refused
    alike in every sandbox mode.
    """
    try:
        return wire.to_plain(value, path)
    except wire.Refused as refused:
        raise CandidateError(
            refused.summary, ["TypeError", "Exception", "BaseException"], refused.message
        ) from None


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
                f"{module}.py could not be imported: {wire.describe(error)}",
                wire.type_names(error),
                str(error),
                wire.short_traceback(error, self.directory),
            )

    def _function(self, module: str, function: str):
        loaded = self._load(module)
        target = getattr(loaded, function, None)
        if not callable(target):
            raise MissingImplementation(
                f"{module}.py has no function {function}()", ["AttributeError"]
            )
        return target

    def call(
        self, module: str, function: str, args: tuple, kwargs: dict, timeout: float | None = None
    ) -> Any:
        """Calls ``module.function`` here (``timeout`` cannot be enforced in process)."""
        target = self._function(module, function)
        args, kwargs = _materialise(args), _materialise(kwargs)
        try:
            result = target(*args, **kwargs)
        except BaseException as error:  # noqa: BLE001
            raise _as_candidate_error(module, function, error, self.directory) from None
        return to_plain(result, path=f"{function}() result")

    def fresh(self, **changes: Any) -> InProcessBackend:
        """This backend (in process there is no fresh worker to start)."""
        return self

    def calibrate(self) -> float:
        """Seconds of :func:`practicum.challenge.calibration_workload` in this process."""
        from practicum.challenge import calibration_workload

        return calibration_workload()

    def close(self) -> None:
        pass

    def __enter__(self) -> InProcessBackend:
        return self

    def __exit__(self, *exc_info) -> None:
        pass

    def value_and_grad(
        self, module: str, function: str, args: tuple, kwargs: dict, wrt: Sequence[int]
    ) -> tuple[Any, list[Any]]:
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


def _as_candidate_error(
    module: str, function: str, error: BaseException, directory: Path
) -> CandidateError | MissingImplementation:
    where = wire.short_traceback(error, directory)
    if isinstance(error, NotImplementedError):
        name = wire.not_implemented_name(error, module, function)
        summary = f"{name} is not implemented yet (NotImplementedError: {error})"
        return MissingImplementation(summary, wire.type_names(error), str(error), where)
    summary = f"{module}.{function} raised {wire.describe(error)}"
    return CandidateError(summary, wire.type_names(error), str(error), where)
