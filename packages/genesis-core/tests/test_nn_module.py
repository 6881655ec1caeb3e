"""genesis.nn.Module, Parameter and the containers: registration, traversal, state dicts,
conversions, printing -- checked against torch.nn where the behaviour is observable."""

from __future__ import annotations

import copy

import genesis
import numpy as np
import pytest
import torch
from genesis import nn


class Net(nn.Module):
    def __init__(self, lib_nn=nn):
        super().__init__()
        self.fc1 = lib_nn.Linear(4, 3)
        self.act = lib_nn.ReLU()
        self.blocks = lib_nn.ModuleList([lib_nn.Linear(3, 3), lib_nn.LayerNorm(3)])
        self.bn = lib_nn.BatchNorm1d(3)
        self.register_buffer("scale", genesis.ones(1))
        self.register_buffer("tmp", genesis.zeros(1), persistent=False)

    def forward(self, x):
        x = self.act(self.fc1(x))
        for b in self.blocks:
            x = b(x)
        return self.bn(x) * self.scale


def test_parameter_is_tensor_subclass_leaf():
    p = nn.Parameter(genesis.randn(2, 3))
    assert isinstance(p, nn.Parameter) and isinstance(p, genesis.Tensor)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    y = p * 2 + p
    assert type(y) is genesis.Tensor and not isinstance(y, nn.Parameter)
    y.sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), np.full((2, 3), 3.0))
    assert type(p.data) is genesis.Tensor and type(p.detach()) is genesis.Tensor
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert not nn.Parameter(genesis.zeros(1), requires_grad=False).requires_grad
    with pytest.raises(TypeError, match="data=list"):
        nn.Parameter([1.0])


def test_parameter_deepcopy_keeps_class_and_copies_storage():
    p = nn.Parameter(genesis.randn(3))
    p.grad = genesis.ones(3)
    q = copy.deepcopy(p)
    assert type(q) is nn.Parameter and q.requires_grad
    assert q.storage is not p.storage and q._backend is p._backend
    np.testing.assert_array_equal(q.numpy() if not q.requires_grad else q.detach().numpy(),
                                  p.detach().numpy())
    np.testing.assert_array_equal(q.grad.numpy(), np.ones(3))


def test_named_members_match_torch():
    g, t = Net(), _torch_net()
    assert [n for n, _ in g.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in g.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in g.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in g.named_children()] == [n for n, _ in t.named_children()]
    assert list(g.state_dict()) == list(t.state_dict())
    assert [n for n, _ in g.named_parameters(prefix="m", recurse=False)] == \
        [n for n, _ in t.named_parameters(prefix="m", recurse=False)]
    assert len(list(g.parameters())) == 8 and len(list(g.children())) == 4
    assert len(list(g.modules())) == 7


def _torch_net():
    class T(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(4, 3)
            self.act = torch.nn.ReLU()
            self.blocks = torch.nn.ModuleList([torch.nn.Linear(3, 3), torch.nn.LayerNorm(3)])
            self.bn = torch.nn.BatchNorm1d(3)
            self.register_buffer("scale", torch.ones(1))
            self.register_buffer("tmp", torch.zeros(1), persistent=False)
    return T()


def test_state_dict_round_trip_and_forward_matches_torch():
    g, t = Net(), _torch_net()
    state = {k: genesis.tensor(v.detach().numpy()) for k, v in t.state_dict().items()}
    assert repr(g.load_state_dict(state)) == "<All keys matched successfully>"
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    out_t = t.blocks[1](t.blocks[0](t.act(t.fc1(torch.tensor(x)))))
    out_t = t.bn(out_t) * t.scale
    out_g = g(genesis.tensor(x))
    np.testing.assert_allclose(out_g.detach().numpy(), out_t.detach().numpy(), rtol=1e-5,
                               atol=2e-5)
    np.testing.assert_allclose(g.bn.running_mean.numpy(), t.bn.running_mean.numpy(), rtol=1e-5)
    assert g.bn.num_batches_tracked.item() == 1
    sd = g.state_dict()
    assert not any(v.requires_grad for v in sd.values())
    assert g.state_dict(keep_vars=True)["fc1.weight"] is g.fc1.weight
    assert list(nn.Linear(2, 2).state_dict(prefix="model.")) == ["model.weight", "model.bias"]


def test_load_state_dict_errors_like_torch():
    g = nn.Linear(3, 2)
    with pytest.raises(RuntimeError) as err:
        g.load_state_dict({"weight": genesis.zeros(2, 4), "extra": genesis.zeros(1)})
    msg = str(err.value)
    assert msg.startswith("Error(s) in loading state_dict for Linear:")
    assert 'Missing key(s) in state_dict: "bias".' in msg
    assert 'Unexpected key(s) in state_dict: "extra".' in msg
    assert "size mismatch for weight: copying a param with shape (2, 4) from checkpoint, the " \
           "shape in current model is (2, 3)." in msg
    result = g.load_state_dict({"weight": genesis.ones(2, 3), "extra": genesis.zeros(1)},
                               strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    assert result == (["bias"], ["extra"])
    np.testing.assert_array_equal(g.weight.detach().numpy(), np.ones((2, 3)))
    assert isinstance(g.weight, nn.Parameter) and g.weight.requires_grad


def test_load_state_dict_assign():
    g = nn.Linear(3, 2)
    w = genesis.ones(2, 3)
    g.load_state_dict({"weight": w, "bias": genesis.zeros(2)}, assign=True)
    assert isinstance(g.weight, nn.Parameter) and g.weight.storage is w.storage


def test_setattr_registration_and_deletion():
    m = nn.Module()
    m.w = nn.Parameter(genesis.zeros(2))
    m.sub = nn.Linear(2, 2)
    m.plain = 3
    assert "w" in m._parameters and "sub" in m._modules and m.plain == 3
    m.w = None
    assert m._parameters["w"] is None and "w" not in dict(m.named_parameters())
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'w'"):
        m.w = genesis.zeros(2)
    m.register_buffer("buf", genesis.zeros(1))
    with pytest.raises(TypeError, match="as buffer 'buf'"):
        m.buf = 3
    del m.sub
    assert "sub" not in m._modules
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'sub'"):
        _ = m.sub
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", None)
    assert "buf" in dir(m) and "w" in dir(m)


def test_train_eval_and_requires_grad():
    g = Net()
    assert g.training and g.bn.training
    g.eval()
    assert not g.training and not g.blocks[0].training
    g.train()
    assert g.bn.training
    g.requires_grad_(False)
    assert not any(p.requires_grad for p in g.parameters())


def test_zero_grad():
    g = nn.Linear(3, 2)
    g(genesis.randn(4, 3)).sum().backward()
    g.zero_grad(set_to_none=False)
    assert g.weight.grad is not None and not g.weight.grad.numpy().any()
    g.zero_grad()
    assert g.weight.grad is None and g.bias.grad is None


def test_to_dtype_and_apply():
    g = Net()
    g.double()
    assert all(p.dtype is genesis.float64 for p in g.parameters())
    assert g.bn.num_batches_tracked.dtype is genesis.int64
    assert g.bn.running_mean.dtype is genesis.float64
    assert all(isinstance(p, nn.Parameter) for p in g.parameters())
    g.to(genesis.float32)
    assert g.fc1.weight.dtype is genesis.float32
    g.to("cpu").float()
    seen = []
    g.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen[0] == "Linear"
    with pytest.raises(TypeError, match="floating point"):
        g.to(genesis.int64)


def test_repr_matches_torch():
    gm = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.1),
                       nn.Sequential(nn.Linear(256, 10, bias=False), nn.LogSoftmax(dim=1)))
    tm = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Dropout(0.1),
                             torch.nn.Sequential(torch.nn.Linear(256, 10, bias=False),
                                                 torch.nn.LogSoftmax(dim=1)))
    assert repr(gm) == repr(tm)
    for g, t in [(nn.LayerNorm(8), torch.nn.LayerNorm(8)),
                 (nn.BatchNorm1d(4), torch.nn.BatchNorm1d(4)),
                 (nn.BatchNorm1d(4, bias=False), torch.nn.BatchNorm1d(4, bias=False)),
                 (nn.LayerNorm(8, bias=False), torch.nn.LayerNorm(8, bias=False)),
                 (nn.Embedding(10, 3, padding_idx=0), torch.nn.Embedding(10, 3, padding_idx=0)),
                 (nn.GELU("tanh"), torch.nn.GELU("tanh")), (nn.Flatten(), torch.nn.Flatten()),
                 (nn.Unflatten(1, (2, 3)), torch.nn.Unflatten(1, (2, 3))),
                 (nn.RMSNorm(4), torch.nn.RMSNorm(4)),
                 (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
                 (nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()),
                 (nn.Identity(), torch.nn.Identity()), (nn.Softmax(dim=-1), torch.nn.Softmax(-1))]:
        assert repr(g) == repr(t)


def test_sequential_indexing_slicing_append():
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(s) == 3 and isinstance(s[-1], nn.Linear) and isinstance(s[1], nn.ReLU)
    head = s[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is s[0]
    s.append(nn.Sigmoid())
    assert len(s) == 4 and [type(m).__name__ for m in s][-1] == "Sigmoid"
    out = s(genesis.randn(5, 2))
    assert out.shape == (5, 1)
    del s[1]
    assert [n for n, _ in s.named_children()] == ["0", "1", "2"]
    s[0] = nn.Identity()
    assert isinstance(s[0], nn.Identity)
    with pytest.raises(IndexError, match="index 7 is out of range"):
        _ = s[7]
    from collections import OrderedDict
    named = nn.Sequential(OrderedDict([("a", nn.ReLU()), ("b", nn.Tanh())]))
    assert [n for n, _ in named.named_children()] == ["a", "b"]


def test_module_list_and_dict():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh()])
    ml.insert(0, nn.Identity())
    assert len(ml) == 6 and isinstance(ml[0], nn.Identity) and isinstance(ml[-1], nn.Tanh)
    assert len(list(ml.parameters())) == 6
    assert len(ml[1:3]) == 2
    md = nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.ReLU()})
    md["c"] = nn.Tanh()
    assert list(md.keys()) == ["a", "b", "c"] and "a" in md and len(md) == 3
    assert [n for n, _ in md.named_parameters()] == ["a.weight", "a.bias"]
    assert isinstance(md.pop("b"), nn.ReLU) and len(md) == 2


def test_shared_parameters_listed_once():
    lin = nn.Linear(2, 2)
    s = nn.Sequential(lin, lin)
    assert len(list(s.parameters())) == 2
    assert list(s.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_module_deepcopy_is_independent():
    g = Net()
    h = copy.deepcopy(g)
    with genesis.no_grad():
        h.fc1.weight.fill_(0.0)
    assert g.fc1.weight.detach().numpy().any()
    assert isinstance(h.fc1.weight, nn.Parameter)


def test_subclass_must_call_init():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(genesis.zeros(1))
    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()
