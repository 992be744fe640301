r"""The networks of the book, as ``torch.nn.Module``s with the scaling each analysis follows (where
a paper does not fix the initialisation, the docstring states the book's choice).

One module per model family, each with its initialisation stated and its source:

* :mod:`.two_layer`: the two-layer ReLU network, its empirical NTK Gram matrix and the
  arc-cosine kernel (Du et al. 2019; Liu et al. 2023) -- Chapter 4;
* :mod:`.deep_relu`: the deep fully-connected ReLU network, its constants and training
  (Liao & Kyrillidis 2024, §5.2) -- Chapter 3; :mod:`.deep_relu_partition` its partition into
  the last layer x and the rest u;
* :mod:`._shared`: what the families share (input checks, the NTK constants of a Gram matrix).

Training goes through :mod:`momentum.optimizers` and returns a :class:`momentum.Trajectory`.
The names below are re-exported so that ``networks.DeepReLU`` etc. keep working.
"""

from ._shared import NTKConstants, ntk_constants
from .deep_linear import (
    DeepLinear,
    DeepLinearResNet,
    LinearNTKConstants,
    end_to_end_singular_values,
    linear_ntk,
    linear_ntk_constants,
    regression_problem,
    train_deep_linear,
)
from .deep_relu import (
    DeepReLU,
    DeepReLUConstants,
    deep_relu_constants,
    feature_spectrum,
    train_deep_relu,
    width_requirement,
)
from .deep_relu_partition import (
    DeepReLUPartition,
    partition,
    partition_functions,
    partition_sizes,
    set_partition,
)
from .two_layer import (
    TwoLayerReLU,
    arccos_kernel,
    kernel_drift,
    max_distance,
    ntk_gram,
    train_two_layer,
)

__all__ = [
    "TwoLayerReLU", "ntk_gram", "arccos_kernel", "NTKConstants", "ntk_constants",
    "max_distance", "kernel_drift", "train_two_layer",
    "DeepReLU", "partition_sizes", "partition", "set_partition", "DeepReLUPartition",
    "partition_functions", "feature_spectrum", "DeepReLUConstants", "deep_relu_constants",
    "width_requirement", "train_deep_relu",
    "DeepLinear", "DeepLinearResNet", "linear_ntk", "LinearNTKConstants", "linear_ntk_constants",
    "end_to_end_singular_values", "regression_problem", "train_deep_linear",
]
