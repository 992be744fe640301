"""momentum: the library behind the book "When does Nesterov's momentum provably accelerate?".

Importing it does no network access and writes no files. Submodules:

- ``optimizers``: gd, heavy_ball, nesterov on flat vectors; torch_optimizer for nn.Module training
- ``problems``: Quadratic, random_quadratic, lessard_counterexample
- ``theory``: every rate and parameter formula the book states
- ``partition``: the partition model, the additive model, estimate_constants, check_theorem7
- ``networks``: DeepReLU and its partition (Chapter 3); TwoLayerReLU, ntk_gram, arccos_kernel
  (Chapter 4)
- ``ode``: the high-resolution ODEs of heavy ball and Nesterov, numerically and per eigenmode
- ``data``: two_class, the first two classes of a data set as unit-norm inputs and +-1 labels
- ``plotting``: the book's figure style, loss bands, static sliders
- ``widgets``: ipywidgets controls for live notebooks
- ``check``: automatic feedback on the exercises that ask for code
"""

from . import check, data, networks, ode, optimizers, partition, plotting, problems, theory  # noqa: F401
from .optimizers import DivergenceWarning, Trajectory, gd, heavy_ball, nesterov, torch_optimizer

__version__ = "0.1.0"

__all__ = [
    "check", "data", "networks", "ode", "optimizers", "partition", "plotting", "problems",
    "theory",
    "DivergenceWarning", "Trajectory", "gd", "heavy_ball", "nesterov", "torch_optimizer",
]
