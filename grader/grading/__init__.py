"""Grading: submissions in, verdicts and points out.

* :mod:`.submissions`: a submission folder (modules or notebooks) -> task modules;
* :mod:`.grade`: one submission's task tests, sandboxed (the verdicts);
* :mod:`.scoring`: verdicts -> points (``grading.toml``, the value-test rule);
* :mod:`.grade_all`: a whole class, in parallel, resumably;
* :mod:`.nbgrader_submissions`: nbgrader's submitted notebooks -> task modules and cell
  scores.
"""
