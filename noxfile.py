"""Every workflow of the monorepo is a nox session.

    nox                  lint, tests, triton (interpreter), wheels -- what CI runs
    nox -s example       install Genesis and train Example 1 (the quick start)
    nox -s bench         Genesis vs PyTorch benchmarks, printed as a table
"""

from __future__ import annotations

import pathlib
import sys

import nox

ROOT = pathlib.Path(__file__).parent
PACKAGES = ["genesis-core", "genesis-backend-cpu", "genesis-optim", "genesis-backend-triton"]
TORCH = "torch==2.13.0"  # CPU build; a bare "torch" would pull a multi-GB CUDA build
TRITON = "triton==3.9.0"
TEST_DEPS = [TORCH, "pytest>=8", "matplotlib>=3.7", "tqdm>=4.66"]
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"

nox.options.sessions = ["lint", "tests", "triton", "wheels"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True


def pkg(name: str) -> str:
    return str(ROOT / "packages" / name)


def install_editable(session: nox.Session, *names: str) -> None:
    args = []
    for name in names:
        args += ["-e", pkg(name)]
    session.install(*args)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The whole test suite: every package's tests, cross-package tests, the plugin kit."""
    install_editable(session, "genesis-core", "genesis-backend-cpu", "genesis-optim")
    session.install("-e", str(ROOT / "tests" / "plugins" / "genesis-test-plugins"), *TEST_DEPS)
    session.run("pytest", "-q", "-p", "no:cacheprovider", pkg("genesis-core") + "/tests",
                pkg("genesis-backend-cpu") + "/tests", pkg("genesis-optim") + "/tests",
                str(ROOT / "tests"), *session.posargs)


@nox.session(python=PYTHON)
def triton(session: nox.Session) -> None:
    """The Triton backend under TRITON_INTERPRET=1: conformance kit + kernel tests, no GPU."""
    install_editable(session, "genesis-core", "genesis-backend-cpu", "genesis-optim",
                     "genesis-backend-triton")
    session.install(TRITON, *TEST_DEPS)
    session.run("pytest", "-q", "-p", "no:cacheprovider", pkg("genesis-backend-triton") + "/tests",
                *session.posargs, env={"TRITON_INTERPRET": "1"})


@nox.session(python=PYTHON)
def wheels(session: nox.Session) -> None:
    """Build every package's wheel, then install each alone (with only its declared
    dependencies) and run its tests against the installed wheel, not the source tree."""
    dist = ROOT / ".nox" / "_dist"
    session.install("build")
    session.run("python", "-c", f"import shutil; shutil.rmtree({str(dist)!r}, ignore_errors=True)")
    for name in PACKAGES:
        session.run("python", "-m", "build", "--wheel", "--outdir", str(dist), pkg(name),
                    silent=True)
    find = ["--find-links", str(dist)]
    for name in PACKAGES:  # each distribution installs alone from its wheel
        env_dir = ROOT / ".nox" / f"_wheel-{name}"
        session.run("python", "-m", "venv", "--clear", str(env_dir))
        py = str(env_dir / "bin" / "python")
        session.run(py, "-m", "pip", "install", "-q", "numpy", "pluggy", "scipy", "ml_dtypes",
                    "pytest", external=True)
        session.run(py, "-m", "pip", "install", "-q", *find, name, external=True)
        session.run(py, "-c", f"import importlib.metadata as m; print({name!r}, "
                    f"m.version({name!r}))", external=True)
    # the three pure-Python packages together from wheels: genesis.optim resolves across
    # distributions, and the packages' own test suites pass against the installed code
    env_dir = ROOT / ".nox" / "_wheel-all"
    session.run("python", "-m", "venv", "--clear", str(env_dir))
    py = str(env_dir / "bin" / "python")
    session.run(py, "-m", "pip", "install", "-q", *TEST_DEPS, external=True)
    session.run(py, "-m", "pip", "install", "-q", *find, "genesis-core", "genesis-backend-cpu",
                "genesis-optim", external=True)
    session.run(py, "-c", "import genesis, genesis.optim; assert 'site-packages' in "
                "genesis.optim.__file__, genesis.optim.__file__; print('genesis.optim from',"
                " genesis.optim.__file__)", external=True)
    for name in ("genesis-core", "genesis-backend-cpu", "genesis-optim"):
        session.run(py, "-m", "pytest", "-q", "-p", "no:cacheprovider", pkg(name) + "/tests",
                    external=True)


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    """ruff over the whole tree."""
    session.run("python", "-m", "pip", "install", "-q", "ruff>=0.6", external=True)
    session.run("python", "-m", "ruff", "check", str(ROOT))


@nox.session(python=PYTHON)
def example(session: nox.Session) -> None:
    """Install Genesis and train Example 1, the digits classifier (a real run, ~10 s on 2 cores).

    Extra arguments go to the script, e.g. ``nox -s example -- --resume runs/digits``."""
    install_editable(session, "genesis-core", "genesis-backend-cpu", "genesis-optim")
    session.install("tqdm>=4.66", "matplotlib>=3.7")
    session.run("python", str(ROOT / "examples" / "train_digits.py"), *session.posargs)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Genesis vs PyTorch, same process, medians and ratios (OpenBLAS overrides unset)."""
    install_editable(session, "genesis-core", "genesis-backend-cpu", "genesis-optim")
    session.install(TORCH)
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        # OPENBLAS_CORETYPE/L2_SIZE (set on some machines for old OpenBLAS builds) slow a
        # current numpy: unset them for the benchmark processes only
        session.run("env", "-u", "OPENBLAS_CORETYPE", "-u", "OPENBLAS_L2_SIZE", "python",
                    str(script), *session.posargs, external=True)
