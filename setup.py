"""Build of the optional C accelerator, goroutines._runtime._speedups.

Everything else is in pyproject.toml. The extension is optional: where it
cannot be built (no compiler, a free-threaded interpreter, or
GOROUTINES_PURE_BUILD=1) the package installs without it and runs its
pure-Python runtime, which is the reference implementation.
"""

import os
import sysconfig

from setuptools import Extension, setup


def _greenlet_headers() -> list[str]:
    try:
        import greenlet
    except ImportError:
        return []
    return [os.path.dirname(greenlet.__file__)]


def _extensions() -> list[Extension]:
    if sysconfig.get_config_var("Py_GIL_DISABLED") or os.environ.get("GOROUTINES_PURE_BUILD"):
        return []
    return [
        Extension(
            "goroutines._runtime._speedups",
            ["src/goroutines/_runtime/_speedups.c"],
            include_dirs=_greenlet_headers(),
            optional=True,
        )
    ]


setup(ext_modules=_extensions())
