"""The sandbox: a submission's code runs in a separate, locked-down worker process.

* :mod:`.modes`: which sandbox works here (bubblewrap, a process sandbox, none);
* :mod:`.bwrap`: the bubblewrap command line (what the worker can see);
* :mod:`.files`: copying a submission and the course's runtime library for the worker;
* :mod:`.backend`: :class:`SandboxBackend`, the trusted side (starts, feeds and kills
  workers, checks every reply);
* :mod:`.wire`: the value codec both sides use (copied next to the worker);
* :mod:`.worker`: the worker itself (run as a file inside the sandbox, never imported by
  the trusted side).
"""

import importlib

# The public names, imported on first use: the codec (``wire``) is imported by the proxy,
# which the backend itself imports, so this package must not import the backend eagerly.
_PUBLIC = {
    "SandboxBackend": "backend",
    "WorkerFailure": "backend",
    "MODES": "modes",
    "available_modes": "modes",
    "bwrap_problem": "modes",
    "namespace_problem": "modes",
    "notice": "modes",
    "process_isolation": "modes",
    "process_problem": "modes",
    "resolve_mode": "modes",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
