"""The course's grader (``practicum.grader``), one package per step of the workflow:

* :mod:`.authoring`: reference solutions -> stubs, the student release, nbgrader notebooks;
* :mod:`.running`: pytest against one implementation (plugin, proxy, feedback);
* :mod:`.sandbox`: a submission's code in a locked-down worker process;
* :mod:`.grading`: submissions -> verdicts -> points;
* :mod:`.export`: reports, Gradescope, nbgrader's gradebook.

:mod:`.cli` is the ``grader`` command. The map, with each module: ``docs/grading.md``.
"""
