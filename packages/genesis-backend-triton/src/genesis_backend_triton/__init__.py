"""genesis-backend-triton: Triton kernels for Genesis, device ``"cuda"``.

On a GPU host memory comes from pycuda (the ``[cuda]`` extra, from a Genesis checkout:
``pip install "./packages/genesis-backend-triton[cuda]"``); with ``TRITON_INTERPRET=1``
the same kernels run in Triton's interpreter on host memory.
"""

__version__ = "0.1.0"
