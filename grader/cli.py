"""``grader``: the command line for the course's workflow.

    grader release [--student-dir DIR]   solutions/ -> exercises/, and the student release
    grader check [TASK ...]              a student's public tests, with a friendly summary
    grader grade SUBMISSION --out DIR    one submission, sandboxed: reports, results.json
    grader compare IMPL [IMPL ...]       the score table of several implementations
    grader grade-all SUBMISSIONS -j N --out DIR   a whole class, parallel and resumable;
                                         regrades what changed, rescores a points change
    grader export canvas|outcomes|json OUT --out FILE   grades for an LMS (Canvas's import)
    grader stats OUT --out DIR           pass rates, common mistakes, score plots of a class
    grader similarity SUBMISSIONS --out DIR   the most similar pairs (copydetect)
    grader gradescope build --out autograder.zip  Gradescope's autograder
    grader notebooks [--check]           nbgrader source notebooks from solutions/
    grader nbgrader-autograde COURSE ASSIGNMENT   nbgrader's submissions, sandboxed,
                                         scores into nbgrader's gradebook
    grader demo                          release, then compare solutions and exercises

Every command that runs submitted code takes the same options (``--sandbox``, default
``auto``: bubblewrap where it works, else the process sandbox; ``--timeout``,
``--reference``, ``--task``, ``--force``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import practicum
from practicum.grader.authoring import release
from practicum.grader.grading import grade


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
    print(
        f"exercises/: {len(written)} stub(s) generated from solutions/ "
        f"({', '.join(path.name for path in written)})"
    )
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
        print(
            f"grader {command}: warning: {problem.split(' (--force')[0]}; graded "
            "against it anyway (--force)",
            file=sys.stderr,
        )
        return False
    print(f"grader {command}: {problem}", file=sys.stderr)
    return True


def _compare(args: argparse.Namespace) -> int:
    if _reference_refused(args, "compare"):
        return 2
    return compare(
        args.impl,
        reference=args.reference,
        tasks=args.task,
        visibility=args.visibility,
        sandbox=args.sandbox,
        timeout=args.timeout,
        json_path=args.json,
    )


def compare(
    impls: list[str],
    *,
    reference: str = "solutions",
    tasks: list[str] = (),
    visibility: tuple[str, ...] = ("public", "hidden"),
    sandbox: str = "auto",
    timeout: float | None = None,
    json_path: str | None = None,
) -> int:
    """Prints the score table of ``impls`` (and writes every outcome to ``json_path``)."""
    table, report = {}, {}
    for impl in impls:
        outcomes = grade.run_task_tests(
            impl,
            reference=reference,
            tasks=tasks,
            visibility=visibility,
            sandbox=sandbox,
            sandbox_timeout=timeout,
        )
        if not outcomes:
            print(f"grader compare: no task tests ran for {impl}", file=sys.stderr)
            return 1
        table[impl] = grade.score_by_task(outcomes)
        report[impl] = [outcome.__dict__ for outcome in outcomes]
    print(grade.format_score_table(table))
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=1))
    return 0


def _grade(args: argparse.Namespace) -> int:
    if _reference_refused(args, "grade"):
        return 2
    from practicum.grader import sandbox
    from practicum.grader.export import reports

    try:
        mode = sandbox.resolve_mode(args.sandbox) if args.sandbox != "off" else "off"
    except (RuntimeError, ValueError) as error:
        print(f"grader grade: {error}", file=sys.stderr)
        return 2
    result = grade.grade_submission(
        args.submission,
        args.out,
        student=args.student,
        sandbox=mode,
        sandbox_timeout=args.timeout,
        config_path=args.config,
        reference=args.reference,
        tasks=args.task,
        submitted_at=args.submitted_at or "",
    )
    for note in result.notes:
        print(f"note: {reports.plain(note)}")
    for task in result.tasks:
        print(
            f"{task.task:<24} {task.score:7.2f} / {task.max_score:<7.2f} "
            f"{task.passed}/{len(task.tests)} tests pass"
        )
    print(
        f"{'total':<24} {result.score:7.2f} / {result.max_score:<7.2f} "
        f"(sandbox: {result.sandbox}, {result.seconds:.0f} s)"
    )
    print(f"reports: {Path(args.out) / 'report.md'}, report.html, results.json")
    return 0


def _grade_server(args: argparse.Namespace) -> int:
    from practicum.grader.grading import grade_server

    return grade_server.serve(args.reply_fd)


def _grade_all(args: argparse.Namespace) -> int:
    from practicum.grader.export import reports
    from practicum.grader.grading import grade_all

    if _reference_refused(args, "grade-all"):
        return 2
    try:
        run = grade_all.grade_all(
            args.submissions,
            args.out,
            jobs=args.jobs,
            sandbox=args.sandbox,
            sandbox_timeout=args.timeout,
            config_path=args.config,
            tasks=args.task,
            reference=args.reference,
            rescore_only=args.rescore,
            roster=args.roster,
            times=args.times,
        )
    except (OSError, ValueError) as error:
        print(f"grader grade-all: {error}", file=sys.stderr)
        return 2
    print(
        f"grade-all: {len(run.graded)} graded, {len(run.rescored)} rescored, "
        f"{len(run.skipped)} already done, {len(run.failed)} failed, in {run.seconds:.0f} s; "
        f"class CSV: {run.csv_path}"
    )
    if run.leaderboard:
        print(f"grade-all: CIFAR-10 challenge leaderboard: {run.leaderboard} (and .png)")
    if run.renamed:
        print(
            f"grade-all: {len(run.renamed)} graded under a derived name (folder name not "
            "plain): " + ", ".join(sorted(run.renamed.values()))
        )
    for name, reason in run.failed.items():
        last = reason.strip().splitlines()[-1] if reason.strip() else "?"
        print(f"  {name}: {reports.plain(last)}", file=sys.stderr)
    return 1 if run.failed else 0


def _export(args: argparse.Namespace) -> int:
    from practicum.grader.export import lms, reports
    from practicum.grader.grading.roster import read_roster

    try:
        results = lms.stored_results(args.graded)
        if args.format == "canvas":
            roster = read_roster(args.roster) if args.roster else None
            text = lms.canvas_csv(results, roster, column=args.column)
        elif args.format == "outcomes":
            text = lms.outcomes_csv(results)
        else:
            text = lms.results_json(results)
    except (OSError, ValueError) as error:
        print(f"grader export: {error}", file=sys.stderr)
        return 2
    reports.atomic_write(Path(args.out), text)
    print(f"grader export {args.format}: {len(results)} student(s) -> {args.out}")
    return 0


def _stats(args: argparse.Namespace) -> int:
    from practicum.grader.export import lms, stats

    try:
        results = lms.stored_results(args.graded)
    except (OSError, ValueError) as error:
        print(f"grader stats: {error}", file=sys.stderr)
        return 2
    written = stats.write_stats(results, Path(args.out))
    print(f"grader stats: {len(results)} student(s): " + ", ".join(str(p) for p in written))
    return 0


def _similarity(args: argparse.Namespace) -> int:
    try:
        import copydetect  # noqa: F401 - only to say what is missing

        from practicum.grader.export import similarity
    except ImportError:
        print("grader similarity: needs copydetect (pip install copydetect)", file=sys.stderr)
        return 2
    if not Path(args.submissions).is_dir():
        print(f"grader similarity: {args.submissions} is not a folder", file=sys.stderr)
        return 2
    pairs = similarity.write_similarity(args.submissions, Path(args.out), args.task or None)
    for pair in pairs[:5]:
        print(f"{pair.task}: {pair.first} and {pair.second}: {100 * pair.score:.0f} %")
    print(f"grader similarity: {len(pairs)} pair(s): {Path(args.out) / 'similarity.html'}")
    return 0


def _gradescope(args: argparse.Namespace) -> int:
    from practicum.grader.export import gradescope

    tasks = list(args.task)
    if args.assignment:
        try:
            tasks += gradescope.assignment_tasks(args.assignment)
        except ValueError as error:
            print(f"grader gradescope: {error}", file=sys.stderr)
            return 2
    path = gradescope.build_autograder(Path(args.out), root=practicum.REPO_ROOT, tasks=tasks)
    print(f"Gradescope autograder: {path}")
    return 0


def _check(args: argparse.Namespace) -> int:
    import pytest

    # This process imported the plugin and hypothesis already: pytest cannot rewrite their
    # asserts, and need not tell a student so. The plugin prints the summary of the tasks.
    options = [
        str(practicum.REPO_ROOT / "tests" / "public"),
        "--impl",
        args.impl,
        "-q",
        "--no-header",
        "-p",
        "no:cacheprovider",
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
    ]
    for task in args.task:
        options += ["--task", task]
    return int(pytest.main(options))


def _demo(args: argparse.Namespace) -> int:
    status = _release(args)
    if status:
        return status
    print("\ngrading the reference solutions and the student stubs with the hidden tests...")
    return compare(["solutions", "exercises"], sandbox=args.sandbox)


def _notebooks(args: argparse.Namespace) -> int:
    from practicum.grader.authoring import source_notebooks

    if not (practicum.REPO_ROOT / "solutions").is_dir():
        print("grader notebooks: no solutions/ here (this is a student copy)", file=sys.stderr)
        return 2
    course = Path(args.course) if args.course else None
    if args.check:
        problems = source_notebooks.stale_notebooks(course)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("run `grader notebooks` to regenerate them", file=sys.stderr)
            return 1
        print("the nbgrader source notebooks are up to date")
        return 0
    for path in source_notebooks.write_notebooks(course):
        print(f"wrote {path}")
    return 0


def _nbgrader_autograde(args: argparse.Namespace) -> int:
    from practicum.grader.export import nbgrader_gradebook

    return nbgrader_gradebook.main(args)


def sandbox_options() -> argparse.ArgumentParser:
    """``--sandbox`` and ``--timeout``: where submitted code runs, for every command."""
    from practicum.grader.sandbox import MODES

    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--sandbox",
        choices=["auto", *MODES],
        default="auto",
        help="where the submission runs: auto (default: bwrap where it "
        "works here, else process), bwrap, process, or off (in the grader's "
        "own process: only for code you trust)",
    )
    options.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="wall-time limit of one sandboxed call, in seconds",
    )
    return options


def running_options(sandboxing: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of every command that runs the task tests on submitted code."""
    options = argparse.ArgumentParser(add_help=False, parents=[sandboxing])
    options.add_argument(
        "--reference", default="solutions", help="the reference solution set (default: solutions)"
    )
    options.add_argument(
        "--task",
        action="append",
        default=[],
        help="only this task (repeatable; default: every task)",
    )
    options.add_argument(
        "--force",
        action="store_true",
        help="grade against a --reference even if it fails its public tests",
    )
    return options


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grader", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    default_release = str(practicum.REPO_ROOT / "build" / "student")
    sandboxing = sandbox_options()
    running = running_options(sandboxing)

    rel = commands.add_parser("release", help="generate exercises/ and the student release")
    rel.add_argument("--student-dir", default=default_release)
    rel.set_defaults(run=_release)

    chk = commands.add_parser("check", help="run the public tests on your exercises")
    chk.add_argument("task", nargs="*", help="only these tasks (e.g. style_losses)")
    chk.add_argument("--impl", default="exercises")
    chk.set_defaults(run=_check)

    grd = commands.add_parser(
        "grade",
        parents=[running],
        help="grade ONE submission (a folder of modules or notebooks) "
        "and write its reports (report.md, report.html, results.json)",
    )
    grd.add_argument("submission")
    grd.add_argument("--out", required=True, help="the folder for the reports")
    grd.add_argument("--config", default=None, help="points per task (default grading.toml)")
    grd.add_argument("--student", default=None, help="the name in the reports")
    grd.add_argument(
        "--submitted-at", default=None, help="when it was handed in (ISO 8601), for [late]"
    )
    grd.add_argument("--no-reference-check", action="store_true", help=argparse.SUPPRESS)
    grd.set_defaults(run=_grade)

    cmp = commands.add_parser(
        "compare", parents=[running], help="the score table of several implementations"
    )
    cmp.add_argument("impl", nargs="+", help="exercises, solutions or a directory of modules")
    cmp.add_argument(
        "--visibility", nargs="+", default=["public", "hidden"], choices=["public", "hidden"]
    )
    cmp.add_argument("--json", help="also write every test's outcome to this file")
    cmp.set_defaults(run=_compare)

    gall = commands.add_parser(
        "grade-all", parents=[running], help="grade every student folder, in parallel, resumably"
    )
    gall.add_argument("submissions", help="a folder with one subfolder per student")
    gall.add_argument("--out", required=True, help="reports per student and class.csv")
    gall.add_argument("-j", "--jobs", type=int, default=2)
    gall.add_argument("--config", default=None)
    gall.add_argument(
        "--rescore",
        action="store_true",
        help="only rescore stored outcomes (after a points change); run no student code",
    )
    gall.add_argument(
        "--roster",
        default=None,
        help="a CSV (id, first_name, last_name, email): lists missing "
        "students and folders not on it",
    )
    gall.add_argument(
        "--times", default=None, help="a CSV (student, submitted_at) for grading.toml's [late]"
    )
    gall.set_defaults(run=_grade_all)

    exp = commands.add_parser(
        "export", help="grades for an LMS: Canvas's gradebook CSV, every outcome as CSV or JSON"
    )
    exp.add_argument("format", choices=["canvas", "outcomes", "json"])
    exp.add_argument("graded", help="the --out folder of grader grade-all")
    exp.add_argument("--out", required=True, help="the file to write")
    exp.add_argument("--roster", default=None, help="canvas: the roster CSV (lms_user_id, ...)")
    exp.add_argument("--column", default="Practicum", help="canvas: the assignment's column")
    exp.set_defaults(run=_export)

    sts = commands.add_parser(
        "stats", help="per-test pass rates, common mistakes and score plots of a graded class"
    )
    sts.add_argument("graded", help="the --out folder of grader grade-all")
    sts.add_argument("--out", required=True, help="the folder for tests.csv, stats.md, PNGs")
    sts.set_defaults(run=_stats)

    sim = commands.add_parser(
        "similarity", help="the most similar pairs of submissions (informs, never scores)"
    )
    sim.add_argument("submissions", help="a folder with one subfolder per student")
    sim.add_argument("--out", required=True, help="the folder for similarity.html and .csv")
    sim.add_argument("--task", action="append", default=[], help="only these tasks")
    sim.set_defaults(run=_similarity)

    gs = commands.add_parser("gradescope", help="Gradescope autograder")
    gs.add_argument("action", choices=["build"])
    gs.add_argument("--out", default="autograder.zip")
    gs.add_argument(
        "--task", action="append", default=[], help="grade only these tasks (default: every task)"
    )
    gs.add_argument(
        "--assignment", default=None, help="only the tasks of this nbgrader assignment (A2, A3)"
    )
    gs.set_defaults(run=_gradescope)

    nbs = commands.add_parser(
        "notebooks", help="write the nbgrader source notebooks (nbgrader/source/) from solutions/"
    )
    nbs.add_argument(
        "--check",
        action="store_true",
        help="only say whether the committed notebooks are up to date",
    )
    nbs.add_argument(
        "--course",
        default=None,
        help="the nbgrader course directory (default: nbgrader/ in the repository)",
    )
    nbs.set_defaults(run=_notebooks)

    nba = commands.add_parser(
        "nbgrader-autograde",
        parents=[sandboxing],
        help="grade nbgrader's submitted/ notebooks in the sandbox and "
        "write the scores into nbgrader's gradebook",
    )
    nba.add_argument("course", help="the nbgrader course directory (nbgrader_config.py)")
    nba.add_argument("assignment", help="the assignment, e.g. assignment3")
    nba.add_argument(
        "--student",
        action="append",
        default=[],
        help="only this student (repeatable; default: every submission)",
    )
    nba.add_argument(
        "--db", default=None, help="the gradebook's URL (default: sqlite:///COURSE/gradebook.db)"
    )
    nba.set_defaults(run=_nbgrader_autograde)

    server = commands.add_parser("grade-server", help=argparse.SUPPRESS)  # grade-all's own
    server.add_argument("reply_fd", type=int)
    server.set_defaults(run=_grade_server)

    demo = commands.add_parser(
        "demo", parents=[sandboxing], help="release, then compare solutions and exercises"
    )
    demo.add_argument("--student-dir", default=default_release)
    demo.set_defaults(run=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
