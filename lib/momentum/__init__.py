"""momentum: the library behind the book "When does Nesterov's momentum provably accelerate?".

Importing it does no network access and writes no files. Submodules:

- ``optimizers``: gd, heavy_ball, nesterov on flat vectors; torch_optimizer for nn.Module training
- ``problems``: Quadratic, random_quadratic, lessard_counterexample
- ``theory``: every rate and parameter formula the book states
- ``partition``: the partition model, the additive model, estimate_constants, check_theorem7
- ``plotting``: the book's figure style, loss bands, static sliders
- ``widgets``: ipywidgets controls for live notebooks
- ``check``: automatic feedback on the exercises that ask for code
"""

from . import check, optimizers, partition, plotting, problems, theory  # noqa: F401
from .optimizers import DivergenceWarning, Trajectory, gd, heavy_ball, nesterov, torch_optimizer

__version__ = "0.1.0"

__all__ = [
    "check", "optimizers", "partition", "plotting", "problems", "theory",
    "DivergenceWarning", "Trajectory", "gd", "heavy_ball", "nesterov", "torch_optimizer",
]
