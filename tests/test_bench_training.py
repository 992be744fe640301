"""benchmarks/bench_training.py: its flop counts, its closed-form step, and the rows of a quick
run's report (no timing asserts: timings depend on the machine)."""

import importlib.util
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench_training",
                                               ROOT / "benchmarks" / "bench_training.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_two_layer_flops_is_4_m_d_n_per_network():
    assert bench.two_layer_flops(8000, 64, 360) == 4 * 8000 * 64 * 360
    assert bench.two_layer_flops(1000, 64, 360, nets=5) == 5 * 4 * 1000 * 64 * 360


def test_deep_flops_counts_forward_weight_and_input_gradients():
    # (64 -> 1024 -> 1), n = 16: forward and weight gradient of both layers, input gradient
    # of the second only
    n = 16
    expected = 4 * n * (64 * 1024 + 1024 * 1) + 2 * n * (1024 * 1)
    assert bench.deep_flops([64, 1024, 1], n) == expected
    assert bench.deep_flops([64, 1024, 1], n, nets=3) == 3 * expected
    assert bench.layer_widths(64, 3, 256) == [64, 64, 256, 1]


def test_closed_form_step_gives_the_autograd_iterates():
    assert bench.closed_form_agreement(m=40, nets=2, steps=5) < 1e-12


@pytest.fixture(scope="module")
def quick_report():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)          # tiny tensors: one thread is fastest on a busy machine
    try:
        return bench.report(quick=True, device="cpu")
    finally:
        torch.set_num_threads(threads)


def test_quick_report_has_the_expected_rows(quick_report):
    rows = [line.split() for line in quick_report]
    cfg = bench.QUICK
    for dtype in ("float64", "float32"):
        for m in cfg["two_layer_widths"]:
            for nets in (1, cfg["stack"]):
                assert any(r[:3] == [dtype, str(m), str(nets)] for r in rows), (dtype, m, nets)
        for depth, width, nets in cfg["deep"]:
            assert any(r[:4] == [dtype, str(depth), str(width), str(nets)] for r in rows), \
                (dtype, depth, width, nets)
    text = "\n".join(quick_report)
    for heading in ("Headline", "1. Two-layer ReLU network", "2. Deep ReLU network",
                    "3. Where a step's time goes", "Reading.", "networks.train_two_layer",
                    "networks.train_deep_relu"):
        assert heading in text
    for group, _ in bench.GROUPS:
        assert group in text
    assert "device: cpu" in text


def test_quick_run_writes_only_where_told(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "report", lambda quick=False, device=None: ["a report"])
    out = tmp_path / "r.txt"
    bench.main(["--quick", "--out", str(out)])
    assert out.read_text() == "a report\n"
    before = bench.REPORT.read_text() if bench.REPORT.exists() else None
    bench.main(["--quick"])
    assert (bench.REPORT.read_text() if bench.REPORT.exists() else None) == before


def test_ratio_pairs_samples_round_by_round():
    assert bench.ratio([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]) == pytest.approx(0.5)
    assert bench.ratio([1.0, 1.0, 1.0], [2.0, 1.0, 4.0]) == pytest.approx(0.5)


def test_load_revision_gives_the_loops_of_that_revision():
    """--before REV times REV's loops beside the current ones: the module loaded from HEAD
    trains like the current library (the working tree's loop is HEAD's, or a change of it
    that keeps every number; tests/test_deep_relu.py and test_two_layer.py check that)."""
    import numpy as np

    from momentum import networks

    X, y = bench.data.two_class("digits", n=12, seed=0)
    old = bench.load_revision("HEAD", "networks.deep_relu")
    assert old is not networks.deep_relu and old.DeepReLU is networks.DeepReLU
    runs = [lib.train_deep_relu(networks.DeepReLU([64, 32, 1], seeds=[0, 1]), X, y,
                                method="nesterov", eta=0.01, beta=0.5, steps=5,
                                track_features=("dx", "du"))
            for lib in (old, networks)]
    np.testing.assert_array_equal(runs[0].losses, runs[1].losses)
    np.testing.assert_array_equal(runs[0].du, runs[1].du)
    old2 = bench.load_revision("HEAD", "networks.two_layer")
    nets = [networks.TwoLayerReLU(20, 64, seeds=1) for _ in range(2)]
    recs = [lib.train_two_layer(net, X, y, method="heavy_ball", eta=0.05, beta=0.9, steps=5)
            for lib, net in zip((old2, networks), nets)]
    np.testing.assert_array_equal(recs[0].losses, recs[1].losses)
    with pytest.raises(bench.subprocess.CalledProcessError):
        bench.load_revision("no-such-revision", "networks.two_layer")
