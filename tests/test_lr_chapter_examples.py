"""The LR-scheduler chapter's examples, run as written.

Each test is one example of the chapter: the code a user would copy, with the
names the chapter leaves undefined (``train_loader``, ``train_one_epoch``, the
data) filled in by small seeded NumPy data sets. Every test checks the learning
rates against closed-form float64 formulas written out here (not taken from
genesis) and that the loss actually falls.
"""

from __future__ import annotations

import math

import genesis
import genesis.nn as nn
import genesis.optim as optim
import numpy as np
import pytest
from genesis.utils.data import DataLoader, TensorDataset

# Float64 closed forms vs genesis's float64 arithmetic: only rounding may differ.
EXACT = {"rel": 1e-12, "abs": 1e-15}


# -- the names the chapter leaves undefined --------------------------------------------------
def regression_data(n: int = 256, d: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``y = x @ w + 0.5 + noise`` with standard-normal features (float32)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    w = rng.standard_normal((d, 1))
    y = x @ w + 0.5 + 0.05 * rng.standard_normal((n, 1))
    return x.astype(np.float32), y.astype(np.float32)


def mnist_like(
    n: int = 512, features: int = 784, classes: int = 10, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Data like MNIST: ``features``-dim unit-noise samples around one random mean per class
    (class means about 11 noise standard deviations apart, whatever ``features`` is)."""
    rng = np.random.default_rng(seed)
    means = 8.0 / math.sqrt(features) * rng.standard_normal((classes, features))
    y = rng.integers(0, classes, n)
    x = means[y] + rng.standard_normal((n, features))
    return x.astype(np.float32), y.astype(np.int64)


def make_loader(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool = False):
    return DataLoader(
        TensorDataset(genesis.tensor(x), genesis.tensor(y)), batch_size=batch_size, shuffle=shuffle
    )


def train_one_epoch(model, train_loader, optimizer, criterion) -> float:
    """One pass over ``train_loader``; the mean loss, weighted by batch size."""
    total, seen = 0.0, 0
    for inputs, targets in train_loader:
        loss = criterion(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(targets)
        seen += len(targets)
    return total / seen


def params_numpy(model) -> list[np.ndarray]:
    return [p.detach().numpy().copy() for p in model.parameters()]


# -- 1. LambdaLR ------------------------------------------------------------------------------
def test_lambda_lr_exponential_decay_prints_one_group(capsys):
    genesis.manual_seed(0)
    train_loader = make_loader(*regression_data(), batch_size=64)
    model = nn.Linear(8, 1)
    criterion = nn.MSELoss()

    optimizer = optim.SGD(model.parameters(), lr=0.1)
    scheduler = optim.LambdaLR(optimizer, lr_lambda=lambda epoch: 0.95**epoch)

    losses = []
    for epoch in range(10):
        losses.append(train_one_epoch(model, train_loader, optimizer, criterion))
        scheduler.step()
        print(f"Epoch {epoch}, LR: {scheduler.get_last_lr():.6f}")
        assert scheduler.get_last_lr()[0] == pytest.approx(0.1 * 0.95 ** (epoch + 1), **EXACT)
        assert optimizer.param_groups[0]["lr"] == scheduler.get_last_lr()[0]

    expected = "".join(f"Epoch {e}, LR: {0.1 * 0.95 ** (e + 1):.6f}\n" for e in range(10))
    assert capsys.readouterr().out == expected
    assert losses[-1] < 0.05 * losses[0]


def test_lambda_lr_one_lambda_per_param_group():
    genesis.manual_seed(0)
    train_loader = make_loader(*regression_data(), batch_size=64)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    criterion = nn.MSELoss()

    optimizer = optim.SGD(
        [
            {"params": model[0].parameters()},  # uses the default lr=0.1
            {"params": model[2].parameters(), "lr": 0.05},
        ],
        lr=0.1,
    )
    scheduler = optim.LambdaLR(
        optimizer, lr_lambda=[lambda epoch: 0.95**epoch, lambda epoch: 1.0 / (epoch + 1)]
    )

    losses = []
    for epoch in range(15):
        lrs = scheduler.get_last_lr()
        assert lrs[0] == pytest.approx(0.1 * 0.95**epoch, **EXACT)
        assert lrs[1] == pytest.approx(0.05 / (epoch + 1), **EXACT)
        assert [g["lr"] for g in optimizer.param_groups] == list(lrs)
        losses.append(train_one_epoch(model, train_loader, optimizer, criterion))
        scheduler.step()
    # With two groups the LR list needs an index to be formatted.
    assert f"{scheduler.get_last_lr()[0]:.6f}" == f"{0.1 * 0.95**15:.6f}"
    with pytest.raises(TypeError, match="param group"):
        f"{scheduler.get_last_lr():.6f}"
    assert losses[-1] < 0.2 * losses[0]


# -- 2. cosine with warmup, stepped per batch -------------------------------------------------
def cosine_with_warmup(step: int, warmup: int, total: int) -> float:
    if step < warmup:
        return step / warmup
    progress = (step - warmup) / (total - warmup)
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))


def test_cosine_schedule_with_warmup_per_batch():
    genesis.manual_seed(0)
    x, y = mnist_like(n=256, features=64)
    train_loader = make_loader(x, y, batch_size=32, shuffle=True)  # 8 batches per epoch
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.AdamW(model.parameters(), lr=1e-2)

    num_epochs = 5
    num_training_steps = num_epochs * len(train_loader)  # 40
    num_warmup_steps = num_training_steps // 10  # 4
    scheduler = optim.get_cosine_schedule_with_warmup(
        optimizer, num_warmup_steps=num_warmup_steps, num_training_steps=num_training_steps
    )

    lrs, epoch_losses = [], []
    for _epoch in range(num_epochs):
        total = 0.0
        for inputs, targets in train_loader:
            lrs.append(scheduler.get_last_lr()[0])  # the LR this batch trains with
            loss = criterion(model(inputs), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item()
        epoch_losses.append(total / len(train_loader))

    assert len(lrs) == num_training_steps == 40
    assert lrs[0] == 0.0
    assert lrs[num_warmup_steps] == pytest.approx(1e-2, **EXACT)
    assert lrs[(num_warmup_steps + num_training_steps) // 2] == pytest.approx(5e-3, **EXACT)
    assert scheduler.get_last_lr()[0] == pytest.approx(0.0, abs=1e-18)  # step T: 0
    for t, lr in enumerate(lrs):
        expected = 1e-2 * cosine_with_warmup(t, num_warmup_steps, num_training_steps)
        assert lr == pytest.approx(expected, **EXACT), t
    assert max(lrs) == lrs[num_warmup_steps]
    assert epoch_losses[-1] < 0.2 * epoch_losses[0]


# -- 3. step decay, polynomial decay, cosine restarts -----------------------------------------
def sgdr(t: float, t_0: int, t_mult: int) -> tuple[float, float, int]:
    """``(T_cur, T_i, i)`` of SGDR in closed form: cycle ``i`` lasts ``T_0 m^i`` steps and
    starts at ``T_0 (m^i - 1) / (m - 1)`` (at ``i T_0`` for ``m = 1``)."""
    if t_mult == 1:
        return t % t_0, float(t_0), int(t // t_0)

    def start(i: int) -> int:
        return t_0 * (t_mult**i - 1) // (t_mult - 1)

    i = math.floor(math.log(t / t_0 * (t_mult - 1) + 1, t_mult))
    i += start(i + 1) <= t  # the float log may land just below an integer
    return t - start(i), float(t_0 * t_mult**i), i


def _restarts(t: int, w: int, cycle: int, mult: int, low: float, decay: float) -> float:
    if t < w:
        return t / w
    t_cur, length, k = sgdr(t - w, cycle, mult)
    return low + (decay**k - low) * (1.0 + math.cos(math.pi * t_cur / length)) / 2.0


BASE_LR = 0.1

# (factory(optimizer), expected LR at step t, number of steps)
SCHEDULES = {
    "StepLR": (
        lambda opt: optim.StepLR(opt, step_size=30, gamma=0.1),
        lambda t: BASE_LR * 0.1 ** (t // 30),
        100,
    ),
    "get_step_decay_schedule": (
        lambda opt: optim.get_step_decay_schedule(
            opt, step_size=20, gamma=0.5, num_warmup_steps=10
        ),
        lambda t: BASE_LR * (t / 10 if t < 10 else 0.5 ** ((t - 10) // 20)),
        80,
    ),
    "PolynomialLR": (
        lambda opt: optim.PolynomialLR(opt, total_iters=50, power=2.0),
        lambda t: BASE_LR * (1.0 - min(t, 50) / 50) ** 2.0,
        60,
    ),
    "get_polynomial_decay_schedule": (
        lambda opt: optim.get_polynomial_decay_schedule(
            opt, num_training_steps=60, power=2.0, end_factor=0.01, num_warmup_steps=10
        ),
        lambda t: (
            BASE_LR * (t / 10 if t < 10 else 0.01 + 0.99 * (1.0 - min(t - 10, 50) / 50) ** 2.0)
        ),
        70,
    ),
    "get_polynomial_decay_schedule_with_warmup": (
        lambda opt: optim.get_polynomial_decay_schedule_with_warmup(
            opt, num_warmup_steps=10, num_training_steps=60, lr_end=1e-4, power=1.0
        ),
        lambda t: (
            BASE_LR * t / 10
            if t < 10
            else (BASE_LR - 1e-4) * (1.0 - (t - 10) / 50) + 1e-4
            if t <= 60
            else 1e-4
        ),
        70,
    ),
    "CosineAnnealingWarmRestarts": (
        lambda opt: optim.CosineAnnealingWarmRestarts(opt, T_0=10, T_mult=2, eta_min=1e-4),
        lambda t: 1e-4 + (BASE_LR - 1e-4) * _restarts(t, 0, 10, 2, 0.0, 1.0),
        75,
    ),
    "CosineAnnealingWarmRestarts_T_mult_1": (
        lambda opt: optim.CosineAnnealingWarmRestarts(opt, T_0=15),
        lambda t: BASE_LR * (1.0 + math.cos(math.pi * (t % 15) / 15)) / 2,
        50,
    ),
    "get_cosine_restarts_schedule": (
        lambda opt: optim.get_cosine_restarts_schedule(
            opt, cycle_steps=10, cycle_mult=2, min_factor=0.01, cycle_decay=0.5, num_warmup_steps=5
        ),
        lambda t: BASE_LR * _restarts(t, 5, 10, 2, 0.01, 0.5),
        80,
    ),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_decay_and_restart_schedules(name):
    factory, formula, num_epochs = SCHEDULES[name]
    genesis.manual_seed(0)
    train_loader = make_loader(*regression_data(n=128), batch_size=128)
    model = nn.Linear(8, 1)
    criterion = nn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=BASE_LR)
    scheduler = factory(optimizer)

    lrs, losses = [], []
    for _epoch in range(num_epochs):
        lrs.append(scheduler.get_last_lr()[0])
        losses.append(train_one_epoch(model, train_loader, optimizer, criterion))
        scheduler.step()

    expected = [formula(t) for t in range(num_epochs)]
    assert lrs == pytest.approx(expected, **EXACT)
    assert losses[-1] < 0.05 * losses[0]


def test_cosine_warm_restarts_stepped_with_fractional_epochs():
    """SGDR per batch, as in PyTorch's docs: ``scheduler.step(epoch + i / iters)``."""
    genesis.manual_seed(0)
    train_loader = make_loader(*regression_data(n=128), batch_size=32)
    model = nn.Linear(8, 1)
    criterion = nn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=BASE_LR)
    scheduler = optim.CosineAnnealingWarmRestarts(optimizer, T_0=5, T_mult=2, eta_min=1e-4)

    iters = len(train_loader)
    seen, losses = [], []
    for epoch in range(20):
        for i, (inputs, targets) in enumerate(train_loader):
            loss = criterion(model(inputs), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step(epoch + i / iters)
            seen.append((epoch + i / iters, scheduler.get_last_lr()[0]))
            losses.append(loss.item())

    for t, lr in seen:
        t_cur, length, _ = sgdr(t, 5, 2)
        expected = 1e-4 + (BASE_LR - 1e-4) * (1.0 + math.cos(math.pi * t_cur / length)) / 2
        assert lr == pytest.approx(expected, **EXACT), t
    assert dict(seen)[5.0] == dict(seen)[15.0] == pytest.approx(BASE_LR, **EXACT)  # restarts
    assert np.mean(losses[-iters:]) < 0.05 * np.mean(losses[:iters])


def test_restart_formulas_restart():
    """The closed forms above really restart where the chapter says (guards the test itself)."""
    starts = [t for t in range(1, 75) if sgdr(t, 10, 2)[0] == 0]
    assert starts == [10, 30, 70]
    peaks = [_restarts(t, 5, 10, 2, 0.01, 0.5) for t in (5, 15, 35)]
    assert peaks == pytest.approx([1.0, 0.5, 0.25])


# -- 4. the basic training loop ---------------------------------------------------------------
def test_basic_training_loop_with_lambda_lr():
    genesis.manual_seed(0)
    x, y = mnist_like(n=512)
    train_loader = make_loader(x, y, batch_size=64, shuffle=True)

    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    scheduler = optim.LambdaLR(optimizer, lr_lambda=lambda epoch: 0.95**epoch)

    num_epochs = 5
    lrs, epoch_losses = [], []
    for _epoch in range(num_epochs):
        lrs.append(scheduler.get_last_lr()[0])
        total = 0.0
        for data, target in train_loader:
            optimizer.zero_grad()
            output = model(data)
            loss = criterion(output, target)
            loss.backward()
            optimizer.step()
            total += loss.item()
        epoch_losses.append(total / len(train_loader))
        scheduler.step()

    assert lrs == pytest.approx([1e-3 * 0.95**e for e in range(num_epochs)], **EXACT)
    assert scheduler.get_last_lr()[0] == pytest.approx(1e-3 * 0.95**num_epochs, **EXACT)
    assert epoch_losses == sorted(epoch_losses, reverse=True)
    assert epoch_losses[-1] < 0.05 * epoch_losses[0]
    with genesis.no_grad():
        accuracy = (model(genesis.tensor(x)).argmax(1) == genesis.tensor(y)).float().mean().item()
    assert accuracy > 0.95


# -- 5. checkpoints ---------------------------------------------------------------------------
CKPT_EPOCHS, CKPT_STOP = 6, 3


def _build_for_checkpoint(seed: int):
    genesis.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    optimizer = optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-2)
    x, y = mnist_like(n=192, features=64, seed=1)
    train_loader = make_loader(x, y, batch_size=32)  # same batches every epoch
    scheduler = optim.get_cosine_schedule_with_warmup(
        optimizer,
        num_warmup_steps=len(train_loader),
        num_training_steps=CKPT_EPOCHS * len(train_loader),
    )
    return model, optimizer, scheduler, train_loader


def _train_epochs(model, optimizer, scheduler, train_loader, epochs, history):
    criterion = nn.CrossEntropyLoss()
    loss = None
    for _epoch in epochs:
        for inputs, targets in train_loader:
            history["lr"].append(scheduler.get_last_lr()[0])
            loss = criterion(model(inputs), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            history["loss"].append(loss.item())
    return loss


def test_checkpoint_resume_is_bit_identical(tmp_path):
    # The uninterrupted run.
    model, optimizer, scheduler, train_loader = _build_for_checkpoint(seed=0)
    full = {"lr": [], "loss": []}
    _train_epochs(model, optimizer, scheduler, train_loader, range(CKPT_EPOCHS), full)
    full_params = params_numpy(model)

    # The same run, stopped after CKPT_STOP epochs and checkpointed as the chapter shows.
    model, optimizer, scheduler, train_loader = _build_for_checkpoint(seed=0)
    first = {"lr": [], "loss": []}
    loss = _train_epochs(model, optimizer, scheduler, train_loader, range(CKPT_STOP), first)
    epoch = CKPT_STOP - 1
    path = tmp_path / "checkpoint.pth"
    genesis.save_checkpoint(
        {
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(),
            "scheduler_state_dict": scheduler.state_dict(),
            "epoch": epoch,
            "loss": loss,
        },
        path,
    )
    del model, optimizer, scheduler

    # Everything rebuilt fresh (other initial weights, to prove the load replaces them).
    model, optimizer, scheduler, train_loader = _build_for_checkpoint(seed=123)
    checkpoint = genesis.load_checkpoint(path)
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    scheduler.load_state_dict(checkpoint["scheduler_state_dict"])
    start_epoch = checkpoint["epoch"] + 1
    assert start_epoch == CKPT_STOP
    assert float(checkpoint["loss"].item()) == first["loss"][-1]
    assert scheduler.get_last_lr()[0] == full["lr"][len(first["lr"])]

    rest = {"lr": [], "loss": []}
    _train_epochs(model, optimizer, scheduler, train_loader, range(start_epoch, CKPT_EPOCHS), rest)

    assert first["lr"] + rest["lr"] == full["lr"]
    assert first["loss"] + rest["loss"] == full["loss"]
    for resumed, uninterrupted in zip(params_numpy(model), full_params):
        np.testing.assert_array_equal(resumed, uninterrupted)

    steps = len(train_loader)
    total = CKPT_EPOCHS * steps
    expected = [1e-2 * cosine_with_warmup(t, steps, total) for t in range(total)]
    assert full["lr"] == pytest.approx(expected, **EXACT)
    assert np.mean(full["loss"][-steps:]) < 0.2 * np.mean(full["loss"][:steps])


# -- 6. the transformer schedule --------------------------------------------------------------
def noam(step: int, d_model: int = 512, warmup: int = 4000) -> float:
    step = max(step, 1)  # the helper's docstring: step 0 is computed as step 1
    return d_model**-0.5 * min(step**-0.5, step * warmup**-1.5)


def test_transformer_schedule():
    genesis.manual_seed(0)
    x, y = regression_data(n=64)
    inputs, targets = genesis.tensor(x), genesis.tensor(y)
    model = nn.Linear(8, 1)
    criterion = nn.MSELoss()

    optimizer = optim.Adam(model.parameters(), lr=1.0, betas=(0.9, 0.98), eps=1e-9)
    scheduler = optim.get_transformer_schedule(optimizer, d_model=512, warmup_steps=4000)

    lrs, losses = [], []
    for _step in range(6000):
        lrs.append(scheduler.get_last_lr()[0])
        loss = criterion(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())

    assert lrs == pytest.approx([noam(t) for t in range(6000)], **EXACT)
    assert lrs[0] == lrs[1] == pytest.approx(512**-0.5 * 4000**-1.5, **EXACT)
    assert int(np.argmax(lrs)) == 4000
    assert max(lrs) == pytest.approx(512**-0.5 * 4000**-0.5, **EXACT)
    assert lrs[4000] > lrs[3999] and lrs[4000] > lrs[4001]
    assert lrs[5999] == pytest.approx(512**-0.5 * 5999**-0.5, **EXACT)  # ~ step ** -0.5
    assert losses[-1] < 0.01 * losses[0]


# -- 7. the LR range test ---------------------------------------------------------------------
def test_lr_range_test():
    genesis.manual_seed(0)
    x, y = regression_data(n=128)
    inputs, targets = genesis.tensor(x), genesis.tensor(y)
    model = nn.Linear(8, 1)
    criterion = nn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=0.01)

    def train_step() -> float:
        loss = criterion(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    result = optim.lr_range_test(optimizer, train_step, start_lr=1e-5, end_lr=10.0, num_steps=100)
    print(f"Suggested LR: {result.suggestion:.2e}")

    n = len(result.lrs)
    # Exponential sweep: lr_i = start * (end / start) ** (i / (num_steps - 1)).
    assert result.lrs == pytest.approx([1e-5 * 1e6 ** (i / 99) for i in range(n)], **EXACT)
    ratios = np.array(result.lrs[1:]) / np.array(result.lrs[:-1])
    np.testing.assert_allclose(ratios, 1e6 ** (1 / 99), rtol=1e-12)
    # The smoothed loss is the bias-corrected EMA of the raw losses (beta 0.98).
    avg, smoothed = 0.0, []
    for i, loss in enumerate(result.losses):
        avg = 0.98 * avg + 0.02 * loss
        smoothed.append(avg / (1 - 0.98 ** (i + 1)))
    assert result.smoothed_losses == pytest.approx(smoothed, rel=1e-12, nan_ok=True)

    # Full-batch SGD on MSE diverges above 2 / lambda_max of the Hessian 2/n X^T X (bias
    # included): the test must stop after that point, and suggest an LR below it.
    xb = np.hstack([x.astype(np.float64), np.ones((len(x), 1))])
    lr_critical = 2.0 / np.linalg.eigvalsh(2.0 / len(x) * xb.T @ xb).max()
    assert result.diverged
    assert n < 100  # stopped early when the loss exploded
    explosion = result.lrs[-1]
    assert explosion > lr_critical
    assert not math.isfinite(result.smoothed_losses[-1]) or (
        result.smoothed_losses[-1] > 4.0 * min(result.smoothed_losses[:-1])
    )
    assert result.lrs[0] <= result.suggestion < explosion
    assert result.suggestion < lr_critical
    assert min(result.smoothed_losses) < 0.5 * result.smoothed_losses[0]  # the loss fell first
    assert optimizer.param_groups[0]["lr"] == 0.01  # restored afterwards


# -- 8. migrating from PyTorch ----------------------------------------------------------------
def test_pytorch_migration_cosine():
    torch = pytest.importorskip("torch")
    x, y = regression_data(n=128)

    genesis.manual_seed(0)
    g_model = nn.Linear(8, 1)
    g_model2 = nn.Linear(8, 1)
    g_model2.load_state_dict(g_model.state_dict())
    t_model = torch.nn.Linear(8, 1)
    with torch.no_grad():
        t_model.weight.copy_(torch.from_numpy(g_model.weight.detach().numpy().copy()))
        t_model.bias.copy_(torch.from_numpy(g_model.bias.detach().numpy().copy()))

    # Genesis, as the chapter writes it: a LambdaLR with the cosine lambda ...
    g_opt = optim.SGD(g_model.parameters(), lr=0.1)
    g_lambda = optim.LambdaLR(g_opt, lambda e: 0.5 * (1 + math.cos(math.pi * e / 100)))
    # ... or the PyTorch name directly.
    g_opt2 = optim.SGD(g_model2.parameters(), lr=0.1)
    g_cosine = optim.CosineAnnealingLR(g_opt2, T_max=100)
    # PyTorch.
    t_opt = torch.optim.SGD(t_model.parameters(), lr=0.1)
    t_sched = torch.optim.lr_scheduler.CosineAnnealingLR(t_opt, T_max=100)

    g_x, g_y = genesis.tensor(x), genesis.tensor(y)
    t_x, t_y = torch.from_numpy(x), torch.from_numpy(y)
    mse = nn.MSELoss()
    lrs = {"lambda": [], "cosine": [], "torch": []}
    losses = {"lambda": [], "cosine": [], "torch": []}
    for _epoch in range(250):  # past T_max: the cosine goes back up, in all three
        for key, model, opt, sched, inp, tgt, crit in (
            ("lambda", g_model, g_opt, g_lambda, g_x, g_y, mse),
            ("cosine", g_model2, g_opt2, g_cosine, g_x, g_y, mse),
            ("torch", t_model, t_opt, t_sched, t_x, t_y, torch.nn.functional.mse_loss),
        ):
            lrs[key].append(sched.get_last_lr()[0])
            loss = crit(model(inp), tgt)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses[key].append(loss.item())

    closed_form = [0.1 * 0.5 * (1 + math.cos(math.pi * e / 100)) for e in range(250)]
    assert lrs["lambda"] == pytest.approx(closed_form, **EXACT)
    assert lrs["cosine"] == pytest.approx(closed_form, **EXACT)
    assert lrs["lambda"] == pytest.approx(lrs["cosine"], **EXACT)
    # torch's CosineAnnealingLR is a recursion: equal up to its accumulated rounding.
    assert lrs["torch"] == pytest.approx(closed_form, rel=1e-9, abs=1e-13)
    assert lrs["lambda"][100] == pytest.approx(0.0, abs=1e-15)
    assert lrs["lambda"][200] == pytest.approx(0.1, **EXACT)

    for key in losses:
        assert losses[key][-1] < 0.01 * losses[key][0], key
    np.testing.assert_allclose(losses["lambda"], losses["cosine"], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(losses["lambda"], losses["torch"], rtol=1e-3, atol=1e-5)


def test_genesis_scheduler_drives_a_torch_optimizer():
    """Migration the other way: a genesis scheduler on a ``torch.optim`` optimizer."""
    torch = pytest.importorskip("torch")
    params = [torch.nn.Parameter(torch.zeros(3))]
    t_opt = torch.optim.SGD(params, lr=0.1)
    g_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(3))], lr=0.1)
    t_sched = torch.optim.lr_scheduler.CosineAnnealingLR(t_opt, T_max=100)
    g_sched = optim.CosineAnnealingLR(g_opt, T_max=100)
    for _ in range(120):
        assert g_opt.param_groups[0]["lr"] == pytest.approx(
            t_opt.param_groups[0]["lr"], rel=1e-9, abs=1e-13
        )
        t_opt.step()
        g_opt.step()
        t_sched.step()
        g_sched.step()
