"""The restructured loops give the same iterates as the loops they replaced, on the same seeds.

The reference loops below are the bodies of the former ``optimizers.gd/heavy_ball/nesterov``
(``_Recorder``), ``networks.train_two_layer`` and ``networks.train_deep_relu`` (per-step host
copies), kept here verbatim in substance (without their recording of divergence) so the new
code can be compared with them to 1e-12.
"""

import numpy as np
import pytest
import torch

from momentum import networks, optimizers, problems, theory


def _old_vector(method, grad, x0, eta, beta, steps):
    xs, ys = [x0], [x0]
    x = x_prev = y = x0
    for _ in range(steps):
        if method == "gd":
            x = x - eta * grad(x)
        elif method == "heavy_ball":
            x, x_prev = x - eta * grad(x) + beta * (x - x_prev), x
        else:
            g = grad(y)
            x_next = y - eta * g
            x, y = x_next, x_next + beta * (x_next - x)
            ys.append(y)
        xs.append(x)
    return np.stack(xs), (np.stack(ys) if method == "nesterov" else None)


@pytest.mark.parametrize("method", optimizers.METHODS)
def test_vector_rules_give_the_former_iterates(method):
    q = problems.random_quadratic(50.0, 8, seed=3)
    x0 = np.random.default_rng(0).standard_normal((3, 8))
    t = theory.tuning(method, q.mu, q.L)
    new = optimizers.run(method, q.grad, x0, eta=t.eta, beta=t.beta, steps=150, loss=q.loss)
    xs, ys = _old_vector(method, q.grad, x0, t.eta, t.beta, 150)
    np.testing.assert_allclose(new.x, xs, rtol=0, atol=1e-12)
    if ys is not None:
        np.testing.assert_allclose(new.y, ys, rtol=0, atol=1e-12)
    np.testing.assert_allclose(new.losses, q.loss(xs), rtol=1e-12, atol=1e-300)


def _old_train_two_layer(model, X, y, method, eta, beta, steps):
    opt = optimizers.torch_optimizer(method, [model.W], eta=eta, beta=beta)
    W0 = model.W.detach().clone()
    losses, dists = [], []
    for k in range(steps + 1):
        opt.zero_grad()
        loss = model.loss(X, y)
        losses.append(loss.detach().cpu().numpy())
        dists.append(networks.max_distance(model, W0).cpu().numpy())
        if k == steps:
            break
        loss.sum().backward()
        opt.step()
    return np.stack(losses), np.stack(dists), model.W.detach().clone()


# Nesterov's record is no longer the former one: the runner follows Liu et al.'s start
# W(-1) = W(0), not PyTorch's (tests/test_conventions.py checks it against eq. (5)).
@pytest.mark.parametrize("method", ["heavy_ball"])
def test_train_two_layer_gives_the_former_record(method):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(12, 5, dtype=torch.float64, generator=g)
    X = X / torch.linalg.vector_norm(X, dim=1, keepdim=True)
    y = torch.sign(torch.randn(12, dtype=torch.float64, generator=g))
    old_l, old_d, old_W = _old_train_two_layer(networks.TwoLayerReLU(64, 5, seeds=[1, 2]), X, y,
                                               method, 0.05, 0.9, 130)
    model = networks.TwoLayerReLU(64, 5, seeds=[1, 2])
    new = networks.train_two_layer(model, X, y, method=method, eta=0.05, beta=0.9, steps=130)
    np.testing.assert_allclose(new.losses, old_l, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(new.distances, old_d, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(model.W.detach(), old_W, rtol=0, atol=1e-12)
    assert new.grad_norms.shape == new.losses.shape == (131, 2)


def _old_train_deep_relu(model, X, Y, method, eta, beta, steps):
    from momentum.networks.deep_relu import _deep_forward

    params = list(model.weights)
    opt = optimizers.torch_optimizer(method, params, eta=eta, beta=beta)
    F0 = model.features(X).detach()
    shift = method == "nesterov" and beta > 0
    out = {k: [] for k in ("losses", "dx", "du", "dx_null", "alphas", "drift")}
    prev = None
    for k in range(steps + 1):
        ws = []
        for p in params:
            buf = opt.state[p].get("momentum_buffer") if p in opt.state else None
            ws.append(p.detach().clone() if (buf is None or not shift)
                      else p.detach() + beta * eta * buf)
        with torch.no_grad():
            F = _deep_forward(ws, X, penultimate=True)
            lv = (0.5 * ((F @ ws[-1] - Y) ** 2).sum((-2, -1))).numpy()
        _, S, Vh = torch.linalg.svd(F, full_matrices=False)
        if prev is not None:
            p_ws, p_Vh = prev
            dW = ws[-1] - p_ws[-1]
            out["dx"].append(torch.linalg.vector_norm(dW, dim=(-2, -1)).numpy())
            out["du"].append(torch.sqrt(sum(torch.linalg.vector_norm(a - b, dim=(-2, -1)) ** 2
                                            for a, b in zip(ws[:-1], p_ws[:-1]))).numpy())
            inside = p_Vh.transpose(-1, -2) @ (p_Vh @ dW)
            out["dx_null"].append(torch.linalg.vector_norm(dW - inside, dim=(-2, -1)).numpy())
        out["losses"].append(lv)
        out["alphas"].append(S[..., -1].numpy())
        out["drift"].append(torch.linalg.matrix_norm(F - F0, ord=2).numpy())
        prev = (ws, Vh)
        if k == steps:
            break
        opt.zero_grad()
        model.loss(X, Y).sum().backward()
        opt.step()
    return {k: np.stack(v) for k, v in out.items()}


@pytest.mark.parametrize("method", optimizers.METHODS)
def test_train_deep_relu_gives_the_former_record(method):
    g = torch.Generator().manual_seed(1)
    X = torch.randn(6, 4, dtype=torch.float64, generator=g)
    X = X / torch.linalg.vector_norm(X, dim=1, keepdim=True)
    Y = torch.randn(6, 1, dtype=torch.float64, generator=g)
    beta = 0.0 if method == "gd" else 0.8
    old = _old_train_deep_relu(networks.DeepReLU([4, 16, 16, 1], seeds=[0, 1]), X, Y, method,
                               0.05, beta, 90)
    new = networks.train_deep_relu(networks.DeepReLU([4, 16, 16, 1], seeds=[0, 1]), X, Y,
                                   method=method, eta=0.05, beta=beta, steps=90,
                                   track_features=True)
    for name, ref in old.items():
        got = new.losses if name == "losses" else new.series[name]
        assert got.shape == ref.shape, name
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12, err_msg=name)
