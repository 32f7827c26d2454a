"""Build fastseg's compiled twin, or fall back to the pure one.

* ``fastseg/_segments_c.pyx`` is cythonized when Cython is importable, else the
  shipped ``_segments_c.c`` is compiled (an sdist carries it).
* ``FASTSEG_PURE=1`` or a non-CPython interpreter skips the extension.
* A failed compile prints a banner and installs the pure twin, unless
  ``FASTSEG_REQUIRE_EXTENSION=1`` (set by the Dockerfile and CI) makes it fatal.
"""

import os
import platform
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
PYX = os.path.join("fastseg", "_segments_c.pyx")
C_SOURCE = os.path.join("fastseg", "_segments_c.c")
REQUIRE = os.environ.get("FASTSEG_REQUIRE_EXTENSION") == "1"
PURE = os.environ.get("FASTSEG_PURE") == "1" or platform.python_implementation() != "CPython"


def banner(*lines):
    bar = "=" * 74
    print("\n".join([bar, *lines, bar]), file=sys.stderr)


class BuildFailed(Exception):
    pass


class optional_build_ext(build_ext):
    """Turn a compiler failure into a pure install, unless the build must be compiled."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # distutils raises several unrelated classes here
            self._fail(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._fail(exc)

    def _fail(self, exc):
        if REQUIRE:
            raise
        banner(
            "WARNING: fastseg's compiled extension could not be built:",
            f"  {exc}",
            "Installing the pure-Python twin instead: it works, but parsing and",
            "segment selection are several times slower. Install a C compiler and",
            "the Python headers (Debian: apt-get install gcc python3-dev) and reinstall.",
        )


def extensions():
    if PURE:
        banner("fastseg: pure build (FASTSEG_PURE=1 or not CPython), no extension")
        return []
    if not os.path.exists(os.path.join(HERE, PYX)) and not os.path.exists(
        os.path.join(HERE, C_SOURCE)
    ):
        banner("fastseg: no extension source in this tree: pure build")
        return []
    try:
        from Cython.Build import cythonize  # noqa: PLC0415 - optional build dependency
    except ImportError:
        if not os.path.exists(os.path.join(HERE, C_SOURCE)):
            if REQUIRE:
                raise
            banner("fastseg: Cython is not installed and no generated C file exists: pure build")
            return []
        return [Extension("fastseg._segments_c", [C_SOURCE])]
    ext = Extension("fastseg._segments_c", [PYX], extra_compile_args=["-O2"])
    return cythonize([ext], language_level=3, quiet=True)


setup(ext_modules=extensions(), cmdclass={"build_ext": optional_build_ext})
