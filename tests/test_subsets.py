import numpy as np
import pytest

import synthetic
from conftest import small_params
from lib.cifar import CLASSES, NO_LABEL, Images
from lib.params import ParamError
from lib.subsets import carve, interleaved, per_class, summary

FROG = CLASSES.index("frog")

rng = np.random.default_rng(7)
TRAIN = synthetic.labels(300, rng, first=FROG)
TEST = synthetic.labels(100, rng)


def params(**models):
    p = small_params("http://127.0.0.1/a.tar.gz", "0" * 32)
    if models:
        p["models"] = {name: {"train_size": size} for name, size in models.items()}
    return p


def spread(labels):
    counts = np.bincount(labels, minlength=10)
    return counts.max() - counts.min()


def test_every_prefix_of_the_interleaved_order_is_class_balanced():
    labels = np.repeat(np.arange(10), 50)
    order = interleaved(labels, np.random.default_rng(0))
    assert sorted(order.tolist()) == list(range(500))
    assert all(spread(labels[order[:n]]) <= 1 for n in range(1, 501))


def test_interleaving_uneven_classes_stays_balanced_while_each_class_lasts():
    labels = np.concatenate([np.repeat(np.arange(10), 20), np.repeat([3], 15)])
    order = interleaved(labels, np.random.default_rng(1))
    assert all(spread(labels[order[:n]]) <= 1 for n in range(1, 201))
    assert set(labels[order[200:]]) == {3}


def test_frog_is_in_no_subset_and_subsets_are_nested_prefixes():
    carving = carve(TRAIN, TEST, params(tiny=10, dummy=50, benchmark=299))
    assert carving.held_out == [0]
    assert all(0 not in indices for indices in carving.subsets.values())
    assert np.array_equal(carving.subsets["dummy"][:10], carving.subsets["tiny"])
    assert np.array_equal(carving.subsets["benchmark"][:50], carving.subsets["dummy"])
    assert sorted(carving.subsets["benchmark"].tolist()) == list(range(1, 300))


def test_subsets_are_class_balanced():
    carving = carve(TRAIN, TEST, params(a=50, b=123))
    assert per_class(TRAIN[carving.subsets["a"]]) == {name: 5 for name in CLASSES}
    assert spread(TRAIN[carving.subsets["b"]]) == 1


def test_adding_or_removing_a_model_leaves_the_others_identical():
    before = carve(TRAIN, TEST, params(dummy=50, benchmark=299))
    after = carve(TRAIN, TEST, params(dummy=50, extra=120))
    assert np.array_equal(before.subsets["dummy"], after.subsets["dummy"])
    assert np.array_equal(before.probe, after.probe) and np.array_equal(before.val, after.val)


def test_same_seed_same_carving_other_seed_other_carving():
    one, two = carve(TRAIN, TEST, params()), carve(TRAIN, TEST, params())
    assert one.held_out == two.held_out and one.subsets.keys() == two.subsets.keys()
    assert all(np.array_equal(one.subsets[name], two.subsets[name]) for name in one.subsets)
    assert all(np.array_equal(getattr(one, part), getattr(two, part)) for part in ("pool", "val", "test", "probe"))
    other = params()
    other["split"]["seed"] = 1
    moved = carve(TRAIN, TEST, other)
    assert not np.array_equal(moved.subsets["dummy"], one.subsets["dummy"])
    assert not np.array_equal(moved.val, one.val)


def test_val_and_test_partition_the_test_split_and_the_probe_is_balanced_inside_test():
    carving = carve(TRAIN, TEST, params())
    assert len(carving.val) == 40 and len(carving.test) == 60
    assert sorted(np.concatenate([carving.val, carving.test]).tolist()) == list(range(100))
    assert set(carving.probe.tolist()) <= set(carving.test.tolist())
    assert len(carving.probe) == 20 and per_class(TEST[carving.probe]) == {name: 2 for name in CLASSES}
    assert per_class(TEST[carving.val]) == {name: 4 for name in CLASSES}


def test_changing_the_probe_size_moves_nothing_else():
    small, large = params(), params()
    large["analysis"]["probe_size"] = 50
    a, b = carve(TRAIN, TEST, small), carve(TRAIN, TEST, large)
    assert np.array_equal(a.subsets["dummy"], b.subsets["dummy"]) and np.array_equal(a.val, b.val)
    assert np.array_equal(a.probe, b.probe[:20])


def test_every_training_subject_is_held_out_and_test_subjects_change_no_subset():
    p = params(dummy=50, benchmark=297)
    frogs = np.flatnonzero(TRAIN == FROG)
    p["subjects"] = {"frog": {"split": "train", "index": 0}, "other": {"split": "train", "index": int(frogs[3])},
                     "again": {"split": "train", "index": 0}, "seen": {"split": "test", "index": 5},
                     "photo": {"file": "images/x.png"}}
    carving = carve(TRAIN, TEST, p)
    assert carving.held_out == [0, frogs[3]] and len(carving.pool) == 298
    assert not {0, int(frogs[3])} & set(carving.subsets["benchmark"].tolist())
    p["subjects"] = {"other": {"split": "train", "index": int(frogs[3])}}
    p["models"]["benchmark"]["train_size"] = 299
    moved = carve(TRAIN, TEST, p)
    assert 0 in moved.subsets["benchmark"] and frogs[3] not in moved.subsets["benchmark"]


@pytest.mark.parametrize("change, key, allowed", [
    (lambda p: p["models"]["benchmark"].update(train_size=300), "models.benchmark.train_size",
     "at most 299, the pool"),
    (lambda p: p["split"].update(val_size=100), "split.val_size", "must be below 100"),
    (lambda p: p["analysis"].update(probe_size=61), "analysis.probe_size", "at most 60"),
])
def test_sizes_the_data_cannot_supply_are_refused(change, key, allowed):
    p = params()
    change(p)
    with pytest.raises(ParamError, match=allowed) as error:
        carve(TRAIN, TEST, p)
    assert error.value.key == key


def test_summary_counts():
    carving = carve(TRAIN, TEST, params())
    facts = summary(carving, TRAIN, TEST, Images(None, np.array([FROG, NO_LABEL]), ["frog", "photo"]))
    assert facts["pool_size"] == 299 and facts["held_out"] == [0]
    assert facts["subjects"] == {"frog": "frog", "photo": None}
    assert facts["subsets"]["dummy"] == {"size": 50, "per_class": {name: 5 for name in CLASSES}}
    assert sum(facts["subsets"]["benchmark"]["per_class"].values()) == 299
    assert facts["subsets"]["benchmark"]["per_class"]["frog"] == 29
    assert (facts["val_size"], facts["test_size"], facts["probe_size"]) == (40, 60, 20)
