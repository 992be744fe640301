"""Adam, RMSProp and the book's methods through torch.optim (adaptive), the mean-field net."""

import math

import numpy as np
import pytest
import torch

from momentum import adaptive, networks
from momentum.networks import mean_field


def test_make_optimizer_types():
    p = [torch.nn.Parameter(torch.zeros(3))]
    assert isinstance(adaptive.make_optimizer("adam", p, lr=0.1), torch.optim.Adam)
    assert isinstance(adaptive.make_optimizer("rmsprop", p, lr=0.1), torch.optim.RMSprop)
    opt = adaptive.make_optimizer("nesterov", p, lr=0.1, beta=0.9)
    assert opt.defaults["nesterov"] and opt.defaults["momentum"] == 0.9
    with pytest.raises(ValueError):
        adaptive.make_optimizer("lion", p, lr=0.1)
    with pytest.raises(ValueError):
        adaptive.make_optimizer("adam", p, lr=-1.0)


@pytest.mark.parametrize("name", adaptive.OPTIMIZERS)
def test_stack_trains_as_separate_runs(name):
    A = torch.tensor([[1.0, 0.0], [0.0, 10.0]], dtype=torch.float64)
    starts = torch.tensor([[1.0, 1.0], [-2.0, 0.5]], dtype=torch.float64)

    def run(W):
        W = torch.nn.Parameter(W.clone())
        return adaptive.train([W], lambda: 0.5 * ((W @ A) * W).sum(-1), name, lr=0.05,
                              steps=25, beta=0.0 if name == "gd" else 0.5).losses

    both = run(starts)
    for i in range(2):
        np.testing.assert_allclose(both[:, i], run(starts[i:i + 1])[:, 0], rtol=1e-12)


def test_step_search_picks_the_smallest_final_loss():
    A = torch.tensor([1.0, 10.0], dtype=torch.float64)

    def run(lr):
        w = torch.nn.Parameter(torch.ones(1, 2, dtype=torch.float64))
        return adaptive.train([w], lambda: 0.5 * (A * w ** 2).sum(-1), "gd", lr=lr, steps=30)

    best, tr, finals = adaptive.step_search(run, [0.01, 0.1, 0.25])
    assert best == min(finals, key=finals.get) and math.isinf(finals[0.25])
    assert tr.losses[-1, 0] == pytest.approx(finals[best])


def test_mean_field_network():
    X = torch.nn.functional.normalize(torch.randn(6, 4, dtype=torch.float64), dim=1)
    ntk = networks.TwoLayerReLU(50, 4, seeds=[1, 2])
    mf = mean_field.MeanFieldTwoLayer(50, 4, seeds=[1, 2])
    torch.testing.assert_close(mf(X), ntk(X) / math.sqrt(50))
    # the kernel is the Gram matrix of the model's own Jacobian: 1/m times the NTK one
    torch.testing.assert_close(50 * networks.ntk_gram(mf, X), networks.ntk_gram(ntk, X))
    one = mean_field.MeanFieldTwoLayer(50, 4, seeds=1)
    J = networks.ntk_gram(one, X, method="autograd")
    torch.testing.assert_close(J, networks.ntk_gram(one, X))
    assert mean_field.mean_field_step(0.1, 50) == pytest.approx(5.0)
    with pytest.raises(ValueError):
        mean_field.mean_field_step(0.1, 0)


def test_gradient_descent_has_no_momentum_here_either():
    w = [torch.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError, match="beta must be 0 for gradient descent"):
        adaptive.make_optimizer("gd", w, lr=0.1, beta=0.5)
    with pytest.raises(ValueError, match="beta"):
        adaptive.train(w, lambda: (w[0] ** 2).sum(), "gd", lr=0.1, steps=2, beta=0.9)
    assert isinstance(adaptive.make_optimizer("adam", w, lr=0.1, beta=0.9), torch.optim.Adam)
