"""nbgrader's configuration of the course (run nbgrader's commands in this folder).

The source notebooks in source/ are generated from the reference solutions by
`grader notebooks`; see docs/nbgrader.md for the instructor's walk-through.
"""

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "dl-practicum"

# The exchange students fetch from and submit to. nbgrader's default; a JupyterHub
# deployment usually keeps it, a test passes --Exchange.root=... instead.
c.Exchange.root = "/srv/nbgrader/exchange"

# A student is added to the gradebook when their first submission is autograded.
c.Autograde.create_student = True

# The check cells run the course's tests: the first one in a kernel imports TensorFlow.
c.Execute.timeout = 600
# a kernel can be slow to start on a loaded grading machine
c.Execute.startup_timeout = 300

# The feedback never shows the hidden checks: nbgrader puts the grade cells back as they
# were in the source (hidden part included) when it autogrades, so take it out again here.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
