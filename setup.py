"""Build of the optional C accelerator, goroutines._runtime._speedups.

Everything else is in pyproject.toml. The extension is optional: where it
cannot be built (no compiler, a free-threaded interpreter, or
GOROUTINES_PURE_BUILD=1) the package installs without it and runs its
pure-Python runtime, which is the reference implementation.
"""

import glob
import os
import sysconfig

from setuptools import Extension, setup


def _greenlet_headers() -> list[str]:
    try:
        import greenlet
    except ImportError:
        return []
    return [os.path.dirname(greenlet.__file__)]


# The accelerator's C files, one per port, and their one internal header.
_SPEEDUPS = "src/goroutines/_runtime/_speedups"


def _extensions() -> list[Extension]:
    if sysconfig.get_config_var("Py_GIL_DISABLED") or os.environ.get("GOROUTINES_PURE_BUILD"):
        return []
    return [
        Extension(
            "goroutines._runtime._speedups",
            sorted(glob.glob(f"{_SPEEDUPS}/*.c")),
            depends=[f"{_SPEEDUPS}/_speedups.h"],
            include_dirs=[_SPEEDUPS, *_greenlet_headers()],
            optional=True,
        )
    ]


setup(ext_modules=_extensions())
