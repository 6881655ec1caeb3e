"""Differentiable ops, one module per family; ``tensor_methods.bind`` attaches them to Tensor."""
