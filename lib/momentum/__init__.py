"""momentum: the library behind the book "When does Nesterov's momentum provably accelerate?".

Importing it does no network access and writes no files. Submodules:

- ``optimizers``: gd, heavy_ball, nesterov on flat vectors (one signature; METHODS, run);
  torch_optimizer and book_iterates for nn.Module training
- ``records``: Trajectory, the one record of every run, its divergence rule and its rate fit
- ``problems``: Quadratic, random_quadratic, lessard_counterexample
- ``theory``: every rate and parameter formula the book states
- ``partition``: the partition model, the additive model, estimate_constants, check_theorem7
  (a package: model, estimate, theorem7)
- ``networks``: a package, one module per model family: deep_relu (Chapter 3) and its partition,
  two_layer (Chapter 4: TwoLayerReLU, ntk_gram, arccos_kernel)
- ``ode``: the high-resolution ODEs of heavy ball and Nesterov, numerically and per eigenmode
- ``data``: two_class, the first two classes of a data set as unit-norm inputs and +-1 labels
- ``plotting``: the book's figure style, loss bands, static sliders
- ``display``: what a page shows of a number: glue rounded to 6 digits, round-off floored
- ``widgets``: ipywidgets controls for live notebooks
- ``check``: automatic feedback on the exercises that ask for code
"""

from . import (  # noqa: F401
    check,
    data,
    display,
    networks,
    ode,
    optimizers,
    partition,
    plotting,
    problems,
    records,
    theory,
)
from .optimizers import (
    METHODS,
    DivergenceWarning,
    Trajectory,
    gd,
    heavy_ball,
    nesterov,
    run,
    torch_optimizer,
)

__version__ = "0.1.0"

__all__ = [
    "check", "data", "display", "networks", "ode", "optimizers", "partition", "plotting",
    "problems", "records", "theory",
    "METHODS", "DivergenceWarning", "Trajectory", "gd", "heavy_ball", "nesterov", "run",
    "torch_optimizer",
]
