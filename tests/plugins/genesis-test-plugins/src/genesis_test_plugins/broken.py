"""A plugin whose import fails, as a plugin with a missing native library would."""

from genesis.backends import hookimpl


def _load_native_library():
    raise OSError("libbroken.so: cannot open shared object file")


_load_native_library()


@hookimpl
def genesis_register_backends():  # never reached
    return []
