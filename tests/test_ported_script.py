"""A training script written for PyTorch runs unchanged with ``import genesis as torch``: the
same source text executes against both libraries and the losses, accuracies and saved weights
agree (initial weights and data come from numpy, so the RNGs do not matter)."""

from __future__ import annotations

import numpy as np
import pytest

SCRIPT = '''
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

def run(lib_init, data, labels, path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.LayerNorm(16), nn.Linear(16, 3))
    model.load_state_dict({k: torch.tensor(v) for k, v in lib_init.items()})
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)
    loader = DataLoader(TensorDataset(torch.tensor(data), torch.tensor(labels)), batch_size=16)
    losses = []
    for epoch in range(3):
        model.train()
        for x, y in loader:
            loss = F.cross_entropy(model(x), y, label_smoothing=0.1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            losses.append(loss.item())
        sched.step()
    model.eval()
    with torch.no_grad():
        logits = model(torch.tensor(data))
        probs = logits.softmax(dim=-1)
        top2 = probs.topk(2, dim=-1).indices
        acc = (logits.argmax(-1) == torch.tensor(labels)).float().mean().item()
        assert torch.allclose(probs.sum(-1), torch.ones(len(data)), atol=1e-5)
        sorted_probs, _ = torch.sort(probs, dim=-1, descending=True)
        assert torch.equal(sorted_probs[:, 0], probs.max(dim=-1).values)
        centred = (logits - logits.mean(0, keepdim=True)).view_as(logits)
    torch.save(model.state_dict(), path)
    state = torch.load(path, weights_only=True, map_location="cpu")
    weights = {k: v.numpy() for k, v in state.items()}
    return losses, acc, top2.tolist(), centred.std().item(), weights
'''


#: the porting edit: only the import lines change
PORTED_IMPORTS = {"import torch\n": "import genesis as torch\n",
                  "import torch.nn as nn\n": "import genesis.nn as nn\n",
                  "import torch.nn.functional as F\n": "import genesis.nn.functional as F\n",
                  "from torch.utils.data import": "from genesis.utils.data import"}


def _run(library: str, tmp_path):
    source = SCRIPT
    if library == "genesis":
        for old, new in PORTED_IMPORTS.items():
            assert old in source
            source = source.replace(old, new)
    namespace = {}
    exec(compile(source, f"<ported script: {library}>", "exec"), namespace)
    rng = np.random.default_rng(0)
    data = rng.standard_normal((64, 8)).astype(np.float32)
    labels = (data[:, 0] + data[:, 1] > 0).astype(np.int64) + (data[:, 2] > 1).astype(np.int64)
    init = {"0.weight": rng.standard_normal((16, 8)) * 0.3, "0.bias": np.zeros(16),
            "2.weight": np.ones(16), "2.bias": np.zeros(16),
            "3.weight": rng.standard_normal((3, 16)) * 0.3, "3.bias": np.zeros(3)}
    init = {k: v.astype(np.float32) for k, v in init.items()}
    return namespace["run"](init, data, labels, str(tmp_path / f"{library}.ckpt"))


@pytest.mark.parametrize("check", ["losses", "predictions", "weights"])
def test_ported_script_matches_pytorch(check, tmp_path):
    g_losses, g_acc, g_top2, g_std, g_state = _run("genesis", tmp_path)
    t_losses, t_acc, t_top2, t_std, t_state = _run("torch", tmp_path)
    if check == "losses":
        assert len(g_losses) == len(t_losses) == 12
        np.testing.assert_allclose(g_losses, t_losses, rtol=2e-4, atol=2e-5)
    elif check == "predictions":
        assert g_acc == t_acc and g_top2 == t_top2
        assert g_std == pytest.approx(t_std, rel=1e-4)
    else:
        assert sorted(g_state) == sorted(t_state)
        for k in t_state:
            np.testing.assert_allclose(g_state[k], t_state[k], rtol=1e-3, atol=1e-5, err_msg=k)
