r"""The two-layer ReLU network of Chapter 4 in the mean-field scaling (Chapter 6).

.. math::
    f_{\mathrm{MF}}(W; x) = \frac{1}{m} \sum_{r=1}^m a_r\, \sigma(w_r^\top x)

instead of the :math:`1/\sqrt m` of :class:`~momentum.networks.TwoLayerReLU` (same
initialisation, :math:`w_r(0) \sim N(0, I_d)`, :math:`a_r = \pm 1` fixed). The mean-field
scaling is the one of Mei, Montanari & Nguyen (2018) and Chizat & Bach (2018); Yang & Hu (2021)
place both in one family of parametrisations.

**Matching the step.** The Gram matrix of :math:`f_{\mathrm{MF}}` is :math:`H/m`, with
:math:`H` the Chapter 4 kernel of the same weights. A step :math:`\eta_{\mathrm{MF}} = m\,\eta`
(:func:`mean_field_step`) makes the residual dynamics *at initialisation* the same as those of
the :math:`1/\sqrt m` network with step :math:`\eta`; what differs is how far each neuron must
move: a gradient step moves :math:`w_r` by :math:`O(\eta/\sqrt m)` in the NTK scaling and by
:math:`O(\eta)` here, whatever the width, so the features (the activation patterns, and with them
:math:`H`) keep changing as :math:`m` grows.

:func:`~momentum.networks.ntk_gram` is the Gram matrix of the model's own Jacobian, so for a
mean-field network it is :math:`H/m`; :func:`ntk_normalised_gram` rescales it by :math:`m`
into the normalisation of Chapter 4 (the kernel :math:`H` of the same weights), which is what
Chapter 6 compares across the two scalings.
"""

from __future__ import annotations

import torch

from .. import _validate
from .two_layer import TwoLayerReLU, ntk_gram

__all__ = ["MeanFieldTwoLayer", "mean_field_step", "ntk_normalised_gram"]


class MeanFieldTwoLayer(TwoLayerReLU):
    """:class:`~momentum.networks.TwoLayerReLU` with the output divided by :math:`m` rather than
    :math:`\\sqrt m` (module docstring); trains with
    :func:`~momentum.networks.train_two_layer` like the original."""

    @property
    def output_scale(self) -> float:
        """:math:`1/m`, the mean-field scaling (instead of :math:`1/\\sqrt m`)."""
        return 1 / self.m


def mean_field_step(eta: float, m: int) -> float:
    r"""The mean-field step :math:`m\,\eta` whose residual dynamics at initialisation match
    those of the :math:`1/\sqrt m` network with step ``eta``."""
    eta = _validate.scalar("eta", eta)
    _validate.positive("eta", eta)
    _validate.positive_int("m", m)
    return _validate.result("eta and m", m * eta)


def ntk_normalised_gram(model: TwoLayerReLU, X) -> torch.Tensor:
    r"""The kernel of ``model`` in the normalisation of Chapter 4 (the NTK scaling):

    .. math::
        H_{ij} = \frac{x_i^\top x_j}{m} \sum_{r=1}^m
        \mathbb 1\{w_r^\top x_i \ge 0,\ w_r^\top x_j \ge 0\}
        = \frac{1}{m\,c_m^2}\, H^{\mathrm{model}}_{ij},

    where :math:`H^{\mathrm{model}}` = :func:`~momentum.networks.ntk_gram` is the Gram matrix
    of the model's own Jacobian and :math:`c_m` its output scale: the identity for a
    :class:`~momentum.networks.TwoLayerReLU`, :math:`m` times the model's kernel for a
    :class:`MeanFieldTwoLayer` (whose Jacobian carries :math:`1/m` instead of
    :math:`1/\sqrt m`). It depends on the weights only, so the two scalings can be compared
    on one scale (Chapter 6)."""
    if not isinstance(model, TwoLayerReLU):
        raise ValueError(f"model must be a TwoLayerReLU, got {type(model).__name__}")
    return ntk_gram(model, X) / (model.m * model.output_scale ** 2)
