"""Triton kernels, one module per family; imported only once a backend is used.

Every ``@triton.jit`` function here runs unchanged on a GPU and in Triton's
interpreter (``TRITON_INTERPRET=1``), so they use only ``triton.language``
(no ``libdevice``, which the interpreter does not provide).
"""
