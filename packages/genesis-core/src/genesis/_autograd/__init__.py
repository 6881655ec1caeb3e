"""The graph machinery under every op: grad modes, the :class:`Function` node, the engine.

It sits below the tensor (it never imports one); the public ``genesis.autograd`` package
re-exports it with the tools built on tensors (``grad``, ``gradcheck``).
"""
