"""An out-of-tree plugin (device ``toy``) passes the conformance kit; undeclared dtypes skip."""

from genesis.testing import conformance_suite

TestToyConformance = conformance_suite("toy")
