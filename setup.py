"""Build the Cython extensions of skconvexnn._core; all metadata lives in setup.cfg."""
from Cython.Build import cythonize
from setuptools import Extension, setup

extensions = [
    Extension(
        "skconvexnn._core._patterns",
        ["skconvexnn/_core/_patterns.pyx"],
        extra_compile_args=["-O3"],
    ),
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={
            "language_level": "3",
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    ),
)
