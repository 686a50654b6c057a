"""Authoring: from the reference solutions to what students get.

* :mod:`.release`: ``solutions/`` -> ``exercises/`` stubs and the student release;
* :mod:`.assignments`: the nbgrader assignments, their tasks and check cells (which test
  belongs to which cell);
* :mod:`.source_notebooks`: the nbgrader source notebooks built from ``solutions/``.
"""
