"""genesis-backend-cpu: numpy kernels for Genesis, device ``"cpu"``."""

__version__ = "0.1.0"
