"""nn.ParameterList and nn.ParameterDict against PyTorch: registration (parameters(),
state_dict() key names), list and dict operations, wrapping of plain tensors, repr, errors,
and use in training (gradients, optimizer steps, load_state_dict, dtype moves)."""

from __future__ import annotations

from collections import OrderedDict

import genesis
import numpy as np
import pytest
import torch
from torch_compare import assert_raises_like_torch

LIBS = (genesis, torch)


def _arrays(n: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((i + 1, 2)).astype(np.float32) for i in range(n)]


class Holder:
    """A model holding a ParameterList and a ParameterDict, built the same way in both."""

    @staticmethod
    def build(lib):
        a = _arrays(4)
        model = lib.nn.Module()
        model.lin = lib.nn.Linear(2, 2)
        model.plist = lib.nn.ParameterList([lib.nn.Parameter(lib.tensor(a[0])),
                                            lib.tensor(a[1])])
        model.pdict = lib.nn.ParameterDict({"zeta": lib.tensor(a[2]),
                                            "alpha": lib.nn.Parameter(lib.tensor(a[3]))})
        return model


def _names(model) -> tuple:
    return ([n for n, _ in model.named_parameters()], list(model.state_dict()))


def test_registration_uses_torch_key_names():
    g, t = Holder.build(genesis), Holder.build(torch)
    assert _names(g) == _names(t)
    assert _names(g)[1] == ["lin.weight", "lin.bias", "plist.0", "plist.1", "pdict.alpha",
                            "pdict.zeta"]  # a plain dict is added in sorted key order
    for (n, gp), (_, tp) in zip(g.named_parameters(), t.named_parameters()):
        assert isinstance(gp, genesis.nn.Parameter) and gp.requires_grad == tp.requires_grad
        if not n.startswith("lin"):
            np.testing.assert_array_equal(gp.detach().numpy(), tp.detach().numpy())


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_parameter_list_operations(lib):
    a = _arrays(5)
    plist = lib.nn.ParameterList()
    assert len(plist) == 0 and list(plist) == []
    plist.append(lib.tensor(a[0]))
    plist.extend([lib.tensor(a[1]), lib.nn.Parameter(lib.tensor(a[2]), requires_grad=False)])
    plist += [lib.tensor(a[3])]
    assert len(plist) == 4
    assert all(isinstance(p, lib.nn.Parameter) for p in plist)
    assert [p.requires_grad for p in plist] == [True, True, False, True]
    np.testing.assert_array_equal(plist[-1].detach().numpy(), a[3])
    np.testing.assert_array_equal(plist[1].detach().numpy(), a[1])
    sliced = plist[1:4:2]
    assert type(sliced) is lib.nn.ParameterList and len(sliced) == 2
    assert sliced[0] is plist[1] and sliced[1] is plist[3]
    plist[0] = lib.tensor(a[4])
    assert isinstance(plist[0], lib.nn.Parameter)
    np.testing.assert_array_equal(plist[0].detach().numpy(), a[4])
    assert [n for n, _ in plist.named_parameters()] == ["0", "1", "2", "3"]
    plist.append("not a tensor")
    assert plist[4] == "not a tensor" and len(list(plist.parameters())) == 4
    assert [k for k in dir(plist) if k.isdigit()] == []


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_parameter_dict_operations(lib):
    a = _arrays(6)
    pdict = lib.nn.ParameterDict(OrderedDict([("b", lib.tensor(a[0])), ("a", lib.tensor(a[1]))]))
    assert list(pdict) == ["b", "a"]  # an OrderedDict keeps its order
    pdict.update([("c", lib.tensor(a[2]))])
    pdict["d"] = lib.nn.Parameter(lib.tensor(a[3]), requires_grad=False)
    assert list(pdict.keys()) == ["b", "a", "c", "d"] and len(pdict) == 4
    assert [k for k, _ in pdict.items()] == list(pdict.keys())
    assert all(isinstance(v, lib.nn.Parameter) for v in pdict.values())
    assert "c" in pdict and "zz" not in pdict
    assert list(reversed(pdict)) == ["d", "c", "a", "b"]
    np.testing.assert_array_equal(pdict["c"].detach().numpy(), a[2])
    assert pdict.get("zz") is None and pdict.get("a") is pdict["a"]
    assert pdict.setdefault("e", lib.tensor(a[4])) is pdict["e"]
    popped = pdict.pop("b")
    np.testing.assert_array_equal(popped.detach().numpy(), a[0])
    assert "b" not in pdict and not hasattr(pdict, "b")
    key, value = pdict.popitem()
    assert key == "e" and value.shape == (5, 2)
    copy = pdict.copy()
    assert list(copy) == list(pdict) and copy["a"] is pdict["a"]
    merged = pdict | lib.nn.ParameterDict({"z": lib.tensor(a[5])})
    assert list(merged) == ["a", "c", "d", "z"] and list(pdict) == ["a", "c", "d"]
    pdict |= merged
    assert list(pdict) == ["a", "c", "d", "z"]
    made = pdict.fromkeys(["x", "y"], lib.tensor(a[0]))
    assert list(made) == ["x", "y"] and isinstance(made["x"], lib.nn.Parameter)
    assert [n for n, _ in pdict.named_parameters()] == ["a", "c", "d", "z"]
    pdict.clear()
    assert len(pdict) == 0 and list(pdict.parameters()) == []


def test_repr_matches_torch_layout():
    g, t = Holder.build(genesis), Holder.build(torch)
    for name in ("plist", "pdict"):
        want = repr(getattr(t, name)).replace("torch.FloatTensor", "torch.float32")
        assert repr(getattr(g, name)).replace("genesis.", "torch.") == want
    assert repr(genesis.nn.ParameterList()) == repr(torch.nn.ParameterList())
    plist = genesis.nn.ParameterList([genesis.ones(2)])
    plist.append(3)
    assert repr(plist).endswith("(1): Object of type: int\n)")


def test_container_errors_match_torch():
    def plist(lib):
        return lib.nn.ParameterList([lib.ones(2), lib.ones(3)])

    def pdict(lib):
        return lib.nn.ParameterDict({"a": lib.ones(2)})
    assert_raises_like_torch(lambda lib: plist(lib)[2], "index 2 is out of range")
    assert_raises_like_torch(lambda lib: plist(lib)[-3], "index -3 is out of range")
    assert_raises_like_torch(lambda lib: plist(lib)["0"], "index must be an int or a slice")
    assert_raises_like_torch(lambda lib: plist(lib).extend(3),
                             "called with an iterable, but got int")
    assert_raises_like_torch(lambda lib: plist(lib).extend(lib.ones(2)),
                             "called with an iterable, but got Tensor")
    assert_raises_like_torch(lambda lib: plist(lib).__setitem__(0, 3.0),
                             "cannot assign 'float' as parameter '0'")
    assert_raises_like_torch(lambda lib: plist(lib)(lib.ones(2)), "ParameterList should not be")
    assert_raises_like_torch(lambda lib: pdict(lib)(lib.ones(2)), "ParameterDict should not be")
    assert_raises_like_torch(lambda lib: pdict(lib).__setitem__(1, lib.ones(1)),
                             "key=1 of type int, expected a string")
    assert_raises_like_torch(lambda lib: pdict(lib).__setitem__("a.b", lib.ones(1)),
                             'contain ".", got: a.b')
    assert_raises_like_torch(lambda lib: pdict(lib).__setitem__("keys", lib.ones(1)),
                             "'keys'")
    assert_raises_like_torch(lambda lib: pdict(lib).update(3),
                             "called with an iterable of key/value pairs, but got int")
    assert_raises_like_torch(lambda lib: pdict(lib).update([("c",)]),
                             r"element #0 should be a \(key, value\) pair")
    # a missing key is a KeyError (PyTorch raises AttributeError from its attribute lookup)
    with pytest.raises(KeyError, match="zz"):
        pdict(genesis)["zz"]
    with pytest.raises(KeyError, match="zz"):
        del pdict(genesis)["zz"]
    d = pdict(genesis)
    with pytest.raises(KeyError, match='contain ".", got: a.b'):
        d["a.b"] = genesis.ones(1)
    assert list(d) == ["a"]  # a refused key is not half-added


def test_containers_train_load_and_move_like_torch():
    g, t = Holder.build(genesis), Holder.build(torch)
    g.load_state_dict({k: genesis.tensor(v.numpy()) for k, v in t.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((3, 2)).astype(np.float32)
    for _ in range(2):  # plain SGD steps over .parameters() (genesis-optim is another package)
        for lib, m in ((genesis, g), (torch, t)):
            m.zero_grad()
            h = m.lin(lib.tensor(x))
            loss = (h * m.plist[0][:3].sum()).sum() + m.plist[1].sum() * m.pdict["alpha"].mean() \
                + (m.pdict["zeta"] ** 2).sum()
            loss.backward()
            with lib.no_grad():
                for param in m.parameters():
                    param.sub_(param.grad * 0.1)
    for (name, gp), (_, tp) in zip(g.state_dict().items(), t.state_dict().items()):
        np.testing.assert_allclose(gp.numpy(), tp.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)
    g.double()
    assert all(p.dtype is genesis.float64 for p in g.parameters())
    assert g.plist[0].dtype is genesis.float64 and g.pdict["alpha"].dtype is genesis.float64
    fresh = Holder.build(genesis)
    fresh.load_state_dict(g.float().state_dict())
    for a, b in zip(fresh.parameters(), g.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
