import itertools
import subprocess
import sys

import pytest

from conftest import ROOT
from lib.workers import FIXED_IMAGES, commands, costs, overrides, shares

SWEEP = {"s1000": {"train_size": 1000}, "s2000": {"train_size": 2000}, "s5000": {"train_size": 5000},
         "dummy": {"train_size": 10000}, "s20000": {"train_size": 20000}, "benchmark": {"train_size": 49999}}


def test_the_sweep_of_the_results_weighs_each_runs_fixed_cost_beside_its_training_images():
    assert [costs(SWEEP)[name] for name in ("s1000", "benchmark")] == [1000 + FIXED_IMAGES, 49999 + FIXED_IMAGES]
    assert shares(SWEEP, 2) == [["benchmark", "dummy"], ["s20000", "s5000", "s2000", "s1000"]]  # 89,999 and 88,000


def best_two_way(models):
    """The smallest largest load of any split of `models` between two workers, by trying every one."""
    names, cost = list(models), costs(models)
    return min(max(sum(cost[n] for n, bit in zip(names, bits) if bit),
                   sum(cost[n] for n, bit in zip(names, bits) if not bit))
               for bits in itertools.product((0, 1), repeat=len(names)))


@pytest.mark.parametrize("sizes", [(49999, 20000, 10000, 5000, 2000, 1000), (100, 90, 80, 70, 60, 50, 40),
                                   (30000, 29000, 2000, 1000, 500)])
def test_the_split_between_two_workers_is_as_even_as_any_split(sizes):
    models = {f"m{k}": {"train_size": size} for k, size in enumerate(sizes)}
    loads = [sum(costs(models)[name] for name in share) for share in shares(models, 2)]
    assert max(loads) == best_two_way(models)


def test_the_costliest_goes_first_to_the_least_loaded_worker():
    assert shares(SWEEP, 3) == [["benchmark"], ["s20000", "s2000"], ["dummy", "s5000", "s1000"]]
    assert shares({"a": {"train_size": 10}, "b": {"train_size": 10}}, 2) == [["a"], ["b"]]  # ties: params order


def test_every_model_is_in_exactly_one_share_and_extra_workers_get_none():
    split = shares(SWEEP, 8)
    assert sorted(name for share in split for name in share) == sorted(SWEEP)
    assert split[6:] == [[], []] and shares(SWEEP, 1) == [list(sorted(SWEEP, key=lambda n: -SWEEP[n]["train_size"]))]


def test_imported_models_train_nothing_and_weigh_the_fixed_cost_alone():
    models = {"mine": {"train_size": 100}, "theirs": {"keras": "imported/theirs.keras"}, "small": {"train_size": 10}}
    assert costs(models)["theirs"] == FIXED_IMAGES
    assert shares(models, 2) == [["mine"], ["small", "theirs"]]


@pytest.mark.parametrize("workers", [0, -1, 1.5, True, "2"])
def test_a_worker_count_that_is_not_a_whole_positive_number_is_refused(workers):
    with pytest.raises(ValueError, match="workers"):
        shares(SWEEP, workers)


def test_a_share_becomes_the_overrides_that_delete_every_other_model():
    assert overrides(SWEEP, ["benchmark"]) == [f"~models.{name}" for name in SWEEP if name != "benchmark"]
    assert overrides(SWEEP, list(SWEEP)) == []


def test_the_recipe_prints_each_workers_share_and_its_experiment():
    assert commands(SWEEP, 2).splitlines() == [
        "# worker 0: benchmark, dummy (89,999 image-equivalents a seed)",
        "dvc exp run --pull -n share-0 -S '~models.s1000' -S '~models.s2000' -S '~models.s5000' -S '~models.s20000'",
        "# worker 1: s20000, s5000, s2000, s1000 (88,000 image-equivalents a seed)",
        "dvc exp run --pull -n share-1 -S '~models.dummy' -S '~models.benchmark'"]
    assert commands({"a": {"train_size": 10}}, 2).splitlines()[-1] == "# worker 1: nothing (more workers than models)"


def test_the_recipe_runs_from_the_project_folder_on_its_params():
    run = subprocess.run([sys.executable, "-m", "lib.workers", "2"], cwd=ROOT, capture_output=True, text=True,
                         env={"PYTHONPATH": "stages"})
    assert run.returncode == 0 and run.stdout.startswith("# worker 0: benchmark ("), run.stderr
    refused = subprocess.run([sys.executable, "-m", "lib.workers", "0"], cwd=ROOT, capture_output=True, text=True,
                             env={"PYTHONPATH": "stages"})
    assert refused.returncode == 2 and "workers = 0: must be a whole number >= 1" in refused.stderr


def test_the_recipe_names_a_bad_param_in_one_line(tmp_path):
    (tmp_path / "params.yaml").write_text((ROOT / "params.yaml").read_text().replace("train_size: 10000", "train_size: -1"))
    run = subprocess.run([sys.executable, "-m", "lib.workers", "2", "--params", str(tmp_path / "params.yaml")],
                         cwd=ROOT, capture_output=True, text=True, env={"PYTHONPATH": "stages"})
    assert run.returncode == 1 and run.stderr.startswith("error: params.yaml: models.dummy.train_size = -1"), run.stderr
    assert len(run.stderr.splitlines()) == 1
