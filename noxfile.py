"""Every workflow of the monorepo is a nox session.

    nox                  lint, tests, triton (interpreter), wheels, bench_smoke -- what CI runs
    nox -s example       install Genesis and train Example 1 (the quick start)
    nox -s bench         Genesis vs PyTorch benchmarks: results file and README table
"""

from __future__ import annotations

import pathlib
import sys

import nox

ROOT = pathlib.Path(__file__).parent
PACKAGES = ["genesis-core", "genesis-backend-cpu", "genesis-optim", "genesis-backend-triton",
            "genesis-models"]
TORCH = "torch==2.13.0"  # CPU build; a bare "torch" would pull a multi-GB CUDA build
TRITON = "triton==3.9.0"
TRANSFORMERS = ["transformers>=4.51", "safetensors>=0.4", "peft>=0.13"]  # genesis-models oracles
TEST_DEPS = [TORCH, "pytest>=8", "matplotlib>=3.7", "tqdm>=4.66", *TRANSFORMERS]
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"

nox.options.sessions = ["lint", "tests", "triton", "wheels", "bench_smoke"]
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
    """The whole test suite: every package's tests, cross-package tests, the plugin kit (with
    genesis-backend-cpu's [mpi] extra: the distributed tests launch 2 MPI ranks)."""
    session.install("-e", pkg("genesis-core"), "-e", pkg("genesis-backend-cpu") + "[mpi]",
                    "-e", pkg("genesis-optim"), "-e", pkg("genesis-models"))
    session.install("-e", str(ROOT / "tests" / "plugins" / "genesis-test-plugins"), *TEST_DEPS)
    session.run("pytest", "-q", "-p", "no:cacheprovider", pkg("genesis-core") + "/tests",
                pkg("genesis-backend-cpu") + "/tests", pkg("genesis-optim") + "/tests",
                pkg("genesis-models") + "/tests", str(ROOT / "tests"), *session.posargs)


@nox.session(python=PYTHON)
def triton(session: nox.Session) -> None:
    """The Triton backend under TRITON_INTERPRET=1: conformance kit + kernel tests, no GPU
    (with genesis-backend-cpu's [mpi] extra: the "nccl" backend's 2-rank bootstrap test), and
    the GPU benchmark's harness and smoke run."""
    install_editable(session, "genesis-core", "genesis-backend-cpu[mpi]", "genesis-optim",
                     "genesis-backend-triton", "genesis-models")
    session.install(TRITON, *TEST_DEPS)
    session.run("pytest", "-q", "-p", "no:cacheprovider", pkg("genesis-backend-triton") + "/tests",
                *session.posargs, env={"TRITON_INTERPRET": "1"})
    # the GPU benchmark's harness and smoke run (its LLM rows need genesis-models)
    session.run("pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "benchmarks" / "gpu"),
                env={"TRITON_INTERPRET": "1"})


# What each package's own tests need beyond the package and its declared dependencies:
# other Genesis packages (from the local wheels only) and third-party tools (from the index).
WHEEL_TEST_NEEDS = {
    "genesis-core": (["genesis-backend-cpu"], [TORCH]),  # a device to compute on; torch: oracle
    # genesis.optim drives the compiled optimizer kernels; torch: oracle of the layer kernels
    "genesis-backend-cpu": (["genesis-optim"], [TORCH]),
    "genesis-optim": (["genesis-optim[plot]", "genesis-backend-cpu"], [TORCH]),
    # [mpi]: the "nccl" backend's bootstrap test starts 2 ranks with MPI
    "genesis-backend-triton": (["genesis-backend-cpu[mpi]", "genesis-optim"], [TRITON, TORCH]),
    # genesis-optim: the README's LoRA fine-tune; torch + transformers: oracles
    "genesis-models": (["genesis-backend-cpu", "genesis-optim"], [TORCH, *TRANSFORMERS]),
}
IMPORT_NAMES = {"genesis-core": "genesis", "genesis-backend-cpu": "genesis_backend_cpu",
                "genesis-optim": "genesis.optim",
                "genesis-backend-triton": "genesis_backend_triton",
                "genesis-models": "genesis.models"}
# imports the package (which must come from site-packages, not a source tree), then runs pytest
RUN_FROM_WHEEL = ("import importlib, sys, pytest\n"
                  "module = importlib.import_module(sys.argv[1])\n"
                  "assert 'site-packages' in module.__file__, module.__file__\n"
                  "print(sys.argv[1], 'from', module.__file__, flush=True)\n"
                  "sys.exit(pytest.main(sys.argv[2:]))")


def third_party_requirements(requirements: list[str]) -> list[str]:
    """The non-Genesis requirements of Genesis ``requirements`` (extras included), transitively."""
    from packaging.requirements import Requirement

    found: list[str] = []
    seen: set[str] = set()
    todo = list(requirements)
    while todo:
        req = Requirement(todo.pop())
        if req.name not in PACKAGES:
            found.append(str(req))
            continue
        if str(req) in seen:
            continue
        seen.add(str(req))
        project = nox.project.load_toml(ROOT / "packages" / req.name / "pyproject.toml")
        project = project["project"]
        todo += project.get("dependencies", [])
        for extra in req.extras:
            todo += project["optional-dependencies"][extra]
    return sorted(set(found))


@nox.session(python=PYTHON)
def wheels(session: nox.Session) -> None:
    """Build every package's wheel, then, for each package, a fresh environment holding only
    that wheel, its declared dependencies and what its tests need; import it and run its own
    tests against the installed wheel, not the source tree.

    The Genesis packages install with ``--no-index --find-links <dist>``: the package index
    has an unrelated ``genesis-core``, which must never be picked. Their third-party
    dependencies (numpy, pluggy, scipy, ...) install first, from the index, in a separate call.
    """
    dist = ROOT / ".nox" / "_dist"
    session.install("build")
    session.run("python", "-c", f"import shutil; shutil.rmtree({str(dist)!r}, ignore_errors=True)")
    for name in PACKAGES:
        session.run("python", "-m", "build", "--wheel", "--outdir", str(dist), pkg(name),
                    silent=True)
    for name in PACKAGES:
        local_test_needs, test_tools = WHEEL_TEST_NEEDS[name]
        wanted = [name, *local_test_needs]
        env_dir = ROOT / ".nox" / f"_wheel-{name}"
        session.run("python", "-m", "venv", "--clear", str(env_dir))
        py = str(env_dir / "bin" / "python")
        env = {"PYTHONPATH": ""}  # nothing from a source tree
        session.run(py, "-m", "pip", "install", "-q", *third_party_requirements(wanted),
                    "pytest>=8", *test_tools, external=True, env=env)
        session.run(py, "-m", "pip", "install", "-q", "--no-index", "--find-links", str(dist),
                    *wanted, external=True, env=env)
        session.run(py, "-m", "pip", "check", external=True, env=env)
        if name == "genesis-backend-triton":
            env["TRITON_INTERPRET"] = "1"
        session.chdir(env_dir)  # away from the repository root
        session.run(py, "-c", RUN_FROM_WHEEL, IMPORT_NAMES[name], "-q", "-p", "no:cacheprovider",
                    pkg(name) + "/tests", *session.posargs, external=True, env=env)
        session.chdir(ROOT)


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


def run_benchmarks(session: nox.Session, *args: str) -> None:
    """benchmarks/run.py in a session holding Genesis, PyTorch, transformers and MPI (the
    distributed benchmarks launch their own 2 ranks through genesis-backend-cpu[mpi])."""
    session.install("-e", pkg("genesis-core"), "-e", pkg("genesis-backend-cpu") + "[mpi]",
                    "-e", pkg("genesis-optim"), "-e", pkg("genesis-models"))
    session.install(TORCH, *TRANSFORMERS)
    # OPENBLAS_CORETYPE/L2_SIZE (set on some machines for old OpenBLAS builds) slow a
    # current numpy: unset them for the benchmark process only
    session.run("env", "-u", "OPENBLAS_CORETYPE", "-u", "OPENBLAS_L2_SIZE", "python",
                str(ROOT / "benchmarks" / "run.py"), *args, external=True)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Genesis vs PyTorch, every benchmark: checked, then timed in alternating blocks.

    Writes benchmarks/results/cpu.json and the README's table from it. With arguments,
    they go to benchmarks/run.py and nothing is written, e.g. ``nox -s bench -- --smoke``
    (tiny sizes, checks only) or ``nox -s bench -- bench_optim``."""
    if session.posargs:
        run_benchmarks(session, *session.posargs)
        return
    run_benchmarks(session, "--out", str(ROOT / "benchmarks" / "results" / "cpu.json"))
    session.run("python", str(ROOT / "benchmarks" / "readme_table.py"))


@nox.session(python=PYTHON)
def bench_smoke(session: nox.Session) -> None:
    """CI's run of the benchmarks: every row once on tiny sizes, with its correctness check."""
    run_benchmarks(session, "--smoke")
