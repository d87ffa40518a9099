"""The bundled campaign files, shipped as the package data `dqflow.workflows` (`dqflow init` copies them out).

A regular package (not a bare folder) so that `pip install -e .` can map it too: setuptools'
editable finder does not resolve a remapped subpackage without `__init__.py` (pypa/setuptools#4248).
"""
