"""``genesis.optim`` and ``genesis.utils.data`` reached as attributes after ``import genesis``.

Each scenario runs in a fresh interpreter, so what ``import genesis`` itself
imports is observable. genesis-optim is hidden with a meta-path finder to see
what a user without it gets.
"""

import subprocess
import sys
import textwrap

HIDE_OPTIM = textwrap.dedent("""
    import sys

    class HideOptim:
        def find_spec(self, name, path=None, target=None):
            if name == "genesis.optim" or name.startswith("genesis.optim."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    sys.meta_path.insert(0, HideOptim())
""")


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120)


def test_import_genesis_does_not_import_optim():
    r = run("import sys, genesis; print('genesis.optim' in sys.modules)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False"]


def test_missing_optim_distribution_raises_attribute_error_saying_how_to_install_it():
    r = run(HIDE_OPTIM + textwrap.dedent("""
        import genesis
        print(hasattr(genesis, "optim"))
        try:
            genesis.optim.SGD
        except AttributeError as e:
            print(e)
    """))
    assert r.returncode == 0, r.stderr
    has, message = r.stdout.splitlines()
    assert has == "False"
    assert message.startswith("genesis.optim ships in the genesis-optim distribution, which is "
                              "not installed; install it from the Genesis repository: "
                              "`pip install ./packages/genesis-optim` from a checkout")
    assert "git+<repo-url>#subdirectory=packages/genesis-optim" in message


def test_other_missing_attributes_raise_the_usual_attribute_error():
    r = run("import genesis\ntry:\n    genesis.optimizer\nexcept AttributeError as e:\n"
            "    print(e)")
    assert r.stdout.strip() == "module 'genesis' has no attribute 'optimizer'"


def test_dataloader_is_reachable_after_only_import_genesis():
    r = run("""
        import genesis
        ds = genesis.utils.data.TensorDataset(genesis.arange(6.0), genesis.arange(6))
        batches = list(genesis.utils.data.DataLoader(ds, batch_size=4))
        print([b[0].tolist() for b in batches], [b[1].dtype.name for b in batches])
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0]] ['int64', 'int64']"
