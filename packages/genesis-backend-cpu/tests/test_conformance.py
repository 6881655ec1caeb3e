"""The numpy backend passes the core's conformance kit."""

from genesis.testing import conformance_suite

TestCPUConformance = conformance_suite("cpu")
