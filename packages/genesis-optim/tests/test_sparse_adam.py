"""SparseAdam keeps PyTorch's name and signature but is refused: no sparse tensors here."""

import inspect

import genesis
import genesis.optim as optim
import pytest
import torch


def test_refused_with_a_clear_error():
    w = genesis.zeros(3, 2, requires_grad=True)
    with pytest.raises(NotImplementedError, match=r"SparseAdam is not supported: .*sparse "
                                                  r"gradients.*no sparse tensors.*Adam"):
        optim.SparseAdam([w], lr=0.01)
    with pytest.raises(NotImplementedError, match="no sparse tensors"):
        genesis.optim.SparseAdam([w])


def test_signature_is_torchs():
    ours = inspect.signature(optim.SparseAdam.__init__).parameters
    theirs = inspect.signature(torch.optim.SparseAdam.__init__).parameters
    assert list(ours) == list(theirs)
    assert [p.default for p in ours.values()] == [p.default for p in theirs.values()]
    assert "SparseAdam" in optim.__all__
