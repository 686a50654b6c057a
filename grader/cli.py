"""``grader``: the command line for the course's workflow.

    grader release [--student-dir DIR]   solutions/ -> exercises/, and the student release
    grader check [TASK ...]              a student's public tests, with a friendly summary
    grader grade IMPL [IMPL ...]         task tests (public and hidden) -> scores per task
    grader grade SUBMISSION --out DIR    one submission, sandboxed: reports, results.json
    grader grade-all SUBMISSIONS -j N --out DIR   a whole class, parallel and resumable;
                                         regrades what changed, rescores a points change
    grader gradescope build --out autograder.zip  Gradescope's autograder
    grader notebooks [--check]           nbgrader source notebooks from solutions/
    grader nbgrader-autograde COURSE ASSIGNMENT   nbgrader's submissions, sandboxed,
                                         scores into nbgrader's gradebook
    grader demo                          release, then grade solutions and exercises
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import practicum
from practicum.grader import grade, release


def _release(args: argparse.Namespace) -> int:
    root = practicum.REPO_ROOT
    if not (root / "solutions").is_dir():
        print("grader release: no solutions/ here (this is a student copy)", file=sys.stderr)
        return 2
    try:
        written = release.write_exercises(root / "solutions", root / "exercises")
    except release.ReleaseError as error:
        print(f"grader release: {error}", file=sys.stderr)
        return 1
    print(f"exercises/: {len(written)} stub(s) generated from solutions/ "
          f"({', '.join(path.name for path in written)})")
    out = release.build_student_release(root, Path(args.student_dir))
    print(f"student release: {out} (exercises, public tests, grader, datasets)")
    return 0


def _reference_refused(args: argparse.Namespace, command: str) -> bool:
    """Runs the public tests on ``--reference`` (unless it is the course's solutions/):
    True (and says why) if it fails one and ``--force`` is not given."""
    if args.reference == "solutions" or getattr(args, "no_reference_check", False):
        return False
    problem = grade.reference_problem(args.reference, tasks=args.task)
    if not problem:
        return False
    if getattr(args, "force", False):
        print(f"grader {command}: warning: {problem.split(' (--force')[0]}; graded "
              "against it anyway (--force)", file=sys.stderr)
        return False
    print(f"grader {command}: {problem}", file=sys.stderr)
    return True


def _grade(args: argparse.Namespace) -> int:
    if _reference_refused(args, "grade"):
        return 2
    if getattr(args, "out", None):
        return _grade_submission(args)
    table, report = {}, {}
    for impl in args.impl:
        outcomes = grade.run_task_tests(impl, reference=args.reference, tasks=args.task,
                                        visibility=args.visibility,
                                        sandbox=getattr(args, "sandbox", None) or "off",
                                        sandbox_timeout=getattr(args, "timeout", None))
        if not outcomes:
            print(f"grader grade: no task tests ran for {impl}", file=sys.stderr)
            return 1
        table[impl] = grade.score_by_task(outcomes)
        report[impl] = [outcome.__dict__ for outcome in outcomes]
    print(grade.format_score_table(table))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return 0


def _grade_submission(args: argparse.Namespace) -> int:
    if len(args.impl) != 1:
        print("grader grade --out: give exactly one submission", file=sys.stderr)
        return 2
    from practicum.grader import reports, sandbox

    mode = args.sandbox or "auto"
    try:
        mode = sandbox.resolve_mode(mode) if mode != "off" else "off"
    except (RuntimeError, ValueError) as error:
        print(f"grader grade: {error}", file=sys.stderr)
        return 2
    result = grade.grade_submission(
        args.impl[0], args.out, student=args.student, sandbox=mode,
        sandbox_timeout=args.timeout, config_path=args.config, reference=args.reference,
        tasks=args.task)
    for note in result.notes:
        print(f"note: {reports.plain(note)}")
    for task in result.tasks:
        print(f"{task.task:<24} {task.score:7.2f} / {task.max_score:<7.2f} "
              f"{task.passed}/{len(task.tests)} tests pass")
    print(f"{'total':<24} {result.score:7.2f} / {result.max_score:<7.2f} "
          f"(sandbox: {result.sandbox}, {result.seconds:.0f} s)")
    print(f"reports: {Path(args.out) / 'report.md'}, report.html, results.json")
    return 0


def _grade_all(args: argparse.Namespace) -> int:
    from practicum.grader import grade_all, reports

    if _reference_refused(args, "grade-all"):
        return 2
    try:
        run = grade_all.grade_all(args.submissions, args.out, jobs=args.jobs,
                                  sandbox=args.sandbox, sandbox_timeout=args.timeout,
                                  config_path=args.config, tasks=args.task,
                                  reference=args.reference, rescore_only=args.rescore)
    except (OSError, ValueError) as error:
        print(f"grader grade-all: {error}", file=sys.stderr)
        return 2
    print(f"grade-all: {len(run.graded)} graded, {len(run.rescored)} rescored, "
          f"{len(run.skipped)} already done, {len(run.failed)} failed, in {run.seconds:.0f} s; "
          f"class CSV: {run.csv_path}")
    if run.renamed:
        print(f"grade-all: {len(run.renamed)} graded under a derived name (folder name not "
              "plain): " + ", ".join(sorted(run.renamed.values())))
    for name, reason in run.failed.items():
        last = reason.strip().splitlines()[-1] if reason.strip() else "?"
        print(f"  {name}: {reports.plain(last)}", file=sys.stderr)
    return 1 if run.failed else 0


def _gradescope(args: argparse.Namespace) -> int:
    from practicum.grader import gradescope

    path = gradescope.build_autograder(Path(args.out), root=practicum.REPO_ROOT,
                                       tasks=args.task)
    print(f"Gradescope autograder: {path}")
    return 0


def _check(args: argparse.Namespace) -> int:
    import tempfile

    import pytest

    from practicum.grader.pytest_plugin import resolve_implementation

    root = practicum.REPO_ROOT
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        options = [str(root / "tests" / "public"), "--impl", args.impl, "-q", "--no-header",
                   "-p", "no:cacheprovider", "--tb=no", "-rN", "--grade-report", str(report)]
        for task in args.task:
            options += ["--task", task]
        status = int(pytest.main(options))
        rows = json.loads(report.read_text()) if report.exists() else []
    print(check_summary(rows, resolve_implementation(args.impl, root), args.task))
    return status


def check_summary(rows: list[dict], impl: Path, tasks: list[str] = ()) -> str:
    """The student's summary: tasks passing, and the next TODO to work on."""
    per_task: dict[str, list[dict]] = {}
    for row in rows:
        per_task.setdefault(row["task"], []).append(row)
    lines = ["", "Summary"]
    done = [task for task, task_rows in sorted(per_task.items())
            if all(row["outcome"] == "passed" for row in task_rows)]
    for task, task_rows in sorted(per_task.items()):
        passed = sum(row["outcome"] == "passed" for row in task_rows)
        mark = "done" if task in done else "todo"
        lines.append(f"  [{mark}] {task:<22} {passed}/{len(task_rows)} public tests pass")
    lines.append(f"  {len(done)} of {len(per_task)} task(s) pass every public test")
    todo = next_todo(impl, [task for task in sorted(per_task) if task not in done]
                     or list(tasks))
    if todo:
        path, line, function = todo
        lines.append(f"Next TODO: {function}() in {path}:{line} (still raises "
                     "NotImplementedError)")
    else:
        failing = [row for row in rows if row["outcome"] == "failed"]
        if failing:
            first = failing[0]
            message = first["message"].splitlines()[0] if first["message"] else ""
            lines.append(f"Next: fix {first['task']}: {first['name']}: {message[:150]}")
        elif rows:
            lines.append("Everything passes. Well done!")
    return "\n".join(lines)


def next_todo(impl: Path, tasks: list[str]) -> tuple[str, int, str] | None:
    """The first function, in the given tasks' modules, whose body raises
    NotImplementedError: ``(file, line, function)``."""
    import ast

    for task in tasks:
        path = Path(impl) / f"{task}.py"
        try:
            tree = ast.parse(path.read_text())
        except (OSError, SyntaxError, ValueError):
            continue
        for node in tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Raise) and inner.exc is not None:
                    target = inner.exc.func if isinstance(inner.exc, ast.Call) else inner.exc
                    if isinstance(target, ast.Name) and target.id == "NotImplementedError":
                        try:
                            shown = path.relative_to(Path.cwd())
                        except ValueError:
                            shown = path
                        return str(shown), inner.lineno, node.name
    return None


def _demo(args: argparse.Namespace) -> int:
    status = _release(argparse.Namespace(student_dir=args.student_dir))
    if status:
        return status
    print("\ngrading the reference solutions and the student stubs with the hidden tests...")
    return _grade(argparse.Namespace(impl=["solutions", "exercises"], reference="solutions",
                                     task=[], visibility=("public", "hidden"), json=None))


def _notebooks(args: argparse.Namespace) -> int:
    from practicum.grader import nbgrader_course

    if not (practicum.REPO_ROOT / "solutions").is_dir():
        print("grader notebooks: no solutions/ here (this is a student copy)", file=sys.stderr)
        return 2
    course = Path(args.course) if args.course else None
    if args.check:
        problems = nbgrader_course.stale_notebooks(course)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("run `grader notebooks` to regenerate them", file=sys.stderr)
            return 1
        print("the nbgrader source notebooks are up to date")
        return 0
    for path in nbgrader_course.write_notebooks(course):
        print(f"wrote {path}")
    return 0


def _nbgrader_autograde(args: argparse.Namespace) -> int:
    from practicum.grader import nbgrader_autograde

    return nbgrader_autograde.main(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grader", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    default_release = str(practicum.REPO_ROOT / "build" / "student")

    rel = commands.add_parser("release", help="generate exercises/ and the student release")
    rel.add_argument("--student-dir", default=default_release)
    rel.set_defaults(run=_release)

    chk = commands.add_parser("check", help="run the public tests on your exercises")
    chk.add_argument("task", nargs="*", help="only these tasks (e.g. style_losses)")
    chk.add_argument("--impl", default="exercises")
    chk.set_defaults(run=_check)

    grd = commands.add_parser("grade", help="grade implementations with the task tests")
    grd.add_argument("impl", nargs="+", help="exercises, solutions or a directory of modules")
    grd.add_argument("--reference", default="solutions")
    grd.add_argument("--task", action="append", default=[])
    grd.add_argument("--visibility", nargs="+", default=["public", "hidden"],
                     choices=["public", "hidden"])
    grd.add_argument("--json", help="also write every test's outcome to this file")
    grd.add_argument("--out", help="grade ONE submission (folder of modules or notebooks) and "
                     "write its reports (report.md, report.html, results.json) here")
    grd.add_argument("--sandbox", choices=["auto", "bwrap", "process", "off"], default=None,
                     help="where the submission runs (default with --out: auto, the "
                     "strongest available; without --out: off)")
    grd.add_argument("--timeout", type=float, default=None,
                     help="wall-time limit of one sandboxed call, in seconds")
    grd.add_argument("--config", default=None, help="points per task (default grading.toml)")
    grd.add_argument("--student", default=None, help="the name in the reports")
    grd.add_argument("--force", action="store_true", help="grade against a --reference "
                     "even if it fails its public tests")
    grd.add_argument("--no-reference-check", action="store_true", help=argparse.SUPPRESS)
    grd.set_defaults(run=_grade)

    gall = commands.add_parser("grade-all", help="grade every student folder, in parallel, "
                               "resumably")
    gall.add_argument("submissions", help="a folder with one subfolder per student")
    gall.add_argument("--out", required=True, help="reports per student and class.csv")
    gall.add_argument("-j", "--jobs", type=int, default=2)
    gall.add_argument("--sandbox", choices=["auto", "bwrap", "process", "off"],
                      default="auto")
    gall.add_argument("--timeout", type=float, default=None)
    gall.add_argument("--config", default=None)
    gall.add_argument("--reference", default="solutions")
    gall.add_argument("--task", action="append", default=[])
    gall.add_argument("--rescore", action="store_true", help="only rescore stored outcomes "
                      "(after a points change); run no student code")
    gall.add_argument("--force", action="store_true", help="grade against a --reference "
                      "even if it fails its public tests")
    gall.set_defaults(run=_grade_all)

    gs = commands.add_parser("gradescope", help="Gradescope autograder")
    gs.add_argument("action", choices=["build"])
    gs.add_argument("--out", default="autograder.zip")
    gs.add_argument("--task", action="append", default=[],
                    help="grade only these tasks (default: every task)")
    gs.set_defaults(run=_gradescope)

    nbs = commands.add_parser("notebooks", help="write the nbgrader source notebooks "
                              "(nbgrader/source/) from solutions/")
    nbs.add_argument("--check", action="store_true",
                     help="only say whether the committed notebooks are up to date")
    nbs.add_argument("--course", default=None, help="the nbgrader course directory "
                     "(default: nbgrader/ in the repository)")
    nbs.set_defaults(run=_notebooks)

    nba = commands.add_parser("nbgrader-autograde", help="grade nbgrader's submitted/ "
                              "notebooks in the sandbox and write the scores into nbgrader's "
                              "gradebook")
    nba.add_argument("course", help="the nbgrader course directory (nbgrader_config.py)")
    nba.add_argument("assignment", help="the assignment, e.g. assignment3")
    nba.add_argument("--student", action="append", default=[],
                     help="only this student (repeatable; default: every submission)")
    nba.add_argument("--db", default=None, help="the gradebook's URL (default: "
                     "sqlite:///COURSE/gradebook.db)")
    nba.add_argument("--sandbox", choices=["auto", "bwrap", "process", "off"],
                     default="auto")
    nba.add_argument("--timeout", type=float, default=None)
    nba.set_defaults(run=_nbgrader_autograde)

    demo = commands.add_parser("demo", help="release, then grade solutions and exercises")
    demo.add_argument("--student-dir", default=default_release)
    demo.set_defaults(run=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
