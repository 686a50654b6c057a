"""Running: what happens when pytest runs the task tests against an implementation.

* :mod:`.pytest_plugin`: ``--impl``, ``--task``, the grade report, the student summary;
* :mod:`.proxy`: the one door to the implementation (in process, or through a sandbox);
* :mod:`.gating`: which answer functions a test exercised and compared with the reference;
* :mod:`.feedback`: the short messages a student reads;
* :mod:`.notebook_checks`: ``check()`` and ``score()`` in an nbgrader notebook's cells.
"""
