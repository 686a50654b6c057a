"""The pytest side of the course: choosing implementations, markers, and results.

Loaded for every run of the course's tests (``addopts = "-p
practicum.grader.running.pytest_plugin"`` in ``pyproject.toml``). It adds:

* ``--impl exercises|solutions|PATH``: the implementation under test (default: the
  student's ``exercises``), reached through the ``candidate`` fixture;
* ``--reference solutions|PATH``: the reference solution set that gives expected values
  (default ``solutions``), reached through the ``reference`` fixture;
* ``--grade-report FILE``: writes every task test's outcome and feedback as JSON, which
  the grader turns into scores, with the answer functions the test exercised
  (``functions``) and those it checked against the reference (``value_test_for``), which
  :func:`practicum.grader.grading.scoring.score_task` uses to withhold points a degenerate answer
  could earn (see :mod:`.gating`);
* the ``value_test`` marker: a test that checks values only a right answer has without
  calling the reference (independently computed values on drawn inputs);
* a check that every test under ``tests/public`` and ``tests/hidden`` is marked
  ``public`` or ``hidden`` and names its ``task``;
* hypothesis profiles: ``dev`` (the default: random, quick) and ``grading``
  (derandomised, so two gradings of one submission agree).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

# TensorFlow's C++ start-up lines (oneDNN, CUDA drivers) are noise in a student's run.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402
from hypothesis import HealthCheck, Phase, settings  # noqa: E402

from practicum.grader.running.feedback import (
    feedback_message,
    quiet_sections,
    task_summary,
    without_stub_text,
)
from practicum.grader.running.gating import CourseFunctions
from practicum.grader.running.proxy import Candidate, InProcessBackend, MissingImplementation

_COMMON = dict(
    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
# Students get shrunk (minimal) failing examples, without hypothesis's "Explanation" of
# which lines of the course's helpers ran (noise to a student, and slow).
settings.register_profile(
    "dev",
    max_examples=15,
    phases=[phase for phase in Phase if phase is not Phase.explain],
    **_COMMON,
)
# Grading reports the first failing example it finds, without the shrinking that can cost
# tens of seconds per wrong function.
settings.register_profile(
    "grading",
    max_examples=25,
    derandomize=True,
    database=None,
    print_blob=False,
    phases=[Phase.explicit, Phase.generate],
    **_COMMON,
)
settings.load_profile(os.environ.get("PRACTICUM_HYPOTHESIS_PROFILE", "dev"))

NAMED_IMPLEMENTATIONS = ("exercises", "solutions")
TASK_TEST_DIRS = {"public": "tests/public", "hidden": "tests/hidden"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("practicum", "course exercises")
    group.addoption(
        "--impl",
        default="exercises",
        metavar="exercises|solutions|PATH",
        help="implementation under test (default: exercises)",
    )
    group.addoption(
        "--reference",
        default="solutions",
        metavar="solutions|PATH",
        help="reference solution set for expected values (default: solutions)",
    )
    group.addoption(
        "--task",
        action="append",
        default=[],
        metavar="NAME",
        help="run only the tests of this task (module); repeatable",
    )
    group.addoption(
        "--grade-report",
        default=None,
        metavar="FILE",
        help="write each task test's outcome and feedback to FILE as JSON",
    )
    group.addoption(
        "--grading-config",
        default=None,
        metavar="FILE",
        help="grading.toml for the tests that read it (the challenge's budgets and "
        "thresholds; default: the course's grading.toml)",
    )
    group.addoption(
        "--sandbox",
        default="off",
        choices=["auto", *sandbox_modes()],
        help="where the --impl code runs: off (in this process, the default), "
        "process (a worker subprocess with limits), bwrap (that worker inside "
        "bubblewrap), auto (bwrap if it works here, else process)",
    )
    group.addoption(
        "--sandbox-timeout",
        default=60.0,
        type=float,
        metavar="SECONDS",
        help="wall-time limit of one sandboxed call (default 60)",
    )


def sandbox_modes() -> tuple[str, ...]:
    from practicum.grader.sandbox import MODES

    return MODES


def resolve_implementation(name: str, rootpath: Path) -> Path:
    """Maps ``exercises``/``solutions`` to the course's folders, anything else to a path."""
    if name in NAMED_IMPLEMENTATIONS:
        return rootpath / name
    return Path(name).expanduser().resolve()


def pytest_configure(config: pytest.Config) -> None:
    for option in ("impl", "reference"):
        path = resolve_implementation(config.getoption(option), config.rootpath)
        if option == "impl" and not path.is_dir():
            raise pytest.UsageError(
                f"Received: --impl {config.getoption(option)}, expected 'exercises', "
                f"'solutions' or a directory of modules ({path} is not a directory)"
            )
    config._practicum_results = []  # type: ignore[attr-defined]
    config.pluginmanager.register(_ResultRows(config), "practicum-result-rows")
    config._practicum_calls = CallRecorder(CourseFunctions(config.rootpath))  # type: ignore[attr-defined]
    config.addinivalue_line(
        "markers",
        "value_test: checks values only a right answer has (without the "
        "reference): its passing vouches for the functions it calls, as a comparison with "
        "the reference does",
    )


@pytest.fixture(scope="session")
def candidate(pytestconfig: pytest.Config) -> Iterator[Candidate]:
    """The implementation under test (``--impl``), behind the proxy; with ``--sandbox``
    other than ``off``, its code runs in a sandboxed worker process."""
    option = pytestconfig.getoption("impl")
    path = resolve_implementation(option, pytestconfig.rootpath)
    mode = pytestconfig.getoption("sandbox")
    if mode == "off":
        proxy = Candidate(InProcessBackend(path), label=option)
        pytestconfig._practicum_calls.watch("candidate", proxy)  # type: ignore[attr-defined]
        yield proxy
        return
    backend = getattr(pytestconfig, "_practicum_early_backend", None)
    pytestconfig._practicum_early_backend = None  # type: ignore[attr-defined]
    try:
        backend = backend or sandbox_backend(pytestconfig, path, quiet=False)
    except (RuntimeError, ValueError) as error:
        raise pytest.UsageError(str(error)) from None
    with backend:
        proxy = Candidate(backend, label=option)
        pytestconfig._practicum_calls.watch("candidate", proxy)  # type: ignore[attr-defined]
        yield proxy


def sandbox_backend(config: pytest.Config, path: Path, quiet: bool, tensorflow: bool = True):
    from practicum.grader.sandbox import SandboxBackend

    return SandboxBackend(
        path,
        mode=config.getoption("sandbox"),
        call_timeout=config.getoption("sandbox_timeout"),
        time_budget=grading_config_of(config).time_budget,
        quiet=quiet,
        tensorflow=tensorflow,
    )


IMPORTS_TENSORFLOW = re.compile(r"^\s*(import|from) (tensorflow|keras)\b", re.M)


def needs_tensorflow(folder: Path, tasks: set[str], *, trusted: bool) -> bool:
    """Whether a task module of ``folder`` needs TensorFlow: the reference (``trusted``)
    when it imports it, a submission when it merely mentions it (its first 4 MB; never
    through a symbolic link)."""
    for task in tasks:
        source = folder / f"{task}.py"
        if source.is_symlink() or not source.is_file():
            continue
        with source.open("rb") as file:
            text = file.read(4 * 2**20).decode(errors="replace")
        if (
            IMPORTS_TENSORFLOW.search(text)
            if trusted
            else ("tensorflow" in text or "keras" in text)
        ):
            return True
    return False


def pytest_collection_finish(session: pytest.Session) -> None:
    """With a sandbox, the worker starts now, in the background: its TensorFlow import
    overlaps the grader's own (imported here when a collected task's reference needs it)."""
    config = session.config
    if config.getoption("sandbox") == "off" or hasattr(config, "workerinput"):
        return
    tasks = {task_of(item) for item in session.items} - {None}
    if not tasks:
        return
    impl = resolve_implementation(config.getoption("impl"), config.rootpath)
    reference = resolve_implementation(config.getoption("reference"), config.rootpath)
    reference_needs = needs_tensorflow(reference, tasks, trusted=True)
    tensorflow = reference_needs or needs_tensorflow(impl, tasks, trusted=False)
    try:
        backend = sandbox_backend(config, impl, quiet=False, tensorflow=tensorflow)
    except (RuntimeError, ValueError):
        return  # the candidate fixture raises it as a usage error
    backend.start_early()
    config._practicum_early_backend = backend  # type: ignore[attr-defined]
    if reference_needs:
        import tensorflow  # noqa: F401 - now, while the worker starts


def pytest_unconfigure(config: pytest.Config) -> None:
    backend = getattr(config, "_practicum_early_backend", None)
    if backend is not None:  # no test asked for the candidate
        backend.close()


def grading_config_of(config: pytest.Config):
    """The grading configuration (``--grading-config``, else the course's grading.toml)."""
    cached = getattr(config, "_practicum_grading_config", None)
    if cached is None:
        from practicum.grader.grading.scoring import load_config

        option = config.getoption("grading_config")
        path = Path(option) if option else config.rootpath / "grading.toml"
        try:
            cached = load_config(path)
        except ValueError as error:
            raise pytest.UsageError(str(error)) from None
        config._practicum_grading_config = cached  # type: ignore[attr-defined]
    return cached


@pytest.fixture(scope="session")
def grading_config(pytestconfig: pytest.Config):
    """What ``grading.toml`` says (:class:`practicum.grader.grading.scoring.GradingConfig`)."""
    return grading_config_of(pytestconfig)


@pytest.fixture(scope="session")
def reference(pytestconfig: pytest.Config) -> Candidate:
    """The reference solution set (``--reference``), behind the same kind of proxy."""
    option = pytestconfig.getoption("reference")
    path = resolve_implementation(option, pytestconfig.rootpath)
    if not path.is_dir():
        pytest.fail(f"no reference solutions at {path}: pass --reference PATH", pytrace=False)
    proxy = Candidate(InProcessBackend(path), label=option)
    pytestconfig._practicum_calls.watch("reference", proxy)  # type: ignore[attr-defined]
    return proxy


# --------------------------------------------------------------------------- calls


class CallRecorder:
    """Which functions each test called on the candidate and on the reference, from the
    proxies' journals: calls made in the test itself and in the set-up of every fixture it
    uses (a module-scoped fixture that calls the candidate once counts for each test that
    uses it)."""

    def __init__(self, functions: CourseFunctions) -> None:
        self.functions = functions
        self.journals: dict[str, list] = {}
        self.by_fixture: dict[object, dict[str, set]] = {}

    def watch(self, side: str, proxy: Candidate) -> None:
        self.journals[side] = proxy.journal

    def positions(self) -> dict[str, int]:
        return {side: len(journal) for side, journal in self.journals.items()}

    def since(self, start: dict[str, int]) -> dict[str, set]:
        return {side: set(journal[start.get(side, 0) :]) for side, journal in self.journals.items()}

    def forget(self) -> None:
        """Clears the journals (between tests: everything needed later is kept)."""
        for journal in self.journals.values():
            del journal[:]

    def fields(self, item: pytest.Item, start: dict[str, int]) -> dict[str, list[str]]:
        """The row fields ``functions`` and ``value_test_for`` of one test."""
        seen = self.since(start)
        info = getattr(item, "_fixtureinfo", None)
        for name in getattr(item, "fixturenames", ()):
            definitions = info.name2fixturedefs.get(name) if info is not None else None
            recorded = self.by_fixture.get(definitions[-1]) if definitions else None
            for side, calls in (recorded or {}).items():
                seen.setdefault(side, set()).update(calls)
        called = {(module, function) for module, function, _ in seen.get("candidate", ())}
        returned = {(module, function) for module, function, ok in seen.get("candidate", ()) if ok}
        if item.get_closest_marker("value_test"):
            compared = called
        else:
            compared = returned & {
                (module, function) for module, function, ok in seen.get("reference", ()) if ok
            }
        return {
            "functions": self.functions.reached(called),
            "value_test_for": self.functions.reached(compared),
        }


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    recorder = getattr(request.config, "_practicum_calls", None)
    start = recorder.positions() if recorder else {}
    yield
    if recorder is not None:
        recorder.by_fixture[fixturedef] = recorder.since(start)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem):
    recorder = getattr(item.config, "_practicum_calls", None)
    if recorder is not None:
        item.stash[_CALLS_START] = recorder.positions()
    yield
    if recorder is not None:
        recorder.forget()


_CALLS_START = pytest.StashKey[dict]()


# --------------------------------------------------------------------------- markers


def task_of(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("task")
    return marker.args[0] if marker and marker.args else None


def visibility_of(item: pytest.Item) -> str | None:
    kinds = [kind for kind in TASK_TEST_DIRS if item.get_closest_marker(kind)]
    return kinds[0] if len(kinds) == 1 else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    problems = []
    for item in items:
        relative = Path(item.path).resolve()
        for kind, folder in TASK_TEST_DIRS.items():
            if (config.rootpath / folder) in relative.parents:
                if visibility_of(item) != kind or task_of(item) is None:
                    problems.append(
                        f"{item.nodeid}: a test in {folder}/ must be marked "
                        f"'{kind}' (and only that) and name its task with @pytest.mark.task"
                    )
    if problems:
        raise pytest.UsageError("\n".join(problems))
    if items and all(task_of(item) for item in items) and not _asked_for_report_chars(config):
        # The "tasks" section lists the failures; pytest's FAILED list would repeat them.
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and hasattr(reporter, "reportchars"):
            reporter.reportchars = reporter.reportchars.replace("f", "")
    wanted = set(config.getoption("task"))
    if wanted:
        keep = [item for item in items if task_of(item) in wanted]
        config.hook.pytest_deselected(items=[item for item in items if item not in keep])
        items[:] = keep


def _asked_for_report_chars(config: pytest.Config) -> bool:
    arguments = [*config.invocation_params.args, *os.environ.get("PYTEST_ADDOPTS", "").split()]
    return any(str(argument).startswith(("-r", "--report-chars")) for argument in arguments)


# --------------------------------------------------------------------------- results


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    task = task_of(item)
    if task is None or report.when not in ("setup", "call"):
        return
    if report.when == "setup" and report.passed:
        return
    message = ""
    if call.excinfo is not None:
        error = call.excinfo.value
        message = feedback_message(error)
        if report.failed and _short_tracebacks(item.config):
            # The student needs the message, not the frames of the course's helpers.
            path, line, _ = item.location
            if isinstance(error, MissingImplementation) and "not implemented yet" in message:
                report.longrepr = without_stub_text(message)
                report.not_implemented = True  # see pytest_runtest_logreport
            else:
                report.longrepr = (
                    f"{message}\n(test: {path}:{line + 1}; --tb=long shows the traceback)"
                )
    row = {
        "nodeid": item.nodeid,
        "name": item.name,
        "task": task,
        "visibility": visibility_of(item),
        "outcome": "passed" if report.passed else "skipped" if report.skipped else "failed",
        "message": message[:4000],
    }
    recorder = getattr(item.config, "_practicum_calls", None)
    if recorder is not None:
        row.update(recorder.fields(item, item.stash.get(_CALLS_START, {})))
    row.update(measured_fields(item))
    # On the report, so that it reaches the controller under pytest-xdist (reports travel
    # as plain data); collected by _ResultRows.
    report.practicum_row = row


class _ResultRows:
    """Collects each test's grade-report row from the reports, where they are logged: in
    this process, or in pytest-xdist's controller for every worker."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        row = getattr(report, "practicum_row", None)
        if isinstance(row, dict):
            self.config._practicum_results.append(row)  # type: ignore[attr-defined]


#: What a test can add to its row with ``record_property``: ``credit`` (the fraction of its
#: points it earns when it passes, e.g. from an accuracy), ``note`` (shown with the result,
#: passed or not) and ``leaderboard`` (``{column: number}``, for Gradescope's leaderboard).
MEASURED = ("credit", "note", "leaderboard")


def measured_fields(item: pytest.Item) -> dict:
    fields = {}
    for name, value in getattr(item, "user_properties", ()):
        if name == "credit" and isinstance(value, (int, float)):
            fields["credit"] = min(1.0, max(0.0, float(value)))
        elif name == "note" and isinstance(value, str):
            fields["note"] = value[:2000]
        elif name == "leaderboard" and isinstance(value, dict):
            fields["leaderboard"] = {
                str(key)[:40]: float(number)
                for key, number in value.items()
                if isinstance(number, (int, float))
            }
    return fields


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """A failure's captured output without TensorFlow's start-up lines; none at all (not
    even hypothesis's seed) for a function that is not written yet."""
    if report.failed:
        sections = [] if getattr(report, "not_implemented", False) else report.sections
        report.sections = quiet_sections(sections)


def _short_tracebacks(config: pytest.Config) -> bool:
    """Whether failures are shown as feedback only (pytest's default ``--tb=auto``)."""
    return config.getoption("tbstyle", "auto") == "auto"


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    results = getattr(config, "_practicum_results", [])
    path = config.getoption("grade_report")
    if path and not hasattr(config, "workerinput"):  # an xdist worker: the controller writes
        Path(path).write_text(json.dumps(results, indent=1))


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    """Per task: how many tests pass, the first failures, and the next thing to do."""
    results = getattr(config, "_practicum_results", [])
    if not results:
        return
    terminalreporter.section("tasks")
    impl = resolve_implementation(config.getoption("impl"), config.rootpath)
    for line in task_summary(results, impl):
        terminalreporter.write_line(line)
