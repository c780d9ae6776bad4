"""Checkpoints, their replay, and the early-checkpoint comparison."""

import numpy as np
import pytest

from lib.analysis import Run, measure_images
from lib.checkpoints import Checkpoints, assign, save_checkpoints, weights_by_path
from lib.cifar import NO_LABEL, Images
from lib.dynamics import (COMPARED, DIFFERS, RESEMBLES, early_comparison, flatten, progress,
                          matched_epoch, replay, replayed_epochs, replayed_images, summary_verdict, trajectory,
                          verdict)
from lib.keys import OUTPUT
from lib.stage import StageError
from lib.store import load_arrays, save_arrays


def test_the_epochs_replayed_are_those_asked_for_that_the_run_reached_with_the_best_always():
    saved = list(range(6))
    assert replayed_epochs([0, 1, 2, 4, 8, "best", "last"], saved, best=3) == ([0, 1, 2, 3, 4, 5], [8])
    assert replayed_epochs([1], saved, best=3) == ([1, 3], [])
    assert replayed_epochs(["last"], saved, best=5) == ([5], [])
    assert replayed_epochs([0, "best"], [], best=None) == ([], [])  # trained elsewhere: nothing to replay


def test_a_model_trained_elsewhere_has_no_checkpoints_and_replays_nothing(tmp_path):
    save_checkpoints(tmp_path / "none.npz", {})
    with Checkpoints(tmp_path / "none.npz") as checkpoints:
        epochs, unreached = replayed_epochs([0, "best", "last"], checkpoints.epochs, best=None)
        assert list(replay(None, {}, None, checkpoints, epochs, None, None, None, 50)) == []


def test_the_matched_epoch_has_the_closest_validation_accuracy_the_earliest_of_ties():
    history = [{"epoch": "1", "val_accuracy": "0.30"}, {"epoch": "2", "val_accuracy": "0.50"},
               {"epoch": "3", "val_accuracy": "0.61"}, {"epoch": "4", "val_accuracy": "0.59"}]
    assert matched_epoch(history, 0.52) == 2
    assert matched_epoch(history, 0.60) == 3  # 3 and 4 are both 0.01 away
    assert matched_epoch(history, 0.99) == 3
    assert matched_epoch(history, 0.0) == 1


def test_verdicts_and_where_the_smaller_model_sits_between_the_checkpoint_and_the_best_epoch():
    assert verdict((0.1, -0.02, 0.2)) == RESEMBLES and verdict((0.1, 0.01, 0.2)) == DIFFERS
    assert verdict((-0.1, -0.2, -0.01)) == DIFFERS and verdict((None, None, None)) == "undefined"
    assert progress(0.25, -0.75) == 0.25  # small = early + 0.25, final = early + 1: a quarter of the way
    assert progress(0.0, -1.0) == 0.0 and progress(1.0, 0.0) == 1.0  # at the checkpoint; at the best epoch
    assert progress(-0.5, -1.5) == -0.5  # beyond the checkpoint, away from the best epoch
    assert np.isnan(progress(0.1, 0.1)) and np.isnan(progress(np.nan, 1.0))
    assert summary_verdict({"a": {"verdict": RESEMBLES}, "b": {"verdict": RESEMBLES}}) == RESEMBLES
    assert summary_verdict({"a": {"verdict": DIFFERS}, "b": {"verdict": DIFFERS}}) == DIFFERS
    assert summary_verdict({"a": {"verdict": RESEMBLES}, "b": {"verdict": DIFFERS}}) == "mixed"


def sides(shift_early, shift_final, seeds=2, images=200):
    """(small, early, final) per-image values: the small model's, and the two others shifted from it."""
    rng = np.random.default_rng(0)
    small = {key: rng.normal(1.0, 0.3, (seeds, images)) for key in COMPARED}
    early = {key: v + shift_early for key, v in small.items()}
    final = {key: v + shift_final for key, v in small.items()}
    return small, early, final


def test_a_model_equal_to_the_early_checkpoint_resembles_it_and_sits_at_the_start_of_the_way():
    layers = {"last_hidden": ("dense_1", "dense_1"), "first_conv": ("conv2d_1", "conv2d_1")}
    found = early_comparison(*sides(0.0, 0.5), layers, seed=0, resamples=200)
    assert set(found) == {"dense_1.zero_fraction", "dense_1.mean", "dense_1.entropy_bits",
                          "output.softmax_entropy_bits"}
    for m in found.values():
        assert m["minus_checkpoint"] == 0 and m["minus_checkpoint_low"] < 0 < m["minus_checkpoint_high"]  # seeds
        assert m["minus_largest"] == pytest.approx(-0.5) and m["minus_largest_high"] < 0
        assert m["progress"] == 0.0 and m["verdict"] == RESEMBLES
    assert summary_verdict(found) == RESEMBLES
    one_seed = early_comparison(*sides(0.0, 0.5, seeds=1), layers, seed=0, resamples=200)
    m = one_seed["dense_1.mean"]
    assert (m["minus_checkpoint"], m["minus_checkpoint_low"], m["minus_checkpoint_high"]) == (0, 0, 0)


def test_a_model_apart_from_the_early_checkpoint_differs_and_its_progress_says_where_it_sits():
    layers = {"last_hidden": ("dense_1", "hidden")}  # the largest model names its last hidden layer otherwise
    found = early_comparison(*sides(0.3, 0.4), layers, seed=0, resamples=200)
    m = found["last_hidden.mean"]
    assert m["minus_checkpoint"] == pytest.approx(-0.3) and m["verdict"] == DIFFERS
    assert m["progress"] == pytest.approx(-3.0)  # early = small + 0.3, final = small + 0.4: beyond the checkpoint
    assert m["model"] == pytest.approx(m["checkpoint"] - 0.3)


def test_checkpoints_round_trip_byte_for_byte_and_refuse_what_they_do_not_hold(tmp_path):
    rng = np.random.default_rng(1)
    checkpoints = {epoch: {"conv/kernel": rng.normal(size=(3, 3, 1, 4)).astype(np.float32),
                           "conv/bias": rng.normal(size=4).astype(np.float32)} for epoch in range(3)}
    save_checkpoints(tmp_path / "a.npz", checkpoints)
    save_checkpoints(tmp_path / "b.npz", checkpoints)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    with Checkpoints(tmp_path / "a.npz") as saved:
        assert saved.epochs == [0, 1, 2]
        read = saved.weights(1)
        assert set(read) == {"conv/kernel", "conv/bias"}
        assert all(np.array_equal(read[k], checkpoints[1][k]) for k in read)
        with pytest.raises(StageError, match=r"has no epoch 7; it holds epochs \[0, 1, 2\]"):
            saved.weights(7)
    save_checkpoints(tmp_path / "none.npz", {})
    with Checkpoints(tmp_path / "none.npz") as saved:
        assert saved.epochs == []


def test_weights_are_assigned_by_path_and_a_set_that_does_not_fit_is_refused():
    from lib.model import reference

    model = reference(channels=1, precision="float32")
    weights = weights_by_path(model)
    changed = {path: value + 1 for path, value in weights.items()}
    assign(model, changed, "test")
    assert all(np.array_equal(weights_by_path(model)[path], value) for path, value in changed.items())
    with pytest.raises(StageError, match="holds weights"):
        assign(model, {k: v for k, v in changed.items() if k != "dense_1/bias"}, "test")
    wrong = dict(changed, **{"dense_1/bias": np.zeros(3, np.float32)})
    with pytest.raises(StageError, match="dense_1/bias has shape"):
        assign(model, wrong, "test")


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    """A reference network replayed through three checkpoints (random weights, a scaled copy, the best)."""
    import keras

    from lib.activations import layer_reader
    from lib.model import ARCHITECTURES, reference

    keras.utils.set_random_seed(0)
    model = reference(channels=1, precision="float32")
    best = weights_by_path(model)
    keras.utils.set_random_seed(1)
    other = weights_by_path(reference(channels=1, precision="float32"))
    scaled = {path: value * 1.5 for path, value in best.items()}
    path = tmp_path_factory.mktemp("replay") / "checkpoints.npz"
    save_checkpoints(path, {0: other, 1: scaled, 2: best})
    rng = np.random.default_rng(0)
    inputs = rng.uniform(0, 1, (12, 32, 32, 1)).astype(np.float32)
    probe = Images(None, np.arange(12) % 10, inputs=inputs)
    subjects = Images(None, np.array([3, NO_LABEL]), ["frog", "photo"], inputs[:2])
    roles = ARCHITECTURES["reference"].roles
    with Checkpoints(path) as checkpoints:
        results = list(replay(model, roles, layer_reader(model), checkpoints, [0, 1, 2], 2, probe, subjects, 10))
    return model, roles, probe, {0: other, 1: scaled, 2: best}, results


def test_the_replay_starts_with_the_best_epoch_and_measures_each_checkpoint_as_the_analysis_does(replayed):
    from lib.activations import layer_outputs

    model, roles, probe, weights, results = replayed
    assert [epoch for epoch, _, _ in results] == [2, 0, 1]
    for epoch, images, summary in results:
        assign(model, weights[epoch], "test")
        acts = layer_outputs(model, probe.inputs)
        expected = measure_images(Run(list(acts), roles, acts), probe.inputs, 10, probe.labels)
        for layer, measures in expected["layers"].items():
            assert all(np.array_equal(images["layers"][layer][m], v, equal_nan=True) for m, v in measures.items())
            assert summary["layers"][layer]["entropy_bits"] == round(float(measures["entropy_bits"].mean()), 6)
        assert summary[OUTPUT]["accuracy"] == round(float(expected[OUTPUT]["accuracy"].mean()), 6)
        assert set(summary["subjects"]) == {"frog", "photo"}
        assert summary["subjects"]["photo"][OUTPUT]["accuracy"] is None  # no label


def test_cka_to_the_best_epoch_is_one_there_and_less_for_other_weights(replayed):
    _, _, _, _, results = replayed
    cka = {epoch: summary["layers"]["conv2d_1"]["cka_to_best"] for epoch, _, summary in results}
    assert cka[2] == 1.0
    assert cka[1] == 1.0  # the best weights scaled by 1.5: a ReLU layer's maps scale with them, CKA does not move
    assert cka[0] < 0.99  # other random weights


def test_per_image_measures_are_stored_by_epoch_layer_and_measure(replayed, tmp_path):
    _, _, _, _, results = replayed
    arrays = {}
    for epoch, images, _ in results:
        arrays.update(flatten(epoch, images))
    save_arrays(tmp_path / "probe.npz", **arrays)
    stored = load_arrays(tmp_path / "probe.npz")
    epoch, images, _ = results[1]
    assert np.array_equal(replayed_images(stored, epoch, "dense_1", "mean"),
                          images["layers"]["dense_1"]["mean"])
    assert np.array_equal(replayed_images(stored, epoch, OUTPUT, "accuracy"), images[OUTPUT]["accuracy"])
    with pytest.raises(KeyError, match="holds no 005/layers/dense_1/mean"):
        replayed_images(stored, 5, "dense_1", "mean")


def test_trajectory_rows_give_each_runs_measures_plane_and_cka_by_epoch(replayed):
    _, roles, _, _, results = replayed
    rows = [{"epoch": epoch, "val_accuracy": None if epoch == 0 else 0.5, **summary} for epoch, _, summary in results]
    card = {"roles": roles, "epochs": rows}
    measures, plane, cka = trajectory({"m": {0: card, 1: card}})
    assert len(plane) == 6 and {p["seed"] for p in plane} == {0, 1}
    assert {row["measure"] for row in measures} >= {"dense_1 entropy_bits", "output accuracy", "validation accuracy"}
    assert sum(row["measure"] == "validation accuracy" for row in measures) == 4  # epoch 0 has none
    assert len(cka) == 6 * len(rows[0]["layers"])


def found_with(verdicts, progresses):
    """An early-checkpoint comparison as metrics/dynamics.json holds it, one measure per verdict."""
    measures = {f"dense_1.m{i}": {"model": 1.0, "checkpoint": 1.0, "largest": 2.0, "minus_checkpoint": 0.0,
                                  "minus_checkpoint_low": -0.1, "minus_checkpoint_high": 0.1, "minus_largest": -1.0,
                                  "minus_largest_low": -1.1, "minus_largest_high": -0.9, "progress": p, "verdict": v}
                for i, (v, p) in enumerate(zip(verdicts, progresses))}
    return {"largest": "benchmark", "epochs": {"0": 3, "1": 4}, "val_accuracy": {"model": 0.55, "checkpoint": 0.56},
            "measures": measures, "verdict": summary_verdict(measures)}


def test_the_report_says_what_the_early_checkpoint_numbers_support():
    from lib.report import early_lines

    alike = "\n".join(early_lines("dummy", found_with([RESEMBLES, RESEMBLES], [0.0, 0.1])))
    assert "**dummy resembles an early benchmark**" in alike and "(seed 0: epoch 3, seed 1: epoch 4)" in alike
    assert "| dense_1.m0 | 1 | 1 | 2 | 0 [-0.1, 0.1] | -1 [-1.1, -0.9] | 0 | resembles |" in alike
    unlike = "\n".join(early_lines("dummy", found_with([DIFFERS, DIFFERS, DIFFERS], [0.5, -2.0, 1.5])))
    assert "**dummy differs from an early benchmark**" in unlike
    assert ("sits between the two on dense_1.m0 (0.50); beyond the checkpoint, away from the best epoch on "
            "dense_1.m1 (-2.00); beyond the best epoch on dense_1.m2 (1.50).") in unlike
    mixed = "\n".join(early_lines("dummy", found_with([RESEMBLES, DIFFERS], [0.0, 0.5])))
    assert "**Mixed**: dummy resembles the early benchmark on dense_1.m0" in mixed and "differs on dense_1.m1" in mixed
