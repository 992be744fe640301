"""Draw the summary figure shown at the top of README.md (_static/summary.png).

    python .ci/readme_figure.py

Left: iterations to shrink the loss gap by 1e-8 against kappa (Chapter 1, Figure 1.3).
Right: heavy ball cycling on the Lessard-Recht-Packard function while Nesterov converges
(Chapter 1, Figure 1.7). Everything is computed here with the library.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from momentum import optimizers, plotting, problems, theory  # noqa: E402

plotting.use_style()
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6), dpi=90)
kappas = np.logspace(1, 4, 8)
batch = problems.QuadraticBatch(problems.random_quadratic(k, 20, seed=2) for k in kappas)
x0 = np.tile(np.random.default_rng(0).standard_normal(20), (len(batch), 1))
for m in optimizers.METHODS:
    tun = [theory.tuning(m, mu, L) for mu, L in zip(batch.mu[:, 0], batch.L[:, 0])]
    steps = int(12 * kappas.max() if m == "gd" else 12 * np.sqrt(kappas.max()))
    traj = optimizers.run(m, batch.grad, x0, eta=np.array([[t.eta] for t in tun]),
                          beta=np.array([[t.beta] for t in tun]), steps=steps,
                          loss=batch.loss, keep_iterates=False)
    its = traj.iterations_to(1e-8)
    slope = plotting.power_law_fit(kappas, its).exponent
    ax1.loglog(kappas, its, "o-", color=plotting.COLORS[m],
               label=f"{plotting.LABELS[m]} (slope {slope:.2f})")
ax1.set_xlabel(r"condition number $\kappa$")
ax1.set_ylabel("iterations to $10^{-8}$")
ax1.set_title(r"$\kappa$ against $\sqrt{\kappa}$")
ax1.legend()
f = problems.lessard_counterexample()
hb, nag = theory.heavy_ball_tuning(f.mu, f.L), theory.nesterov_tuning(f.mu, f.L)
x0 = np.array([3.3])
nag = theory.nesterov_tuning(f.mu, f.L / 0.9)  # tuned for the valid bound L' = L / 0.9
for m, t in [("heavy_ball", hb), ("nesterov", nag)]:
    traj = optimizers.run(m, f.grad, x0, eta=t.eta, beta=t.beta, steps=60)
    ax2.semilogy(np.abs(traj.x[:, 0]) + 1e-300, "o-", ms=3, color=plotting.COLORS[m],
                 label=f"{plotting.LABELS[m]} (eta = {t.eta:.3f}, beta = {t.beta:.3f})")
ax2.set_ylim(1e-16, 10)
ax2.set_xlabel("iteration k")
ax2.set_ylabel(r"$|x_k - x^\star|$")
ax2.set_title("a smooth, strongly convex function: heavy ball cycles")
ax2.legend()
out = Path(__file__).resolve().parent.parent / "_static" / "summary.png"
out.parent.mkdir(exist_ok=True)
fig.savefig(out)
print(f"wrote {out.name}")
