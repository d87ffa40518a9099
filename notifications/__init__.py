"""The bundled email templates, one folder per locale, shipped as the package data `dqflow.notifications`.

A regular package (not a bare folder) so that `pip install -e .` can map it too: setuptools'
editable finder does not resolve a remapped subpackage without `__init__.py` (pypa/setuptools#4248).
"""
