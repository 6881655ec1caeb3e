"""``genesis.optim`` as an attribute of ``genesis`` (PEP 562), as PyTorch code writes it."""

import subprocess
import sys
import textwrap


def test_torch_style_attribute_access_after_only_import_genesis():
    code = textwrap.dedent("""
        import sys
        import genesis as torch

        assert "genesis.optim" not in sys.modules
        w = torch.tensor([1.0, -2.0], requires_grad=True)
        opt = torch.optim.Adam([w], lr=0.5)
        (w * w).sum().backward()
        opt.step()
        sgd = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
        from genesis.optim import SGD
        print(type(sgd) is SGD, sys.modules["genesis.optim"] is torch.optim, w.tolist())
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    same, module, values = r.stdout.split(maxsplit=2)
    assert (same, module) == ("True", "True")
    assert values.strip() == "[0.5, -1.5]"  # Adam's first step moves each weight by lr
