"""Build the sdist and wheel as PyPI would get them and check what they hold.

Run by `nox -s package` (part of `make test`). Builds into dist/ with `python -m build`
(the wheel is built from the sdist, so a file missing from the sdist fails here too), runs
`twine check --strict`, then asserts:
- the wheel holds every file git tracks under oidc_provider/ (templates, static files,
  migrations, locale, py.typed) and nothing else but its .dist-info (no tests/, bench/,
  example_project/);
- the sdist holds the same package files plus README.md, LICENSE, CHANGELOG.md, pyproject.toml,
  and nothing from tests/, bench/ or example_project/;
- the metadata's classifiers and Requires-Python name exactly the Django/Python pairs of
  noxfile.py, and the license is BSD-3-Clause with LICENSE inside.
"""

from __future__ import annotations

import email
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
SDIST_EXTRAS = {"README.md", "LICENSE", "CHANGELOG.md", "pyproject.toml"}
SDIST_NEVER = ("tests/", "bench/", "example_project/", ".nox/", ".venv/", "artifacts/", "dist/")


def run(*cmd: str) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)


def tracked_package_files() -> set[str]:
    out = subprocess.run(
        ["git", "ls-files", "oidc_provider"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    files = {line for line in out.splitlines() if line}
    # Compiled catalogues are built from the .po files and may be untracked.
    files |= {str(p.relative_to(ROOT)) for p in (ROOT / "oidc_provider").glob("locale/*/LC_MESSAGES/*.mo")}
    return files


def expected_pairs() -> tuple[set[str], set[str]]:
    sys.path.insert(0, str(ROOT))
    import noxfile

    return {d for d, _ in noxfile.PAIRS}, {p for _, p in noxfile.PAIRS}


def check_wheel(wheel: Path, package: set[str], problems: list[str]) -> email.message.Message:
    names = set(zipfile.ZipFile(wheel).namelist())
    info = {n for n in names if n.split("/")[0].endswith(".dist-info")}
    files = names - info
    for missing in sorted(package - files):
        problems.append(f"wheel lacks {missing}")
    for extra in sorted(files - package):
        problems.append(f"wheel holds {extra}, which is not a tracked file of oidc_provider/")
    for required in ("oidc_provider/py.typed", "oidc_provider/migrations/0001_initial.py"):
        if required not in files:
            problems.append(f"wheel lacks {required}")
    if not any(n.startswith("oidc_provider/templates/") for n in files):
        problems.append("wheel holds no templates")
    if not any(n.endswith(".dist-info/licenses/LICENSE") for n in info):
        problems.append("wheel lacks .dist-info/licenses/LICENSE")
    metadata = next(n for n in info if n.endswith("/METADATA"))
    return email.message_from_bytes(zipfile.ZipFile(wheel).read(metadata))


def check_sdist(sdist: Path, package: set[str], problems: list[str]) -> None:
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for missing in sorted((package | SDIST_EXTRAS) - names):
        problems.append(f"sdist lacks {missing}")
    for name in sorted(names):
        if name.startswith(SDIST_NEVER):
            problems.append(f"sdist holds {name}")


def check_metadata(meta: email.message.Message, problems: list[str]) -> None:
    djangos, pythons = expected_pairs()
    classifiers = meta.get_all("Classifier") or []
    declared_django = {c.rsplit(" :: ", 1)[1] for c in classifiers if c.startswith("Framework :: Django :: ")}
    declared_python = {
        c.rsplit(" :: ", 1)[1]
        for c in classifiers
        if c.startswith("Programming Language :: Python :: 3.") and c.count("::") == 2
    }
    if declared_django != djangos:
        problems.append(f"Django classifiers {sorted(declared_django)} != tested {sorted(djangos)}")
    if declared_python != pythons:
        problems.append(f"Python classifiers {sorted(declared_python)} != tested {sorted(pythons)}")
    lowest = min(pythons, key=lambda v: tuple(map(int, v.split("."))))
    if meta["Requires-Python"] != f">={lowest}":
        problems.append(f"Requires-Python {meta['Requires-Python']} != >={lowest}")
    if meta["License-Expression"] != "BSD-3-Clause":
        problems.append(f"License-Expression is {meta['License-Expression']!r}")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    if meta["Version"] != project["version"]:
        problems.append(f"built version {meta['Version']} != pyproject {project['version']}")


def main() -> int:
    shutil.rmtree(DIST, ignore_errors=True)
    run(sys.executable, "-m", "build", "--outdir", str(DIST), ".")
    wheels, sdists = sorted(DIST.glob("*.whl")), sorted(DIST.glob("*.tar.gz"))
    run(sys.executable, "-m", "twine", "check", "--strict", *map(str, wheels + sdists))
    package = tracked_package_files()
    problems: list[str] = []
    meta = check_wheel(wheels[0], package, problems)
    check_sdist(sdists[0], package, problems)
    check_metadata(meta, problems)
    for problem in problems:
        print("!!", problem)
    if problems:
        return 1
    print(f"ok: {wheels[0].name} holds the {len(package)} files of oidc_provider/ and nothing else;")
    print(f"ok: {sdists[0].name}; classifiers and Requires-Python match noxfile.PAIRS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
