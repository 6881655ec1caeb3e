"""The Triton backend passes the core's conformance kit on device "cuda"
(in the interpreter here, on the GPU with GENESIS_TRITON_GPU=1)."""

from genesis.testing import conformance_suite

TestTritonConformance = conformance_suite("cuda")
