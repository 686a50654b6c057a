"""Export: grades where people read them.

* :mod:`.reports`: report.md, report.html, results.json, class.csv;
* :mod:`.gradescope`: the Gradescope autograder zip;
* :mod:`.nbgrader_gradebook`: ``grader nbgrader-autograde`` (scores into nbgrader's
  gradebook).
"""
