"""Compiled one-pass CPU kernels: numba loops, compiled on first use and cached on disk.

numpy runs one pass over memory per ufunc on one core; a chain of elementwise work
(an optimizer step, an activation's backward, a norm row) is many passes. A numba
loop does the chain in one pass on every core. Every compiled kernel keeps its numpy
reference beside it: that path runs when numba is missing (one warning says so), with
``GENESIS_CPU_COMPILED=0``, and for calls under :data:`COMPILED_MIN` elements; the
backend's ``tests/test_compiled_kernels.py`` compares the two.

numba is imported on the first call of a compiled kernel (one large enough), not at
``import genesis`` (it costs ~0.3 s). Compiled code is cached on disk (``cache=True``): in
``__pycache__`` beside the module when that folder is writable, else in numba's
per-user cache folder (read-only installs); ``NUMBA_CACHE_DIR`` overrides both.

Write a kernel as a plain Python function over arrays and scalars, with ``prange``
(imported from here) for the parallel loop, and decorate it with :func:`compiled`::

    @compiled(parallel=True)
    def _scale(x, out, a):
        for i in prange(x.size):
            out[i] = a * x[i]

    if _scale.wanted(x.size):
        launch(_scale, x.size, x, out, 2.0)
    else:
        np.multiply(x, 2.0, out=out)

A kernel may call helpers decorated with ``@compiled(inline=True)`` (compiled into it)
and :func:`float32_from_bits` (a bit cast, for vectorizable ``exp``-like functions).

A parallel kernel also has a serial twin (``kernel.serial``), compiled from the same
source with ``prange`` as ``range``: a parallel region hands work to the other
threads (microseconds, far more on a loaded machine), which small arrays do not repay.
"""

from __future__ import annotations

import hashlib
import os
import threading
import types
import warnings
from collections.abc import Callable
from typing import Any

from genesis_backend_cpu._threads import PARALLEL_MIN, THREADS

#: ``GENESIS_CPU_COMPILED=0`` turns compiled kernels off (the numpy references run)
ENABLED = os.environ.get("GENESIS_CPU_COMPILED", "1") != "0"
#: calls over fewer elements than this run the numpy references: their passes stay in cache,
#: so a compiled loop saves little (the quick start's 17K-parameter AdamW step: ~0.2 s over
#: its 900 steps), less than importing numba and loading its kernels costs (~0.5 s); a
#: program that only touches small arrays never imports numba nor compiles anything
COMPILED_MIN = 1 << 16

#: ``fastmath`` flags for kernels whose sums may be reassociated, so that they vectorize with
#: several partial sums (as numpy's pairwise sums do); nothing else is relaxed
REASSOC = {"reassoc"}

# Until numba is imported, ``prange`` is ``range``; a kernel's module global is
# swapped for ``numba.prange`` just before numba compiles it.
prange = range


def float32_from_bits(bits: int) -> float:
    """The float32 whose bit pattern is the int32 ``bits`` (in compiled code: a register move,
    so loops using it still vectorize; swapped in like ``prange``)."""
    import numpy as np
    return float(np.array(bits, np.int32).view(np.float32))


def _numba_float32_from_bits(numba: Any) -> Any:
    from llvmlite import ir

    @numba.extending.intrinsic
    def bitcast(typingctx, bits):
        def codegen(context, builder, signature, args):
            return builder.bitcast(builder.trunc(args[0], ir.IntType(32))
                                   if args[0].type.width > 32 else args[0], ir.FloatType())
        return numba.types.float32(bits), codegen

    @numba.njit(inline="always")
    def float32_from_bits(bits):
        return bitcast(bits)
    return float32_from_bits


#: placeholder globals of kernel modules -> their compiled versions (built once numba imports)
_SWAPS: dict[str, Callable[[Any], Any]] = {
    "prange": lambda numba: numba.prange,
    "float32_from_bits": _numba_float32_from_bits,
}
_swapped: dict[str, Any] = {}

_numba: Any = None
_import_failed = False
_lock = threading.Lock()
# held while a parallel build runs: the workqueue layer aborts the process on a second
# concurrent launch, so a kernel called while another thread's runs takes its serial twin
_launching = threading.Lock()


def numba_module() -> Any:
    """The numba module, imported on first use; None when unavailable or turned off."""
    global _numba, _import_failed
    if not ENABLED or _import_failed:
        return None
    if _numba is None:
        with _lock:
            if _numba is None and not _import_failed:
                try:
                    import numba
                except Exception as exc:  # missing, or broken against this numpy
                    _import_failed = True
                    warnings.warn(
                        f"genesis-backend-cpu: numba is unavailable ({exc!r}); compiled "
                        "kernels are off and the numpy kernels (slower) run instead",
                        RuntimeWarning, stacklevel=3)
                    return None
                if "NUMBA_THREADING_LAYER" not in os.environ:
                    # numba's OpenMP layer keeps its threads spinning after each parallel
                    # loop, where they fight OpenBLAS's (and torch's) threads for the 2
                    # cores: measured, a residual CNN step 178 -> 133 ms and a Transformer
                    # encoder step 184 -> 100 ms with the workqueue layer, whose threads
                    # sleep. It allows one launch at a time: see CompiledKernel.__call__.
                    numba.config.THREADING_LAYER = "workqueue"
                _numba = numba
    return _numba


class CompiledKernel:
    """A numba-compiled function, compiled on its first call (per argument types)."""

    def __init__(self, fn: Callable, parallel: bool, fastmath: bool | set[str],
                 inline: bool | str) -> None:
        self.fn = fn
        self.__name__ = fn.__name__
        self.__doc__ = fn.__doc__
        self._parallel = parallel
        self._fastmath = fastmath
        self._inline = inline
        self._jitted: Callable | None = None
        self._serial: Callable | None = None

    def available(self) -> bool:
        """True when numba imports (and compiled kernels are on)."""
        return numba_module() is not None

    def wanted(self, size: int) -> bool:
        """Whether a call over ``size`` elements should run compiled: large enough
        (:data:`COMPILED_MIN`) and numba available (imported only when large enough)."""
        return size >= COMPILED_MIN and self.available()

    def _compile(self, serial: bool) -> Callable:
        numba = numba_module()
        if numba is None:
            raise RuntimeError(f"{self.__name__}: numba is unavailable; call the numpy "
                               "reference instead (check .wanted() or .available() first)")
        with _lock:
            return self._build(numba, serial)

    def _build(self, numba: Any, serial: bool = False) -> Callable:
        """The dispatcher of the build asked for (numba compiles it on its first call)."""
        _swap_globals(self.fn, numba)
        # error_model="numpy": x / 0 is inf or nan as in numpy, not ZeroDivisionError; the
        # check that raising needs sits in the loop and stops LLVM vectorizing it
        options = {"cache": not self._inline, "fastmath": self._fastmath, "nogil": True,
                   "error_model": "numpy"}
        if self._inline is True:  # numba inlines its IR into each kernel calling it
            options["inline"] = "always"
        if serial and self._parallel:
            if self._serial is None:
                self._serial = numba.njit(**options)(_twin(self.fn, "serial", options))
            return self._serial
        if self._jitted is None:
            build = "parallel" if self._parallel else "serial"
            self._jitted = numba.njit(parallel=self._parallel, **options)(
                _twin(self.fn, build, options))
            if not self._parallel:
                self._serial = self._jitted
        return self._jitted

    def __call__(self, *args: Any) -> Any:
        jitted = self._jitted or self._compile(serial=False)
        if not self._parallel:
            return jitted(*args)
        if not _launching.acquire(blocking=False):
            return self.serial(*args)
        try:
            return jitted(*args)
        finally:
            _launching.release()

    def serial(self, *args: Any) -> Any:
        """Run on the calling thread only (the parallel loops as plain loops)."""
        jitted = self._serial or self._compile(serial=True)
        return jitted(*args)


#: a kernel that only streams memory (a compare and a select per element, ReLU) repays a
#: parallel region (~100 us to launch here) from this many elements: on 1M float32 values
#: ReLU took 123 us on one thread, 254 us on two
STREAMING_PARALLEL_MIN = 1 << 22


def launch(kernel: CompiledKernel, size: int, *args: Any, streaming: bool = False) -> Any:
    """``kernel(*args)`` on all threads when ``size`` (elements of work) repays a parallel
    region (from :data:`PARALLEL_MIN`, or :data:`STREAMING_PARALLEL_MIN` for a ``streaming``
    kernel), else its serial twin on this thread."""
    parallel = size >= (STREAMING_PARALLEL_MIN if streaming else PARALLEL_MIN) and THREADS > 1
    return (kernel if parallel else kernel.serial)(*args)


def _swap_globals(fn: Callable, numba: Any) -> None:
    """Point the names ``fn`` uses at compiled versions: placeholders (``prange``, ...) and
    inline helpers (their dispatchers, compiled into ``fn``); the helpers' own names too."""
    glb = fn.__globals__
    for name in fn.__code__.co_names:
        value = glb.get(name)
        if name in _SWAPS and value is globals()[name]:
            if name not in _swapped:
                _swapped[name] = _SWAPS[name](numba)
            glb[name] = _swapped[name]
        elif isinstance(value, CompiledKernel):
            if not value._inline:
                raise TypeError(f"{fn.__name__} calls the kernel {name}; a kernel can call "
                                "only helpers made with @compiled(inline=True)")
            _swap_globals(value.fn, numba)
            glb[name] = value._jitted or value._build(numba)
            _helper_of[glb[name]] = value


#: a helper's dispatcher (what _swap_globals put in a module's globals) -> its CompiledKernel
_helper_of: dict[Any, CompiledKernel] = {}


def _helper_modes(fn: Callable) -> list[tuple]:
    """How each helper ``fn`` calls (and theirs) is compiled: part of a kernel's cache name."""
    modes = []
    for name in fn.__code__.co_names:
        value = fn.__globals__.get(name)
        helper = value if isinstance(value, CompiledKernel) else _helper_of.get(value)
        if helper is not None:
            modes.append((name, helper._inline, _stable(helper._fastmath),
                          _helper_modes(helper.fn)))
    return modes


def _stable(value: Any) -> Any:
    """``value`` with sets sorted, so its repr is the same in every process."""
    return sorted(value) if isinstance(value, set) else value


def _twin(fn: Callable, build: str, options: dict) -> Callable:
    """A copy of ``fn`` named for its build: numba's disk cache is named by the qualified
    name and keyed by the signature and source, not by the compile options, so the parallel
    and serial builds of one function, and builds with other options (its own or its
    helpers': a digest of them is in the name), need their own names not to load each
    other's machine code."""
    what = repr((sorted((k, _stable(v)) for k, v in options.items()), _helper_modes(fn)))
    suffix = f"__{build}_{hashlib.sha1(what.encode()).hexdigest()[:10]}"
    twin = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + suffix,
                              fn.__defaults__, fn.__closure__)
    twin.__qualname__ = fn.__qualname__ + suffix
    twin.__module__ = fn.__module__
    return twin


def compiled(*, parallel: bool = False, fastmath: bool | set[str] = False,
             inline: bool | str = False) -> Callable[[Callable], CompiledKernel]:
    """Decorator: compile a numba-compatible function on first call, cached on disk.

    ``parallel=True`` runs ``prange`` loops on all cores; ``fastmath`` stays off by
    default so results round as the numpy reference does; a set of LLVM flags (e.g.
    ``{"reassoc"}``, so that row sums vectorize) turns on only those.
    ``inline=True`` makes a helper that kernels call, compiled into each of them: numba
    inlines its code, which then takes the kernel's ``fastmath`` flags (the row kernels'
    max and exp helpers need that to vectorize: softmax 3.5x slower without).
    ``inline="llvm"`` makes a helper compiled on its own that LLVM inlines into the kernels:
    for helpers returning tuples, whose numba inlining kept LLVM from vectorizing the serial
    optimizer loops (AdamW on 10M float32, one thread: 31 ms against 10 ms).
    """
    if inline not in (False, True, "llvm"):
        raise ValueError(f"inline={inline!r}, expected False, True or 'llvm'")

    def wrap(fn: Callable) -> CompiledKernel:
        return CompiledKernel(fn, parallel, fastmath, inline)
    return wrap
