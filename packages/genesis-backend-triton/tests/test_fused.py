"""Fused kernels against PyTorch (forward and backward) and against the composite path.

The row kernels are also run with a tiny ``BLOCK_N`` so rows span several
blocks: that exercises the online (running max / rescaled sum) path that
long LLM rows take on the GPU.
"""

import math

import genesis
import genesis.nn.functional as F
import numpy as np
import pytest
import torch
from genesis_backend_triton import fused

RNG = np.random.default_rng(1)


def cuda(a, dtype=None, grad=False):
    return genesis.tensor(a, dtype=dtype, device="cuda", requires_grad=grad)


def kernels():
    return genesis.device("cuda").backend.capabilities.fused


def host(storage, shape, dtype):
    be = genesis.device("cuda").backend
    from genesis_backend_triton.backend import View
    from genesis_backend_triton.layout import contiguous_strides
    return be.to_numpy(View(storage, shape, contiguous_strides(shape), 0, dtype))


def stat(storage, shape, dtype=genesis.float32):
    """A backend statistic (mean/rstd/lse) as the core hands it back: wrapped in a view."""
    from genesis_backend_triton.backend import View
    from genesis_backend_triton.layout import contiguous_strides
    return View(storage, shape, contiguous_strides(shape), 0, dtype)


@pytest.fixture(params=["one_block", "looped"])
def row_blocks(request, monkeypatch):
    if request.param == "looped":
        monkeypatch.setattr(fused, "_row_launch", lambda be, n: {"BLOCK_N": 4, "num_warps": 1})
    return request.param


def test_every_declared_kernel_is_registered():
    assert set(fused.NAMES) <= set(kernels())
    assert kernels()["softmax"].__name__ == "softmax"


@pytest.mark.parametrize("dim", [-1, 0, 1])
def test_softmax_family_forward_and_backward(row_blocks, dim):
    x = RNG.standard_normal((5, 7, 6)) * 4
    g = RNG.standard_normal((5, 7, 6))
    tx = torch.tensor(x, requires_grad=True)
    for name, tfn in (("softmax", torch.softmax), ("log_softmax", torch.log_softmax)):
        y = kernels()[name](cuda(x), dim)
        ty = tfn(tx, dim)
        np.testing.assert_allclose(host(y, x.shape, genesis.float64), ty.detach().numpy(),
                                   rtol=1e-12, atol=1e-12)
        yt = genesis.tensor(ty.detach().numpy(), device="cuda")
        dx = kernels()[f"{name}_backward"](yt, cuda(g), dim)
        (tgrad,) = torch.autograd.grad(ty, tx, torch.tensor(g))
        np.testing.assert_allclose(host(dx, x.shape, genesis.float64), tgrad.numpy(),
                                   rtol=1e-10, atol=1e-12)


def test_softmax_half_types_and_extreme_rows(row_blocks):
    x = np.array([[1000.0, 1000.0, -1000.0, 0.0, 5.0], [-np.inf, 0.0, 1.0, 2.0, 3.0]])
    y = kernels()["softmax"](cuda(x, genesis.float32), -1)
    ref = torch.softmax(torch.tensor(x), -1).numpy()
    np.testing.assert_allclose(host(y, x.shape, genesis.float32), ref, rtol=1e-6, atol=1e-7)
    for dt, tdt in ((genesis.bfloat16, torch.bfloat16), (genesis.float16, torch.float16)):
        z = RNG.standard_normal((4, 9)).astype(np.float32)
        y = kernels()["log_softmax"](cuda(z, dt), 1)
        ref = torch.log_softmax(torch.tensor(z).to(tdt).float(), 1).to(tdt).float().numpy()
        np.testing.assert_allclose(host(y, z.shape, dt).astype(np.float32), ref, rtol=2e-2,
                                   atol=2e-2)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_layer_norm_and_rms_norm_match_torch(row_blocks, dtype):
    tdt = getattr(torch, dtype)
    x = RNG.standard_normal((3, 4, 10)) * 2 + 1
    w, b, g = RNG.standard_normal(10), RNG.standard_normal(10), RNG.standard_normal((3, 4, 10))
    tx, tw, tb = (torch.tensor(v, dtype=tdt, requires_grad=True) for v in (x, w, b))
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == "float32" else dict(rtol=5e-2, atol=8e-2)
    gd = getattr(genesis, dtype)
    for rms in (False, True):
        if rms:
            ty = torch.nn.functional.rms_norm(tx, (10,), tw, 1e-6)
            y, rstd = kernels()["rms_norm"](cuda(x, gd), cuda(w, gd), 1e-6)
            dx, dw = kernels()["rms_norm_backward"](cuda(g, gd), cuda(x, gd), cuda(w, gd),
                                                    stat(rstd, (3, 4, 1), gd))
            db = None
        else:
            ty = torch.nn.functional.layer_norm(tx, (10,), tw, tb, 1e-5)
            y, mean, rstd = kernels()["layer_norm"](cuda(x, gd), cuda(w, gd), cuda(b, gd), 1e-5)
            dx, dw, db = kernels()["layer_norm_backward"](cuda(g, gd), cuda(x, gd), cuda(w, gd),
                                                          stat(mean, (3, 4, 1), gd),
                                                          stat(rstd, (3, 4, 1), gd))
        grads = torch.autograd.grad(ty, (tx, tw, tb) if not rms else (tx, tw),
                                    torch.tensor(g, dtype=tdt))
        np.testing.assert_allclose(host(y, x.shape, gd).astype(np.float64),
                                   ty.detach().double().numpy(), **tol)
        np.testing.assert_allclose(host(dx, x.shape, gd).astype(np.float64),
                                   grads[0].double().numpy(), **tol)
        np.testing.assert_allclose(host(dw, (10,), gd).astype(np.float64),
                                   grads[1].double().numpy(), **tol)
        if db is not None:
            np.testing.assert_allclose(host(db, (10,), gd).astype(np.float64),
                                       grads[2].double().numpy(), **tol)


class GpuLike:
    """Stands in for a GPU backend when asking for the GPU's candidate configs."""
    class rt:  # noqa: N801
        interpret = False


@pytest.fixture
def forced_config(monkeypatch):
    """Makes the autotuner pick a given candidate (each one must compute the same)."""
    chosen = {}
    tuner = genesis.device("cuda").backend.rt.tuner
    monkeypatch.setattr(tuner, "pick",
                        lambda kernel, key, configs, launcher: chosen.get(kernel, configs[0]))
    return chosen


@pytest.mark.parametrize("k", range(3))
def test_every_gpu_row_config_of_softmax_and_layer_norm_agrees_with_torch(forced_config, k):
    """Rows of 5000: the default 4096-block loop, or the whole row held by 16/32 warps."""
    configs = fused._row_configs(GpuLike, 5000, "softmax")
    assert [c["BLOCK_N"] for c in configs] == [4096, 8192, 8192]
    assert configs == fused._row_configs(GpuLike, 5000, "norm")
    assert fused._row_configs(GpuLike, 20000, "norm") == configs[:1]  # too long to hold whole
    forced_config.update(softmax=configs[k], softmax_backward=configs[k], norm=configs[k])
    x = RNG.standard_normal((3, 5000)) * 3
    g = RNG.standard_normal((3, 5000))
    tx = torch.tensor(x, requires_grad=True)
    for name, tfn in (("softmax", torch.softmax), ("log_softmax", torch.log_softmax)):
        ty = tfn(tx, -1)
        y = kernels()[name](cuda(x), -1)
        np.testing.assert_allclose(host(y, x.shape, genesis.float64), ty.detach().numpy(),
                                   rtol=1e-11, atol=1e-14)
        dx = kernels()[f"{name}_backward"](cuda(ty.detach().numpy()), cuda(g), -1)
        (ref,) = torch.autograd.grad(ty, tx, torch.tensor(g))
        np.testing.assert_allclose(host(dx, x.shape, genesis.float64), ref.numpy(), rtol=1e-9,
                                   atol=1e-13)
    y, _, _ = kernels()["layer_norm"](cuda(x), cuda(g[0]), cuda(g[1]), 1e-5)
    ref = torch.nn.functional.layer_norm(tx, (5000,), torch.tensor(g[0]), torch.tensor(g[1]))
    np.testing.assert_allclose(host(y, x.shape, genesis.float64), ref.detach().numpy(),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("k", range(4))
@pytest.mark.parametrize("rms", [False, True])
def test_every_gpu_config_of_the_norm_backward_agrees_with_torch(forced_config, k, rms):
    """One-pass rows with partial parameter sums (1024 or 256 programs; 37 rows leave the
    last program part empty) and the split dx + column-sum path."""
    configs = fused._norm_backward_configs(GpuLike, 300)
    assert [c["PATH"] for c in configs] == ["rows", "rows", "rows", "split"]
    forced_config["norm_backward"] = configs[k]
    x, g = RNG.standard_normal((37, 300)) * 2 + 1, RNG.standard_normal((37, 300))
    w, b = RNG.standard_normal(300), RNG.standard_normal(300)
    tx, tw, tb = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
    if rms:
        ty = torch.nn.functional.rms_norm(tx, (300,), tw, 1e-6)
        _, rstd = kernels()["rms_norm"](cuda(x), cuda(w), 1e-6)
        got = kernels()["rms_norm_backward"](cuda(g), cuda(x), cuda(w), stat(rstd, (37, 1)))
        want = torch.autograd.grad(ty, (tx, tw), torch.tensor(g))
    else:
        ty = torch.nn.functional.layer_norm(tx, (300,), tw, tb, 1e-5)
        _, mean, rstd = kernels()["layer_norm"](cuda(x), cuda(w), cuda(b), 1e-5)
        got = kernels()["layer_norm_backward"](cuda(g), cuda(x), cuda(w), stat(mean, (37, 1)),
                                               stat(rstd, (37, 1)))
        want = torch.autograd.grad(ty, (tx, tw, tb), torch.tensor(g))
    for storage, ref in zip(got, want):
        np.testing.assert_allclose(host(storage, tuple(ref.shape), genesis.float64), ref.numpy(),
                                   rtol=1e-10, atol=1e-12)


def test_layer_norm_backward_over_more_rows_than_programs():
    """The interpreter's default: whole rows, 4 programs of 10 rows for 37 rows."""
    x, g, w = RNG.standard_normal((37, 6)), RNG.standard_normal((37, 6)), RNG.standard_normal(6)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ty = torch.nn.functional.layer_norm(tx, (6,), tw, None, 1e-5)
    _, mean, rstd = kernels()["layer_norm"](cuda(x), cuda(w), None, 1e-5)
    dx, dw, db = kernels()["layer_norm_backward"](cuda(g), cuda(x), cuda(w), stat(mean, (37,)),
                                                  stat(rstd, (37,)))
    want = torch.autograd.grad(ty, (tx, tw), torch.tensor(g))
    # float64, summed in another order on a GPU: rel. 1.4e-10 seen on an H100 where a
    # difference of means cancels
    np.testing.assert_allclose(host(dx, x.shape, genesis.float64), want[0].numpy(), rtol=1e-9)
    np.testing.assert_allclose(host(dw, (6,), genesis.float64), want[1].numpy(), rtol=1e-10)
    np.testing.assert_allclose(host(db, (6,), genesis.float64), g.sum(0), rtol=1e-10)


def test_layer_norm_without_weight_returns_no_parameter_grads():
    x = RNG.standard_normal((4, 6))
    y, mean, rstd = kernels()["layer_norm"](cuda(x), None, None, 1e-5)
    ref = torch.nn.functional.layer_norm(torch.tensor(x), (6,))
    np.testing.assert_allclose(host(y, x.shape, genesis.float64), ref.numpy(), rtol=1e-10)
    dx, dw, db = kernels()["layer_norm_backward"](cuda(x), cuda(x), None, stat(mean, (4,)),
                                                  stat(rstd, (4,)))
    assert dw is None and db is None


def test_cross_entropy_with_ignored_rows(row_blocks):
    logits = RNG.standard_normal((6, 11)) * 3
    target = np.array([0, 10, -100, 4, 4, -100])
    g = RNG.standard_normal(6)
    tl_ = torch.tensor(logits, requires_grad=True)
    tloss = torch.nn.functional.cross_entropy(tl_, torch.tensor(target), reduction="none")
    loss, lse = kernels()["cross_entropy"](cuda(logits), cuda(target), -100)
    np.testing.assert_allclose(host(loss, (6,), genesis.float64), tloss.detach().numpy(),
                               rtol=1e-12, atol=1e-12)
    (tgrad,) = torch.autograd.grad(tloss, tl_, torch.tensor(g), retain_graph=True)
    lse = stat(lse, (6,), genesis.float64)
    d = kernels()["cross_entropy_backward"](cuda(g), cuda(logits), cuda(target), lse, -100)
    np.testing.assert_allclose(host(d, logits.shape, genesis.float64), tgrad.numpy(),
                               rtol=1e-10, atol=1e-12)
    scalar_grad = genesis.tensor(0.5, dtype=genesis.float64, device="cuda").expand(6)
    d = kernels()["cross_entropy_backward"](scalar_grad, cuda(logits), cuda(target), lse, -100)
    (tgrad,) = torch.autograd.grad(tloss, tl_, torch.full((6,), 0.5, dtype=torch.float64))
    np.testing.assert_allclose(host(d, logits.shape, genesis.float64), tgrad.numpy(),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_and_silu_with_gradients(approximate):
    x = RNG.standard_normal((5, 8)) * 3
    g = RNG.standard_normal((5, 8))
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.gelu(tx, approximate=approximate)
    y = kernels()["gelu"](cuda(x).t(), approximate)
    np.testing.assert_allclose(host(y, (8, 5), genesis.float64), ty.detach().numpy().T,
                               rtol=1e-12, atol=1e-14)
    (tg,) = torch.autograd.grad(ty, tx, torch.tensor(g))
    d = kernels()["gelu_backward"](cuda(g), cuda(x), approximate)
    np.testing.assert_allclose(host(d, x.shape, genesis.float64), tg.numpy(), rtol=1e-12,
                               atol=1e-14)
    ts = torch.nn.functional.silu(tx)
    np.testing.assert_allclose(host(kernels()["silu"](cuda(x)), x.shape, genesis.float64),
                               ts.detach().numpy(), rtol=1e-12)
    (tg,) = torch.autograd.grad(ts, tx, torch.tensor(g))
    np.testing.assert_allclose(host(kernels()["silu_backward"](cuda(g), cuda(x)), x.shape,
                                    genesis.float64), tg.numpy(), rtol=1e-12)


def test_dropout_mask_scale_and_reproducibility():
    x = RNG.standard_normal((64, 64)).astype(np.float32)
    y, keep = kernels()["dropout"](cuda(x).t(), 0.3, 5, 128)
    y, keep = host(y, (64, 64), genesis.float32), host(keep, (64, 64), genesis.bool)
    assert abs(keep.mean() - 0.7) < 0.03
    np.testing.assert_allclose(y, np.where(keep, x.T / 0.7, 0), rtol=1e-6)
    y2, keep2 = kernels()["dropout"](cuda(x).t(), 0.3, 5, 128)
    np.testing.assert_array_equal(host(keep2, (64, 64), genesis.bool), keep)
    uniform = genesis.device("cuda").backend.random("uniform", (64, 64), genesis.float32, 0, 5,
                                                    128, 0.0, 1.0)
    np.testing.assert_array_equal(keep, host(uniform, (64, 64), genesis.float32) >= 0.3)


@pytest.mark.parametrize("amsgrad,maximize,decoupled", [(False, False, True), (True, False, True),
                                                        (False, True, False)])
def test_adamw_step_matches_torch_over_steps(amsgrad, maximize, decoupled):
    shapes = [(7, 5), (13,), (3, 4)]
    params = [RNG.standard_normal(s).astype(np.float32) for s in shapes]
    tparams = [torch.tensor(p, requires_grad=True) for p in params]
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    opt = cls(tparams, lr=1e-2, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1,
              amsgrad=amsgrad, maximize=maximize)
    gp = [cuda(p) for p in params]
    m = [genesis.zeros(*s, device="cuda") for s in shapes]
    v = [genesis.zeros(*s, device="cuda") for s in shapes]
    vmax = [genesis.zeros(*s, device="cuda") for s in shapes] if amsgrad else None
    for step in range(1, 4):
        grads = [RNG.standard_normal(s).astype(np.float32) for s in shapes]
        for tp, gr in zip(tparams, grads):
            tp.grad = torch.tensor(gr)
        opt.step()
        done = kernels()["adamw_step"](gp, [cuda(gr) for gr in grads], m, v, vmax, lr=1e-2,
                                       beta1=0.8, beta2=0.95, eps=1e-6, weight_decay=0.1,
                                       steps=[step] * 3, amsgrad=amsgrad, maximize=maximize,
                                       decoupled=decoupled)
        assert done is None
    for p, tp in zip(gp, tparams):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_adamw_step_declines_integer_tensors_untouched():
    p = genesis.zeros(3, dtype=genesis.int32, device="cuda")
    out = kernels()["adamw_step"]([p], [p], [p], [p], None, lr=1.0, beta1=0.9, beta2=0.9,
                                  eps=1.0, weight_decay=0.0, steps=[1], amsgrad=False,
                                  maximize=False, decoupled=True)
    assert out is NotImplemented and p.numpy().tolist() == [0, 0, 0]


def test_adamw_step_on_strided_state_writes_back():
    p = cuda(np.ones((4, 3), np.float32))
    m = genesis.zeros(3, 4, device="cuda").t()  # non-contiguous state
    v = genesis.zeros(3, 4, device="cuda").t()
    g = cuda(np.full((4, 3), 0.5, np.float32))
    kernels()["adamw_step"]([p], [g], [m], [v], None, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8,
                            weight_decay=0.0, steps=[1], amsgrad=False, maximize=False,
                            decoupled=True)
    np.testing.assert_allclose(m.numpy(), np.full((4, 3), 0.05), rtol=1e-6)
    np.testing.assert_allclose(p.numpy(), np.full((4, 3), 0.9), rtol=1e-5)


def test_genesis_optim_adamw_uses_the_fused_kernel():
    from genesis.optim import AdamW
    w = genesis.tensor(np.ones(4, np.float32), device="cuda", requires_grad=True)
    opt = AdamW([w], lr=0.1, fused=True)
    (w * w).sum().backward()
    opt.step()
    tw = torch.ones(4, requires_grad=True)
    topt = torch.optim.AdamW([tw], lr=0.1)
    (tw * tw).sum().backward()
    topt.step()
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-6)


def test_functional_ops_take_the_fused_path_and_agree_with_composites():
    from genesis.testing import composite_only
    x = RNG.standard_normal((4, 6)).astype(np.float32)
    w = RNG.standard_normal(6).astype(np.float32)

    def run():
        tx, tw = cuda(x, grad=True), cuda(w, grad=True)
        y = F.layer_norm(F.softmax(tx, 1) * 3, (6,), tw, None) + F.log_softmax(tx, 0)
        y.sum().backward()
        return y.detach().numpy(), tx.grad.numpy(), tw.grad.numpy()

    fused_out = run()
    with composite_only("cuda"):
        composite = run()
    for a, b in zip(fused_out, composite):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def adam_reference(p, g, m, v, vmax, step, lr, b1, b2, eps, wd, amsgrad, decoupled):
    """PyTorch's Adam/AdamW update in float64 numpy."""
    p, g, m, v = (np.asarray(a, np.float64).copy() for a in (p, g, m, v))
    if decoupled:
        p *= 1 - lr * wd
    else:
        g = g + wd * p
    m += (g - m) * (1 - b1)
    v = v * b2 + (1 - b2) * g * g
    vmax = np.maximum(vmax, v) if amsgrad else v
    p -= lr / (1 - b1**step) * m / (np.sqrt(vmax) / math.sqrt(1 - b2**step) + eps)
    return p, m, v, vmax


def test_adamw_step_groups_dtypes_alignment_and_per_tensor_steps():
    be = genesis.device("cuda").backend
    base = genesis.tensor(RNG.standard_normal(40).astype(np.float32), device="cuda")
    specs = [((6, 5), "float32", 3), ((7,), "bfloat16", 3), ((9,), "float32", 1)]
    params = [cuda(RNG.standard_normal(s), getattr(genesis, d)) for s, d, _ in specs]
    params.append(base[1:12])  # offset 1 element: not 16-byte aligned, its own group
    untouched = base[0].item()
    steps = [st for _, _, st in specs] + [5]
    grads = [cuda(RNG.standard_normal(p.shape), p.dtype) for p in params]
    ms = [cuda(RNG.standard_normal(p.shape) * 0.1) for p in params]
    vs = [cuda(np.abs(RNG.standard_normal(p.shape)) * 0.1) for p in params]
    vmax = [cuda(np.abs(RNG.standard_normal(p.shape)) * 0.2) for p in params]
    before = [[t.numpy().astype(np.float64) for t in ts] for ts in (params, grads, ms, vs, vmax)]
    hyper = dict(lr=0.01, beta1=0.9, beta2=0.99, eps=1e-6, weight_decay=0.05)
    for _ in range(2):  # the second call reuses the cached tables
        kernels()["adamw_step"](params, grads, ms, vs, vmax, steps=steps, amsgrad=True,
                                maximize=False, decoupled=False, **hyper)
    assert len(be._adamw_tables) >= 3
    for i, p in enumerate(params):
        ref = [before[k][i] for k in range(5)]
        for _ in range(2):
            out = adam_reference(ref[0], ref[1], ref[2], ref[3], ref[4], steps[i],
                                 hyper["lr"], hyper["beta1"], hyper["beta2"], hyper["eps"],
                                 hyper["weight_decay"], True, False)
            ref = [out[0], ref[1], out[1], out[2], out[3]]
        tol = 2e-2 if p.dtype is genesis.bfloat16 else 1e-5
        np.testing.assert_allclose(p.numpy().astype(np.float64), ref[0], rtol=tol, atol=tol)
        np.testing.assert_allclose(vmax[i].numpy(), ref[4], rtol=tol, atol=tol)
    assert base[0].item() == untouched
