"""The supported Django/Python matrix: one nox session per pair (README "Supported versions").

`make test` runs the main pair in .venv (SQLite and PostgreSQL, browser tests included) and every
other pair here on SQLite: `nox -t matrix`, then `nox -s summary` for the pass counts per pair.
`nox -l` lists the sessions; `nox -s django4.2-py3.11 -- -x tests/test_forms.py` runs one.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import nox
import nox.command

MAIN = ("5.2", "3.11")  # Django, Python: the pair of .venv (requirements/test.txt)
PAIRS = [("4.2", "3.11"), MAIN, ("6.0", "3.12"), ("6.0", "3.13"), ("6.1", "3.12"), ("6.1", "3.13")]
# The install check runs once per Django, on both new interpreters between them.
INSTALL_PAIRS = [("4.2", "3.11"), MAIN, ("6.0", "3.12"), ("6.1", "3.13")]
RESULTS = Path("artifacts/matrix")
NOT_RUN = "NOT RUN (no report and no reason to skip)"

nox.options.default_venv_backend = "venv"
nox.options.download_python = "never"  # an interpreter comes from PATH or pyenv, never a download
nox.options.reuse_existing_virtualenvs = True  # pip re-checks the pinned set, fast when unchanged
nox.options.sessions = []  # `nox` alone lists nothing to run: name a session or a tag


def _runs(python: str, version: str) -> bool:
    check = f"import sys; sys.exit(sys.version_info[:2] != {tuple(map(int, version.split('.')))})"
    try:
        return subprocess.run([python, "-c", check], capture_output=True, timeout=30).returncode == 0
    except OSError:
        return False


def _pyenv_root() -> str:
    if shutil.which("pyenv"):
        done = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=30)
        if done.returncode == 0:
            return done.stdout.strip()
    return os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))


def find_python(version: str) -> str | None:
    """pythonX.Y on PATH when it runs (a pyenv shim of an unselected version does not), else pyenv's."""
    found = glob.glob(f"{_pyenv_root()}/versions/{version}.[0-9]*/bin/python{version}")
    newest_first = sorted(found, key=lambda p: [int(n) for n in re.findall(r"\d+", Path(p).parents[1].name)])[
        ::-1
    ]
    for candidate in [shutil.which(f"python{version}"), *newest_first]:
        if candidate and _runs(candidate, version):
            return candidate
    return None


def session_name(django: str, python: str) -> str:
    return f"django{django}-py{python}"


def _tests(django: str):
    def tests(session: nox.Session) -> None:
        session.install("-q", "-r", f"requirements/django-{django}.txt")
        RESULTS.mkdir(parents=True, exist_ok=True)
        report = RESULTS / f"{session.name}.xml"
        # Browser tests run once, in .venv: the matrix sets leave out Playwright.
        browserless = ["-m", "not browser", "--ignore=tests/test_browser.py"]
        session.run("python", "-m", "pytest", "-q", *browserless, f"--junitxml={report}", *session.posargs)

    return tests


def _missing(python: str):
    def missing(session: nox.Session) -> None:
        RESULTS.mkdir(parents=True, exist_ok=True)
        reason = f"python{python} not found on PATH nor under {_pyenv_root()}/versions"
        (RESULTS / f"{session.name}.skipped").write_text(reason)
        session.warn(f"!! PAIR SKIPPED: {reason} !!")
        session.skip(reason)

    return missing


for _django, _python in PAIRS:
    _interpreter = find_python(_python)
    _tags = [] if (_django, _python) == MAIN else ["matrix"]
    if _interpreter:
        nox.session(name=session_name(_django, _python), python=_interpreter, tags=_tags)(_tests(_django))
    else:
        nox.session(name=session_name(_django, _python), python=False, tags=_tags)(_missing(_python))


@nox.session(python=False)
def package(session: nox.Session) -> None:
    """Build the sdist and wheel, twine check, and check what they hold (.ci/check_dist.py)."""
    session.run(sys.executable, ".ci/check_dist.py")  # nox's interpreter: .venv, with build and twine


@nox.session(python=False, requires=["package"])
def install(session: nox.Session) -> None:
    """Each Django (INSTALL_PAIRS): the wheel into a clean venv, README's install section in a new project."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (wheel,) = Path("dist").glob("*.whl")
    failed = []
    for django, python in INSTALL_PAIRS:
        outcome = RESULTS / f"install-{session_name(django, python)}"
        interpreter = find_python(python)
        if interpreter is None:
            outcome.write_text(f"skipped: python{python} not found")
            session.warn(f"!! INSTALL CHECK SKIPPED for {session_name(django, python)}: no python{python} !!")
            continue
        constraints = f"requirements/django-{django}.txt"
        try:
            session.run(
                sys.executable,
                ".ci/try_install.py",
                "--python",
                interpreter,
                "--constraints",
                constraints,
                str(wheel),
            )
            outcome.write_text("ok")
        except nox.command.CommandFailed:
            outcome.write_text("FAILED")
            failed.append(session_name(django, python))
    if failed:
        session.error(f"install check failed for {', '.join(failed)}")


def _counts(report: Path) -> dict[str, int]:
    suites = ET.parse(report).getroot()
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites.iter("testsuite"):
        for key in total:
            total[key] += int(suite.get(key, 0))
    return {
        "passed": total["tests"] - total["failures"] - total["errors"] - total["skipped"],
        "failed": total["failures"] + total["errors"],
        "skipped": total["skipped"],
    }


def _outcome(stem: str) -> tuple[dict[str, int] | None, str]:
    report, skipped = RESULTS / f"{stem}.xml", RESULTS / f"{stem}.skipped"
    if report.exists():
        return _counts(report), ""
    return None, skipped.read_text() if skipped.exists() else NOT_RUN


def _install(pair: str) -> str:
    outcome = RESULTS / f"install-{pair}"
    if outcome.exists():
        return outcome.read_text()
    return "not run" if pair in {session_name(*p) for p in INSTALL_PAIRS} else "(once per Django)"


def _rows() -> list[tuple[str, str, dict[str, int] | None, str, str]]:
    """(pair, database, counts or None, why not, install check) for every run of the matrix."""
    main = session_name(*MAIN)
    runs = [(main, f"{db} (.venv)", f"{main}-{db}") for db in ("sqlite", "postgres")]
    runs += [(session_name(d, p), "sqlite", session_name(d, p)) for d, p in PAIRS if (d, p) != MAIN]
    return [(pair, db, *_outcome(stem), _install(pair)) for pair, db, stem in runs]


@nox.session(python=False)
def summary(session: nox.Session) -> None:
    """Pass counts per pair from the JUnit reports of this run; fails when a pair failed or is missing."""
    rows = _rows()
    lines = [
        f"{'pair':<18} {'database':<17} {'passed':>6} {'failed':>6} {'skipped':>7}  wheel + README install"
    ]
    total = {"passed": 0, "failed": 0, "skipped": 0}
    for pair, db, counts, why, installed in rows:
        if counts is None:
            lines.append(f"{pair:<18} {db:<17} !! SKIPPED: {why}")
            continue
        numbers = f"{counts['passed']:>6} {counts['failed']:>6} {counts['skipped']:>7}"
        lines.append(f"{pair:<18} {db:<17} {numbers}  {installed if db != 'postgres (.venv)' else ''}")
        for key in total:
            total[key] += counts[key]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "summary.json").write_text(json.dumps(rows, indent=1))
    print("\n== Django/Python matrix (README: Supported versions)\n" + "\n".join(lines))
    # The plain closing line CI reads: N passed, N failed (then N skipped).
    print(f"matrix: {total['passed']} passed, {total['failed']} failed, {total['skipped']} skipped")
    if total["failed"] or any(row[3] == NOT_RUN or row[4] == "FAILED" for row in rows):
        session.error("a pair failed")
