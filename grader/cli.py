"""``grader``: the command line for the course's workflow.

    grader release [--student-dir DIR]   solutions/ -> exercises/, and the student release
    grader check [TASK ...]              a student's public tests, with a friendly summary
    grader grade IMPL [IMPL ...]         task tests (public and hidden) -> scores per task
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


def _grade(args: argparse.Namespace) -> int:
    table, report = {}, {}
    for impl in args.impl:
        outcomes = grade.run_task_tests(impl, reference=args.reference, tasks=args.task,
                                        visibility=args.visibility)
        if not outcomes:
            print(f"grader grade: no task tests ran for {impl}", file=sys.stderr)
            return 1
        table[impl] = grade.score_by_task(outcomes)
        report[impl] = [outcome.__dict__ for outcome in outcomes]
    print(grade.format_score_table(table))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return 0


def _check(args: argparse.Namespace) -> int:
    import pytest

    root = practicum.REPO_ROOT
    options = [str(root / "tests" / "public"), "--impl", args.impl, "-q", "--no-header",
               "-p", "no:cacheprovider", "--tb=no", "-rN"]
    for task in args.task:
        options += ["--task", task]
    return int(pytest.main(options))


def _demo(args: argparse.Namespace) -> int:
    status = _release(argparse.Namespace(student_dir=args.student_dir))
    if status:
        return status
    print("\ngrading the reference solutions and the student stubs with the hidden tests...")
    return _grade(argparse.Namespace(impl=["solutions", "exercises"], reference="solutions",
                                     task=[], visibility=("public", "hidden"), json=None))


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
    grd.set_defaults(run=_grade)

    demo = commands.add_parser("demo", help="release, then grade solutions and exercises")
    demo.add_argument("--student-dir", default=default_release)
    demo.set_defaults(run=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
