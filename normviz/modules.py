"""``normviz.modules``: the torch norm modules under their public name (design.md §3).

They live in ``normviz.norms.torch_modules`` (with the rest of each norm); import from either.
"""
from normviz.norms.torch_modules import *  # noqa: F401,F403
from normviz.norms.torch_modules import __all__  # noqa: F401
