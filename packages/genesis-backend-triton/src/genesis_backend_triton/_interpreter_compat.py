"""Where the Triton interpreter differs from the GPU, made to agree (interpreter mode only).

* float32 -> bfloat16: the interpreter truncates the mantissa, while the
  compiled kernels round to nearest even (``cvt.rn.bf16.f32``; Triton's default
  downcast rounding). Every bfloat16 result computed in the interpreter was
  therefore up to one bfloat16 ulp smaller in magnitude than on a GPU, and an
  ``exp`` of such an input differed by up to ``|x|`` ulps. The conversion is
  rerouted through ml_dtypes, which rounds to nearest even (as the CPU backend
  and PyTorch do); explicit round-toward-zero conversions keep truncating.
* Before triton 3.9 the interpreter turns a scalar tensor into a Python int with
  ``int(handle.data)``, where ``data`` is a one-element 1-d array. NumPy 2.4
  refuses that, so every ``for i in range(n)`` with a runtime bound fails
  ("only 0-dimensional arrays can be converted to Python scalars"). Triton 3.9
  squeezes the array first; older versions get the same.

Both patches wrap module-level functions of ``triton.runtime.interpreter`` and
are applied once, when the backend starts in interpreter mode; a triton whose
interpreter lacks the function a patch wraps is left as it is.
"""

from __future__ import annotations

import numpy as np
import triton


def needs_index_fix(version: str) -> bool:
    """True for triton releases whose interpreter converts scalars without squeezing."""
    major, minor = (int(part) for part in version.split(".")[:2])
    return (major, minor) < (3, 9)


def apply() -> None:
    """Patch the interpreter (idempotent)."""
    from triton.runtime import interpreter
    if getattr(interpreter, "_genesis_patched", False):
        return
    interpreter._genesis_patched = True
    if hasattr(interpreter, "_convert_float") and hasattr(interpreter, "_ir"):
        _round_bfloat16_to_nearest_even(interpreter)
    if needs_index_fix(triton.__version__) and hasattr(interpreter, "_patch_lang_tensor"):
        _squeeze_scalar_index(interpreter)


def _round_bfloat16_to_nearest_even(interpreter) -> None:
    import ml_dtypes
    import triton.language as tl
    convert = interpreter._convert_float
    toward_zero = interpreter._ir.ROUNDING_MODE.RTZ

    def convert_float(values, input_dtype, output_dtype, rounding_mode):
        if input_dtype == tl.float32 and output_dtype == tl.bfloat16 and \
                rounding_mode != toward_zero:
            rounded = np.asarray(values).view(np.float32).astype(ml_dtypes.bfloat16)
            return rounded.view(np.uint16).reshape(np.shape(values))
        return convert(values, input_dtype, output_dtype, rounding_mode)

    interpreter._convert_float = convert_float


def _squeeze_scalar_index(interpreter) -> None:
    original = interpreter._patch_lang_tensor

    def patch_lang_tensor(tensor, scope) -> None:
        original(tensor, scope)
        scope.set_attr(tensor, "__index__", lambda self: int(self.handle.data.reshape(-1)[0]))

    interpreter._patch_lang_tensor = patch_lang_tensor
