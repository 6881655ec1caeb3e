"""Tests run the Triton kernels in the interpreter unless a CUDA GPU is usable.

``TRITON_INTERPRET=1`` is set before anything imports triton (and before
``genesis`` creates a device), unless ``GENESIS_TRITON_GPU=1`` asks for the
GPU. Tests marked ``gpu`` need pycuda and a device; elsewhere they are skipped
with the reason "no CUDA GPU".
"""

import os

if os.environ.get("GENESIS_TRITON_GPU") != "1":
    os.environ.setdefault("TRITON_INTERPRET", "1")

import pytest  # noqa: E402


def gpu_available() -> bool:
    from genesis_backend_triton._cuda import probe
    return probe()[0] > 0


def pytest_collection_modifyitems(config, items):
    if not any("gpu" in item.keywords for item in items):
        return
    if not gpu_available():
        skip = pytest.mark.skip(reason="no CUDA GPU")
    elif os.environ.get("TRITON_INTERPRET") == "1":
        skip = pytest.mark.skip(reason="a CUDA GPU is present but the kernels run in the "
                                "interpreter: set GENESIS_TRITON_GPU=1 to run the GPU tests")
    else:
        return
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
