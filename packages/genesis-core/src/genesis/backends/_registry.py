"""Discovers backend plugins through entry points and keeps the device table.

Loading is forgiving: a plugin that raises while importing or registering
is skipped with a warning naming it, and :func:`report` keeps the full
traceback so the real cause is one call away.
"""

from __future__ import annotations

import os
import traceback
import warnings
from dataclasses import dataclass
from importlib import metadata

import pluggy

from genesis._install import install_hint
from genesis.backends import hookspecs
from genesis.backends.collectives import CollectiveBackend, collective_contract_problems
from genesis.backends.protocol import Backend, contract_problems

ENV_VAR = "GENESIS_BACKENDS"

TORCH_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip",
                      "ve", "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                      "privateuseone")
"""The device types ``torch.device`` accepts: ``genesis.device`` accepts them (and those a
backend registers) whether or not a backend serves them here."""


@dataclass
class PluginRecord:
    """One discovered entry point and what became of it."""

    name: str
    value: str
    distribution: str
    status: str  # "loaded", "failed", "disabled"
    devices: tuple = ()
    collectives: tuple = ()  # names of the collective-communication backends it registered
    error: str = ""  # full traceback for a failed plugin, reason for a disabled one


class Registry:
    """The loaded plugins and the backend serving each device type."""

    def __init__(self) -> None:
        self.manager = pluggy.PluginManager(hookspecs.PROJECT)
        self.manager.add_hookspecs(hookspecs)
        self.backends: dict[str, Backend] = {}
        self.collectives: dict[str, CollectiveBackend] = {}
        self.records: list[PluginRecord] = []
        self.loaded = False

    def load_entry_points(self) -> None:
        """Load every plugin of the entry-point group allowed by ``GENESIS_BACKENDS``."""
        self.loaded = True
        allowed = _allowed_plugins()
        for ep in metadata.entry_points(group=hookspecs.ENTRY_POINT_GROUP):
            dist = getattr(ep.dist, "name", "?") if getattr(ep, "dist", None) else "?"
            if any(r.name == ep.name and r.value == ep.value for r in self.records):
                continue  # the same distribution seen twice on sys.path
            record = PluginRecord(ep.name, ep.value, dist, "loaded")
            self.records.append(record)
            if allowed is not None and ep.name not in allowed:
                record.status = "disabled"
                record.error = f"not listed in {ENV_VAR}={os.environ[ENV_VAR]!r}"
                continue
            try:
                self.register_plugin(ep.load(), ep.name, record)
            except Exception as exc:  # a broken plugin must not break `import genesis`
                record.status = "failed"
                record.error = traceback.format_exc()
                warnings.warn(
                    f"genesis: backend plugin {ep.name!r} ({ep.value}, from "
                    f"{dist}) failed to load and is skipped: {exc!r}. "
                    "genesis.backends.report() shows the traceback.",
                    RuntimeWarning,
                    stacklevel=2,
                )
        unknown = _unknown_allowed(self)
        if unknown:
            warnings.warn(f"genesis: {unknown}", RuntimeWarning, stacklevel=2)

    def register_plugin(
        self, plugin: object, name: str, record: PluginRecord | None = None
    ) -> None:
        """Register a hook-implementing module/object and the backends it returns."""
        self.manager.register(plugin, name=name)
        try:
            self.manager.check_pending()
            results = _call_plugin(self.manager, plugin)
            found = []
            for backend in results:
                problems = contract_problems(backend)
                if problems:
                    raise TypeError(f"plugin {name!r} returned {backend!r}, which does not "
                                    "conform to the genesis Backend protocol: "
                                    + "; ".join(problems))
                if backend.name in self.backends:
                    warnings.warn(f"genesis: plugin {name!r} registers device {backend.name!r} "
                                  "again; the new backend replaces the earlier one",
                                  RuntimeWarning, stacklevel=3)
                self.backends[backend.name] = backend
                found.append(backend.name)
            collectives = self._register_collectives(plugin, name)
        except Exception:
            self.manager.unregister(plugin)
            raise
        if record is not None:
            record.devices = tuple(found)
            record.collectives = tuple(collectives)

    def _register_collectives(self, plugin: object, name: str) -> list[str]:
        found = []
        for backend in _call_plugin(self.manager, plugin, "genesis_register_collectives"):
            problems = collective_contract_problems(backend)
            if problems:
                raise TypeError(f"plugin {name!r} returned {backend!r}, which does not conform "
                                "to the genesis CollectiveBackend protocol: " + "; ".join(problems))
            self.collectives[backend.name] = backend
            found.append(backend.name)
        return found

    def get_collective(self, name: str) -> CollectiveBackend:
        """The collective backend called ``name``; raises naming what to install when none."""
        if not self.loaded:
            self.load_entry_points()
        backend = self.collectives.get(name)
        if backend is None:
            known = sorted(self.collectives)
            raise RuntimeError(
                f"no genesis collective backend is called {name!r} (registered: {known}). "
                "MPI (backend='mpi') comes with genesis-backend-cpu's [mpi] extra: "
                f"{install_hint('genesis-backend-cpu', 'mpi')}; NCCL (backend='nccl') with "
                f"genesis-backend-triton's [cuda] extra: "
                f"{install_hint('genesis-backend-triton', 'cuda')}.")
        return backend

    def get(self, device_type: str) -> Backend:
        if not self.loaded:
            self.load_entry_points()
        backend = self.backends.get(device_type)
        if backend is None:
            raise RuntimeError(_unknown_device_message(device_type, self))
        return backend


def _call_plugin(manager: pluggy.PluginManager, plugin: object,
                 hook: str = "genesis_register_backends") -> list:
    """Call one registration hook of one plugin only (keyword-argument call)."""
    impls = [i for i in getattr(manager.hook, hook).get_hookimpls() if i.plugin is plugin]
    out = []
    for impl in impls:
        res = impl.function()
        out.extend(res if isinstance(res, (list, tuple)) else [res])
    return out


def _allowed_plugins() -> set[str] | None:
    """The plugin names ``GENESIS_BACKENDS`` lets load (None: all of them)."""
    allowed = os.environ.get(ENV_VAR)
    return None if allowed is None else {s.strip() for s in allowed.split(",") if s.strip()}


def _unknown_allowed(registry: Registry) -> str:
    """A sentence about names in ``GENESIS_BACKENDS`` that no installed plugin has, or ''."""
    allowed = _allowed_plugins()
    unknown = sorted(allowed - {r.name for r in registry.records}) if allowed else []
    if not unknown:
        return ""
    installed = sorted({r.name for r in registry.records})
    return (f"{ENV_VAR}={os.environ[ENV_VAR]!r} names {unknown}, which no installed backend "
            f"plugin provides (installed plugins: {installed}).")


def _unknown_device_message(device_type: str, registry: Registry) -> str:
    failed = [r for r in registry.records if r.status != "loaded"]
    known = sorted(registry.backends)
    unknown = _unknown_allowed(registry)
    if known:
        msg = (f"unknown device type {device_type!r}" if device_type not in TORCH_DEVICE_TYPES
               else f"no genesis backend serves device type {device_type!r}")
        msg += f"; registered device types: {known}."
        if device_type == "cuda" and not any(r.name == "cuda" for r in failed):
            msg += (" Device 'cuda' comes with genesis-backend-triton; "
                    f"{install_hint('genesis-backend-triton')}.")
    elif registry.records and all(r.status == "disabled" for r in registry.records):
        msg = (f"{ENV_VAR}={os.environ.get(ENV_VAR)!r} enables none of the installed genesis "
               f"backend plugins, so device {device_type!r} is unavailable.")
        if not unknown:
            msg += f" Installed plugins: {sorted(r.name for r in registry.records)}."
        failed = []  # all disabled: the sentence above says it
    elif registry.records:
        msg = f"no genesis backend could be loaded, so device {device_type!r} is unavailable."
    else:
        msg = (f"no genesis backend is installed, so device {device_type!r} is unavailable. "
               "genesis-backend-cpu provides device 'cpu' (numpy) and genesis-backend-triton "
               f"device 'cuda': {install_hint('genesis-backend-cpu')}.")
    if unknown:
        msg += " " + unknown
    if failed:
        msg += " Plugins not loaded: " + ", ".join(f"{r.name} ({r.status})" for r in failed)
        msg += "; genesis.backends.report() says why."
    return msg


registry = Registry()


def report(file=None) -> str:
    """Describe every discovered backend entry point, its status and devices.

    For a plugin that failed to load the full traceback is included. The text
    is returned and, if ``file`` is given (e.g. ``sys.stdout``), also written.
    """
    if not registry.loaded:
        registry.load_entry_points()
    lines = [
        f"genesis backends (entry-point group {hookspecs.ENTRY_POINT_GROUP!r}, "
        f"{ENV_VAR}={os.environ.get(ENV_VAR)!r}):"
    ]
    if not registry.records and not registry.backends:
        lines.append(f"  (none discovered) -- genesis-backend-cpu provides device 'cpu'; "
                     f"{install_hint('genesis-backend-cpu')}")
    unknown = _unknown_allowed(registry)
    if unknown:
        lines.append("  " + unknown)
    for r in registry.records:
        lines.append(f"  {r.name} = {r.value}  [{r.distribution}]  {r.status}")
        for dev in r.devices:
            ok, why = registry.backends[dev].availability()
            lines.append(f"    device {dev!r}: " + ("available" if ok else f"unavailable: {why}"))
        for name in r.collectives:
            ok, why = registry.collectives[name].availability()
            lines.append(f"    collective backend {name!r}: "
                         + ("available" if ok else f"unavailable: {why}"))
        if r.error:
            lines.extend("    " + line for line in r.error.rstrip().splitlines())
    manual = set(registry.backends) - {d for r in registry.records for d in r.devices}
    for dev in sorted(manual):
        lines.append(f"  (registered in-process) device {dev!r}")
    text = "\n".join(lines)
    if file is not None:
        print(text, file=file)
    return text
