"""A PyTorch tensor given to a genesis.optim optimizer is refused with a TypeError that says so."""

import genesis
import genesis.optim as optim
import pytest
import torch

WHAT = (r"expected genesis.Tensor parameters, e.g. model.parameters\(\) of a genesis.nn.Module; "
        r"genesis.optim does not update PyTorch tensors")


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop,
                                 optim.Adagrad, optim.Adamax, optim.Adadelta, optim.NAdam,
                                 optim.RAdam, optim.Rprop, optim.ASGD, optim.LBFGS])
def test_torch_module_parameters(cls):
    model = torch.nn.Linear(2, 3)
    with pytest.raises(TypeError, match=r"^optimizer: params\[0\] is a PyTorch tensor "
                                        r"\(torch.nn.parameter.Parameter, shape \(3, 2\)\), "
                                        + WHAT):
        cls(model.parameters(), lr=0.1)


def test_a_single_torch_tensor_is_named_as_such_not_iterated():
    with pytest.raises(TypeError, match=r"^optimizer: params is a PyTorch tensor \(torch.Tensor, "
                                        r"shape \(4,\)\), " + WHAT):
        optim.SGD(torch.zeros(4, requires_grad=True), lr=0.1)


def test_torch_tensors_inside_param_groups():
    ours = genesis.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match=r"param_group\['params'\] is a PyTorch tensor"):
        optim.Adam([{"params": torch.zeros(2)}])
    with pytest.raises(TypeError, match=r"param_group\['params'\]\[1\] is a PyTorch tensor"):
        optim.Adam([{"params": [ours, torch.zeros(2)]}])
    opt = optim.Adam([ours])
    with pytest.raises(TypeError, match=r"param_group\['params'\]\[0\] is a PyTorch tensor"):
        opt.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))]})
    assert len(opt.param_groups) == 1  # the refused group was not added


def test_other_non_tensors_keep_the_generic_message():
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors, but one of the "
                                        "params is ndarray"):
        optim.SGD([genesis.zeros(1).numpy()], lr=0.1)
