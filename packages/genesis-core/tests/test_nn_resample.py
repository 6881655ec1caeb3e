"""interpolate / Upsample, grid_sample and affine_grid against PyTorch: values, gradients
(input and grid/theta; a zero grid gradient for nearest, as PyTorch), float64 gradcheck,
PyTorch's source-index rules for sizes and scale factors, and the errors."""

import warnings

import genesis
import numpy as np
import pytest
import torch
from torch_compare import assert_raises_like_torch, compare

F = genesis.nn.functional

# (mode, input shape, sizes or scale factors): up, down, size 1 in and out, non-square
RESIZES = [
    ("nearest", (2, 3, 5), {"size": 9}),
    ("nearest", (1, 2, 4, 3), {"size": (7, 2)}),
    ("nearest", (1, 1, 2, 3, 4), {"scale_factor": (1.5, 2.0, 0.5)}),
    ("nearest", (2, 1, 7), {"scale_factor": 0.43}),
    ("nearest-exact", (2, 3, 5), {"size": 8}),
    ("nearest-exact", (1, 2, 5, 3), {"scale_factor": (1.7, 2.6)}),
    ("nearest-exact", (1, 1, 3, 2, 4), {"size": (2, 5, 3)}),
    ("linear", (2, 3, 5), {"size": 11}),
    ("linear", (2, 1, 7), {"size": 3}),
    ("linear", (1, 2, 1), {"size": 4}),
    ("linear", (1, 2, 6), {"size": 1}),
    ("linear", (2, 2, 4), {"scale_factor": 1.3}),
    ("bilinear", (2, 3, 4, 5), {"size": (7, 3)}),
    ("bilinear", (1, 1, 1, 3), {"size": (3, 8)}),
    ("bilinear", (1, 2, 5, 4), {"scale_factor": (0.6, 2.5)}),
    ("bicubic", (2, 2, 4, 5), {"size": (9, 3)}),
    ("bicubic", (1, 1, 3, 2), {"scale_factor": 2.2}),
    ("bicubic", (1, 1, 1, 4), {"size": (3, 2)}),
    ("bicubic", (1, 2, 6, 3), {"scale_factor": (1.3, 0.7)}),
    ("bilinear", (1, 1, 3, 2), {"scale_factor": 1.3}),  # sizes unchanged: a copy
    ("trilinear", (1, 2, 3, 4, 2), {"size": (5, 2, 3)}),
    ("trilinear", (1, 1, 2, 3, 3), {"scale_factor": (1.5, 0.7, 2.0)}),
    ("area", (2, 3, 7), {"size": 3}),
    ("area", (1, 2, 5, 4), {"size": (2, 7)}),
    ("area", (1, 1, 4, 3, 5), {"scale_factor": 0.5}),
]


def _ids(case):
    mode, shape, kw = case
    return f"{mode}-{'x'.join(map(str, shape))}-{list(kw.values())[0]}"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", RESIZES, ids=[_ids(c) for c in RESIZES])
def test_interpolate_matches_torch(case, dtype):
    mode, shape, kw = case
    corners = [None] if mode in ("nearest", "nearest-exact", "area") else [False, True]
    recompute = [None] if "size" in kw else [None, True]
    # float32 bicubic: 16 products of up to |1.3 * 2| summed in another order than PyTorch's
    tol = {"atol": 1e-5, "grad_atol": 1e-5} if dtype == "float32" and mode == "bicubic" else {}
    for align_corners in corners:
        for rc in recompute:
            extra = {} if rc is None else {"recompute_scale_factor": rc}
            compare(lambda lib, x, ac=align_corners, extra=extra: lib.nn.functional.interpolate(
                x, mode=mode, align_corners=ac, **kw, **extra), [shape], dtype=dtype, **tol)


def test_bicubic_with_unchanged_sizes_resamples_like_torch():
    """A given scale moves the samples even where the size is unchanged. PyTorch's forward
    does so, but its backward then copies the gradient as for an identity (inconsistent with
    its own forward); Genesis differentiates the forward it computes (checked by gradcheck)."""
    kw = {"scale_factor": 1.3, "mode": "bicubic"}
    compare(lambda lib, x: lib.nn.functional.interpolate(x, **kw), [(1, 1, 3, 2)], grad=False)
    x = genesis.tensor(np.random.default_rng(7).standard_normal((1, 1, 3, 2)),
                       requires_grad=True)
    assert genesis.autograd.gradcheck(lambda t: F.interpolate(t, **kw), [x])


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
def test_interpolate_uint8_images_with_the_nearest_modes(mode):
    image = np.random.default_rng(6).integers(0, 256, (2, 3, 4, 5)).astype(np.uint8)
    compare(lambda lib, x: lib.nn.functional.interpolate(x, size=(7, 3), mode=mode),
            arrays=[image])


@pytest.mark.parametrize("layout", ["transposed", "sliced"])
def test_interpolate_on_strided_views(layout):
    compare(lambda lib, x: lib.nn.functional.interpolate(x, size=(5, 7), mode="bicubic"),
            [(1, 2, 3, 4)], layout=layout)
    compare(lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=2), [(2, 3, 4)],
            layout=layout)


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "linear"])
def test_interpolate_source_indices_match_torch_for_every_size_and_scale(mode):
    """Identity inputs (0, 1, 2, ...) show the source index of every output position."""
    corners = [None] if mode != "linear" else [False, True]
    for n in range(1, 10):
        x = np.arange(n, dtype=np.float32).reshape(1, 1, n)
        for align_corners in corners:
            for out in range(1, 20):
                kw = {"size": out, "mode": mode, "align_corners": align_corners}
                compare(lambda lib, t, kw=kw: lib.nn.functional.interpolate(t, **kw),
                        arrays=[x], grad=False)
            for factor in (0.3, 0.5, 0.77, 1.0, 1.3, 1.7, 2.0, 2.5, 3.3):
                for rc in (None, False, True):
                    if int(n * factor) < 1:
                        continue
                    kw = {"scale_factor": factor, "mode": mode, "align_corners": align_corners,
                          "recompute_scale_factor": rc}
                    compare(lambda lib, t, kw=kw: lib.nn.functional.interpolate(t, **kw),
                            arrays=[x], grad=False)


@pytest.mark.parametrize("mode,shape,size", [
    ("nearest", (1, 2, 3, 2), (5, 3)), ("nearest-exact", (1, 1, 4), (3,)),
    ("linear", (1, 2, 4), (7,)), ("bilinear", (1, 1, 3, 4), (5, 2)),
    ("bicubic", (1, 1, 3, 3), (4, 5)), ("trilinear", (1, 1, 2, 3, 2), (3, 2, 4)),
    ("area", (1, 2, 5, 4), (3, 3))])
def test_interpolate_gradcheck(mode, shape, size):
    x = genesis.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)
    corners = [None] if mode in ("nearest", "nearest-exact", "area") else [False, True]
    for align_corners in corners:
        assert genesis.autograd.gradcheck(
            lambda t, ac=align_corners: F.interpolate(t, size, mode=mode, align_corners=ac),
            [x])


def test_upsample_modules_match_torch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 4, 5))
    for args, kwargs in [((), {"scale_factor": 2}), ((), {"size": (3, 7), "mode": "bilinear"}),
                         ((), {"scale_factor": (1.5, 0.5), "mode": "bicubic",
                               "align_corners": True}),
                         ((), {"scale_factor": 1.7, "mode": "nearest-exact",
                               "recompute_scale_factor": True})]:
        g, t = genesis.nn.Upsample(*args, **kwargs), torch.nn.Upsample(*args, **kwargs)
        assert repr(g) == repr(t)
        assert g.scale_factor == t.scale_factor and g.size == t.size
        gx, tx = genesis.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, ref = g(gx), t(tx)
        np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-12,
                                   atol=1e-12)
        out.sum().backward()
        ref.sum().backward()
        np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
        assert not list(g.parameters()) and g.state_dict() == {}
    for cls in ("UpsamplingNearest2d", "UpsamplingBilinear2d"):
        g, t = getattr(genesis.nn, cls)(scale_factor=2), getattr(torch.nn, cls)(scale_factor=2)
        assert repr(g) == repr(t)
        np.testing.assert_allclose(g(genesis.tensor(x)).numpy(), t(torch.tensor(x)).numpy(),
                                   rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["upsample", "upsample_nearest", "upsample_bilinear"])
def test_deprecated_upsample_functions_warn_and_match_torch(name):
    x = np.random.default_rng(2).standard_normal((1, 2, 3, 3))
    with pytest.warns(UserWarning, match=f"`nn.functional.{name}` is deprecated"):
        out = getattr(F, name)(genesis.tensor(x), scale_factor=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = getattr(torch.nn.functional, name)(torch.tensor(x), scale_factor=2)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)


def test_interpolate_errors_like_torch():
    def call(kw, shape=(1, 1, 4, 4)):
        return lambda lib: lib.nn.functional.interpolate(lib.zeros(*shape), **kw)

    assert_raises_like_torch(call({"size": 2, "align_corners": True}), "align_corners option")
    assert_raises_like_torch(call({"size": 2, "scale_factor": 2.0}), "only one of size")
    assert_raises_like_torch(call({}), "either size or scale_factor")
    assert_raises_like_torch(call({"size": (2, 3, 4)}), "same number of spatial dimensions")
    assert_raises_like_torch(call({"scale_factor": (2.0,)}), "same number of spatial")
    assert_raises_like_torch(call({"size": (2.5, 3)}), "expected size to be one of int")
    assert_raises_like_torch(call({"size": 2, "recompute_scale_factor": True}),
                             "recompute_scale_factor is not meaningful")
    assert_raises_like_torch(call({"size": 2, "mode": "linear"}), "needs 3D input")
    assert_raises_like_torch(call({"size": 2, "mode": "trilinear"}), "needs 5D input")
    assert_raises_like_torch(call({"size": 2, "mode": "bilinear"}, (1, 1, 4)), "needs 4D input")
    assert_raises_like_torch(call({"size": 2}, (4, 4)), "Only 3D, 4D and 5D")
    assert_raises_like_torch(call({"size": 2, "mode": "nearest", "antialias": True}),
                             "Anti-alias option is restricted")
    with pytest.raises(NotImplementedError, match="antialias=True"):
        F.interpolate(genesis.zeros(1, 1, 4, 4), size=2, mode="bilinear", antialias=True)
    with pytest.raises(NotImplementedError, match="mode='lanczos'"):
        F.interpolate(genesis.zeros(1, 1, 4, 4), size=2, mode="lanczos")
    assert_raises_like_torch(
        lambda lib: lib.nn.functional.interpolate(lib.zeros(1, 1, 3, dtype=lib.int64), size=2),
        "not implemented for")
    with pytest.raises(TypeError, match="input must be a Tensor"):
        F.interpolate(np.zeros((1, 1, 2)), size=2)


# ---------------------------------------------------------------------- grid_sample, affine_grid

GRIDS = [((2, 3, 4, 5), (2, 3, 2)), ((1, 1, 1, 1), (1, 2, 3)), ((1, 2, 5, 1), (1, 4, 1)),
         ((2, 1, 2, 2), (2, 1, 1)), ((1, 2, 3, 6), (1, 5, 4))]
VOLUMES = [((2, 2, 3, 4, 2), (2, 2, 3, 2)), ((1, 1, 1, 2, 1), (1, 3, 1, 2)),
           ((1, 2, 2, 1, 3), (1, 1, 2, 2))]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_grid_sample_matches_torch(mode, padding_mode, dtype):
    rng = np.random.default_rng(3)
    # float32 bicubic: 16 weighted taps summed in another order than PyTorch's (grid
    # gradients reach |10|, so their rounding is ~1e-5)
    tol = {"atol": 1e-5, "grad_atol": 1e-4} if dtype == "float32" and mode == "bicubic" else {}
    for shape, out in GRIDS + ([] if mode == "bicubic" else VOLUMES):
        x = rng.uniform(-2, 2, shape).astype(dtype)
        grid = rng.uniform(-1.5, 1.5, out + (len(shape) - 2,)).astype(dtype)
        for align_corners in (False, True):
            compare(lambda lib, a, g, ac=align_corners: lib.nn.functional.grid_sample(
                a, g, mode=mode, padding_mode=padding_mode, align_corners=ac),
                arrays=[x, grid], **tol)


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_gradcheck_volumes(padding_mode):
    rng = np.random.default_rng(8)
    x = genesis.tensor(rng.standard_normal((1, 1, 2, 3, 2)), requires_grad=True)
    grid = genesis.tensor(rng.uniform(-1.4, 1.4, (1, 2, 1, 2, 3)), requires_grad=True)
    assert genesis.autograd.gradcheck(
        lambda a, g: F.grid_sample(a, g, padding_mode=padding_mode, align_corners=False),
        [x, grid])


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_gradcheck(padding_mode):
    rng = np.random.default_rng(4)
    x = genesis.tensor(rng.standard_normal((1, 2, 3, 4)), requires_grad=True)
    grid = genesis.tensor(rng.uniform(-1.4, 1.4, (1, 3, 2, 2)), requires_grad=True)
    for align_corners in (False, True):
        assert genesis.autograd.gradcheck(
            lambda a, g, ac=align_corners: F.grid_sample(a, g, padding_mode=padding_mode,
                                                         align_corners=ac), [x, grid])
        assert genesis.autograd.gradcheck(
            lambda a, g, ac=align_corners: F.grid_sample(a, g, mode="bicubic",
                                                         padding_mode=padding_mode,
                                                         align_corners=ac), [x, grid])
        assert genesis.autograd.gradcheck(
            lambda a, ac=align_corners: F.grid_sample(a, grid.detach(), mode="nearest",
                                                      padding_mode=padding_mode,
                                                      align_corners=ac), [x])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 1, 3), (2, 2, 3, 1), (2, 1, 1, 1),
                                  (2, 1, 3, 2, 4), (2, 2, 1, 3, 1)])
def test_affine_grid_matches_torch(size, dtype):
    k = len(size) - 2
    theta = np.random.default_rng(5).standard_normal((2, k, k + 1)).astype(dtype)
    for align_corners in (False, True):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            compare(lambda lib, t, ac=align_corners: lib.nn.functional.affine_grid(
                t, size, align_corners=ac), arrays=[theta])
        unit = [w for w in caught if "unit-size grids" in str(w.message)]
        assert len(unit) == (2 if align_corners and min(size[2:]) == 1 else 0)  # both warn


def test_affine_grid_then_grid_sample_is_differentiable_in_theta():
    rng = np.random.default_rng(6)
    theta = rng.standard_normal((2, 2, 3)) * 0.5
    x = rng.standard_normal((2, 3, 5, 4))
    compare(lambda lib, t, a: lib.nn.functional.grid_sample(
        a, lib.nn.functional.affine_grid(t, (2, 3, 3, 6), align_corners=False),
        align_corners=False), arrays=[theta, x])
    t = genesis.tensor(theta, requires_grad=True)
    assert genesis.autograd.gradcheck(
        lambda th: F.affine_grid(th, (2, 1, 3, 2), align_corners=True), [t])
    theta3 = rng.standard_normal((1, 3, 4)) * 0.5
    volume = rng.standard_normal((1, 2, 3, 2, 4))
    compare(lambda lib, t, a: lib.nn.functional.grid_sample(
        a, lib.nn.functional.affine_grid(t, (1, 2, 2, 3, 2), align_corners=True),
        padding_mode="border", align_corners=True), arrays=[theta3, volume])


def test_grid_sample_and_affine_grid_warn_without_align_corners():
    for call in (lambda lib: lib.nn.functional.grid_sample(lib.zeros(1, 1, 2, 2),
                                                          lib.zeros(1, 1, 1, 2)),
                 lambda lib: lib.nn.functional.affine_grid(lib.zeros(1, 2, 3), [1, 1, 2, 2])):
        with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
            out = call(genesis)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = call(torch)
        np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_grid_sample_and_affine_grid_errors_like_torch():
    def sample(x_shape, g_shape, **kw):
        return lambda lib: lib.nn.functional.grid_sample(
            lib.zeros(*x_shape), lib.zeros(*g_shape), align_corners=False, **kw)

    assert_raises_like_torch(sample((1, 1, 2, 2), (1, 1, 1, 2), mode="area"),
                             "expected mode to be 'bilinear', 'nearest' or 'bicubic'")
    assert_raises_like_torch(sample((1, 1, 2, 2), (1, 1, 1, 2), padding_mode="wrap"),
                             "expected padding_mode to be 'zeros'")
    assert_raises_like_torch(sample((1, 1, 2, 2), (1, 1, 1, 3)), "size 2 in last dimension")
    assert_raises_like_torch(sample((2, 1, 2, 2), (1, 1, 1, 2)), "same batch size")

    def affine(theta_shape, size):
        return lambda lib: lib.nn.functional.affine_grid(lib.zeros(*theta_shape), size,
                                                         align_corners=False)

    assert_raises_like_torch(affine((1, 3, 3), [1, 1, 2, 2]), "shape Nx2x3")
    assert_raises_like_torch(affine((1, 2, 3), [1, 1, 0, 2]), "positive output size")
    assert_raises_like_torch(affine((1, 2, 3), [1, 2, 2]), "only supports 4D and 5D sizes")
    assert_raises_like_torch(
        lambda lib: lib.nn.functional.affine_grid(lib.zeros(1, 2, 3, dtype=lib.int64),
                                                  [1, 1, 2, 2], align_corners=False),
        "floating point type")
    assert_raises_like_torch(sample((1, 1, 2, 2, 2), (1, 1, 1, 1, 3), mode="bicubic"),
                             "bicubic interpolation only supports 4D input")
    assert_raises_like_torch(sample((1, 1, 2, 2, 2), (1, 1, 1, 2)), "size 3 in last dimension")
    assert_raises_like_torch(affine((1, 2, 3), [1, 1, 2, 2, 2]), "shape Nx3x4")
