"""The one codec between a submission's code and the grader, in every sandbox mode.

A candidate's return value becomes *plain data* (:func:`to_plain`): ``None``, ``bool``,
``int``, ``float``, ``str``, lists, ``str``-keyed dicts, fresh base-class ``np.ndarray``
objects of a numeric dtype, and a Keras model as its JSON architecture. In process
(``--sandbox off``) the proxy uses the plain data as it is; a sandboxed worker sends it as
JSON (:func:`encode`) and the grader rebuilds it, checking everything (:func:`decode`).
Both sides run this same file (the sandbox copies it next to ``worker.py``), so a value is
accepted or refused alike whatever the mode: a string array, an object array or a complex
scalar is refused in every mode.

This module imports only numpy and the standard library (TensorFlow and Keras are used only
when the submission has loaded them), so that the worker can load it before the sandbox is
closed.

JSON forms: ``{"__array__": {"dtype", "shape", "data": base64 little-endian}}``,
``{"__scalar__": <array spec>}`` (a numpy scalar argument), ``{"__tensor__": <array spec>}``
(an argument the candidate receives as a ``tf.Tensor``), ``{"__tuple__": [...]}`` and
``{"__dict__": [[key, value], ...]}``; lists, strings, numbers, booleans and null as
themselves. Never pickle.

Example:
    >>> import numpy as np
    >>> plain = to_plain([np.float32(2.5), np.arange(3)])
    >>> plain[0], plain[1].tolist()
    (2.5, [0, 1, 2])
    >>> decode(encode(plain), Budget())[1].tolist()
    [0, 1, 2]
    >>> to_plain(np.array(["a"]))
    Traceback (most recent call last):
    ...
    wire.Refused: result holds Python objects, expected numbers
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

NUMERIC_DTYPES = frozenset(
    {
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
    }
)
MAX_DEPTH = 64
MAX_RANK = 32
#: The NotImplementedError of a released stub's TODO (``grader release``), naming its function
STUB_TODO = re.compile(r"^(\w+)\.(\w+): replace this line with your code")


def not_implemented_name(error: BaseException, module: str, function: str) -> str:
    """``module.function``, or the stub's own function when the function that was called
    (a provided one, such as ``run_challenge``) reached a released stub's TODO."""
    found = STUB_TODO.search(str(error))
    return f"{found[1]}.{found[2]}" if found else f"{module}.{function}"


class Refused(Exception):
    """A return value that cannot be graded (not numbers); ``summary`` says why."""

    def __init__(self, summary: str, message: str = "") -> None:
        super().__init__(summary)
        self.summary = summary
        self.message = message


class ProtocolError(Exception):
    """A message that does not follow the wire format (a worker that misbehaves)."""


@dataclass(frozen=True)
class AsTensor:
    """Marks an argument to be handed to the candidate as a ``tf.Tensor``.

    Args:
        array: the value, as a numpy array (its dtype is kept).
    """

    array: np.ndarray


# --------------------------------------------------------------------------- plain data


def to_plain(value: Any, path: str = "result") -> Any:
    """A candidate's return value as plain data, or :class:`Refused`.

    Subclasses of ``bool``/``int``/``float``/``str``/``np.ndarray`` become the base type,
    so nothing a candidate returns can override comparisons or arithmetic.
    """
    if value is None:
        return None
    for plain_type in (bool, int, float, str):
        if isinstance(value, plain_type):
            return plain_type(value)
    if isinstance(value, (list, tuple)):
        return [to_plain(item, f"{path}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, dict):
        return {str(key): to_plain(item, f"{path}[{key!r}]") for key, item in value.items()}
    if isinstance(value, np.generic):
        item = np.array(value).item()
        if type(item) in (bool, int, float):
            return item
        raise Refused(f"{path} holds Python objects, expected numbers")
    model = keras_model_to_plain(value)
    if model is not None:
        return model
    array = _tensor_to_numpy(value)
    if array is None and isinstance(value, np.ndarray):
        array = value
    if array is None:
        raise Refused(
            f"{path} is a {type(value).__name__}, expected a tensor, an array or a number",
            f"unsupported return type {type(value).__name__}",
        )
    plain = np.array(array, copy=True, subok=False)
    if plain.dtype.name not in NUMERIC_DTYPES:
        raise Refused(f"{path} holds Python objects, expected numbers")
    return plain


def _tensor_to_numpy(value: Any) -> np.ndarray | None:
    tf = sys.modules.get("tensorflow")
    if tf is None or not isinstance(value, (tf.Tensor, tf.Variable)):
        return None
    if value.dtype == tf.bfloat16:  # numpy has no bfloat16 of its own
        value = tf.cast(value, tf.float32)
    return value.numpy()


def keras_model_to_plain(value: Any) -> dict | None:
    """A Keras model as ``{"keras_model": <model.to_json()>, "input_shape": [...],
    "layers": [{"name", "class_name", "output_shape"}, ...]}``; ``None`` for anything else.
    The grader rebuilds it with ``keras.models.model_from_json``."""
    keras = sys.modules.get("keras")
    if keras is None or not isinstance(value, keras.Model):
        return None
    layers = []
    for layer in value.layers:
        try:
            shape = layer.output.shape
        except (AttributeError, ValueError):  # a layer that was never called
            shape = None
        layers.append(
            {
                "name": layer.name,
                "class_name": type(layer).__name__,
                "output_shape": None
                if shape is None
                else [None if dim is None else int(dim) for dim in shape],
            }
        )
    inputs = getattr(value, "inputs", None) or []
    return {
        "keras_model": value.to_json(),
        "input_shape": [None if d is None else int(d) for d in inputs[0].shape] if inputs else None,
        "layers": layers,
    }


# --------------------------------------------------------------------------- JSON


def encode(value: Any, depth: int = 0) -> Any:
    """Plain data or call arguments as JSON-ready data."""
    if depth > MAX_DEPTH:
        raise ValueError("value nested too deeply")
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, (bool, int, float, str)):
        return to_plain(value)
    if isinstance(value, AsTensor):
        return {"__tensor__": encode_array(value.array)}
    if isinstance(value, np.ndarray):
        return {"__array__": encode_array(value)}
    if isinstance(value, np.generic):
        return {"__scalar__": encode_array(np.asarray(value))}
    if isinstance(value, list):
        return [encode(item, depth + 1) for item in value]
    if isinstance(value, tuple):
        return {"__tuple__": [encode(item, depth + 1) for item in value]}
    if isinstance(value, dict):
        return {"__dict__": [[str(key), encode(item, depth + 1)] for key, item in value.items()]}
    raise TypeError(f"cannot encode a {type(value).__name__}")


def encode_array(array: np.ndarray) -> dict:
    array = np.array(array, order="C", copy=True, subok=False)
    if array.dtype.name not in NUMERIC_DTYPES:
        raise TypeError(f"cannot encode an array of dtype {array.dtype}")
    little = array.astype(array.dtype.newbyteorder("<"), copy=False)
    return {
        "dtype": array.dtype.name,
        "shape": list(array.shape),
        "data": base64.b64encode(little.tobytes()).decode("ascii"),
    }


class Budget:
    """How much a decoded message may hold: ``nodes`` values and ``bytes`` of data."""

    def __init__(self, max_bytes: int = 2**31, max_nodes: int = 10**7) -> None:
        self.bytes = max_bytes
        self.nodes = max_nodes

    def spend(self, nodes: int = 1, data: int = 0) -> None:
        self.nodes -= nodes
        self.bytes -= data
        if self.nodes < 0 or self.bytes < 0:
            raise ProtocolError("the message is too large")


def decode(
    value: Any, budget: Budget, depth: int = 0, tensor: Callable[[np.ndarray], Any] | None = None
) -> Any:
    """JSON data back to plain data, checking everything; ``tensor`` turns a
    ``__tensor__`` argument into a tensor (the worker's side only)."""
    budget.spend()
    if depth > MAX_DEPTH:
        raise ProtocolError("the message is nested too deeply")
    if value is None or type(value) in (bool, int, float):
        return value
    if type(value) is str:
        budget.spend(data=len(value))
        return value
    if type(value) is list:
        return [decode(item, budget, depth + 1, tensor) for item in value]
    if type(value) is not dict or len(value) != 1:
        raise ProtocolError(f"unexpected value of type {type(value).__name__}")
    ((tag, content),) = value.items()
    if tag == "__array__":
        return decode_array(content, budget)
    if tag == "__scalar__":
        return decode_array(content, budget)[()]
    if tag == "__tensor__" and tensor is not None:
        return tensor(decode_array(content, budget))
    if tag == "__tuple__" and type(content) is list:
        return tuple(decode(item, budget, depth + 1, tensor) for item in content)
    if tag == "__dict__" and type(content) is list:
        result = {}
        for pair in content:
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                raise ProtocolError("a dict entry must be a [str, value] pair")
            result[pair[0]] = decode(pair[1], budget, depth + 1, tensor)
        return result
    raise ProtocolError(f"unknown or malformed tag {str(tag)[:40]!r}")


def decode_array(spec: Any, budget: Budget) -> np.ndarray:
    if type(spec) is not dict or set(spec) != {"dtype", "shape", "data"}:
        raise ProtocolError("an array must have exactly dtype, shape and data")
    dtype_name, shape, data = spec["dtype"], spec["shape"], spec["data"]
    if type(dtype_name) is not str or dtype_name not in NUMERIC_DTYPES:
        raise ProtocolError(f"dtype {str(dtype_name)[:40]!r} is not a numeric dtype")
    if (
        type(shape) is not list
        or len(shape) > MAX_RANK
        or any(type(dim) is not int or dim < 0 for dim in shape)
    ):
        raise ProtocolError("an array's shape must be a list of non-negative integers")
    if type(data) is not str:
        raise ProtocolError("an array's data must be base64 text")
    dtype = np.dtype(dtype_name).newbyteorder("<")
    count = 1
    for dim in shape:
        count *= dim
    expected = count * dtype.itemsize
    budget.spend(data=expected)
    try:
        raw = base64.b64decode(data.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as error:
        raise ProtocolError(f"an array's data is not base64: {error}") from None
    if len(raw) != expected:
        raise ProtocolError(
            f"an array of shape {shape} and dtype {dtype_name} needs "
            f"{expected} bytes, got {len(raw)}"
        )
    array = np.frombuffer(raw, dtype=dtype).astype(np.dtype(dtype_name), copy=True)
    return array.reshape(tuple(shape))


# --------------------------------------------------------------------------- errors


def type_names(error: BaseException) -> list[str]:
    """The names of the error's classes, most specific first (``is_a`` checks them)."""
    return [cls.__name__ for cls in type(error).__mro__ if cls is not object]


def describe(error: BaseException) -> str:
    if isinstance(error, SyntaxError):
        return f"SyntaxError at line {error.lineno}: {error.msg}"
    return f"{type(error).__name__}: {error}"


def short_traceback(error: BaseException, directory: str, relative: bool = False) -> str:
    """The last three frames of ``error`` inside the submission's ``directory``."""
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename.startswith(str(directory))
    ]
    text = "".join(traceback.format_list(frames[-3:])).rstrip()
    return text.replace(str(directory) + os.sep, "") if relative else text
