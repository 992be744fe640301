r"""Every rate and parameter formula the book states, in one namespace: ``momentum.theory``.

* :mod:`.core`: gradient descent, heavy ball and Nesterov on quadratics (Chapter 1), the
  partition model's Theorems 6 and 7 (Chapter 2), the high-resolution exponents and the NTK
  constants of Liu et al. (Chapter 4), the width requirements (Chapters 3 and 4);
* :mod:`.deep_linear`: deep linear networks and linear ResNets (Chapter 5);
* :mod:`.spectral_worst_case`: the n-step worst case over the quadratics with a given spectrum
  interval, in closed form (Chapter 6; the worst case over *all* smooth strongly convex
  functions, by performance estimation with PEPit, is :mod:`momentum.pep`).
"""

from . import core as _core
from . import deep_linear as _deep_linear
from . import spectral_worst_case as _spectral_worst_case
from .core import *  # noqa: F403
from .core import _check_c, _trace_det  # noqa: F401  (partition.sweep, spectral_worst_case)
from .deep_linear import *  # noqa: F403
from .spectral_worst_case import *  # noqa: F403

__all__ = [*_core.__all__, *_deep_linear.__all__, *_spectral_worst_case.__all__]
