"""A warmup schedule starts at lr 0: the fused AdamW kernel must step (moments only)."""

import genesis
import genesis.optim as optim
import numpy as np
import torch


def test_adamw_first_warmup_step_at_zero_lr_matches_torch():
    w0 = np.random.default_rng(0).standard_normal((64, 32)).astype(np.float32)
    g = genesis.tensor(w0.copy(), requires_grad=True)
    t = torch.tensor(w0.copy(), requires_grad=True)
    gopt, topt = optim.AdamW([g], lr=1e-2), torch.optim.AdamW([t], lr=1e-2)
    gs = optim.get_linear_schedule_with_warmup(gopt, 3, 10)
    ts = torch.optim.lr_scheduler.LambdaLR(topt, lambda s: min(s / 3, (10 - s) / 7))
    for step in range(5):
        grad = np.random.default_rng(step).standard_normal((64, 32)).astype(np.float32)
        g.grad, t.grad = genesis.tensor(grad), torch.tensor(grad)
        gopt.step()
        topt.step()
        gs.step()
        ts.step()
        np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(
        gopt.state[g]["exp_avg"].numpy(), topt.state[t]["exp_avg"].numpy(), rtol=1e-5, atol=1e-7
    )
