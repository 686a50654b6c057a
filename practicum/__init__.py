"""The course package: paths shared by the grader, the loaders and the tests.

The repository's top-level folders are importable under one namespace, so that the
course never shadows a package with the same import name (Hugging Face's ``datasets``):

* ``practicum.grader``   -> ``grader/``   (release, check, grade, export)
* ``practicum.datasets`` -> ``datasets/`` (loaders and embedded samples)

``solutions/`` and ``exercises/`` are not imported by name: the grader loads them (or a
student's submission) from a directory chosen at run time.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

REPO_ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS_DIR = REPO_ROOT / "solutions"
EXERCISES_DIR = REPO_ROOT / "exercises"
TESTS_DIR = REPO_ROOT / "tests"
