"""End to end: `dvc repro` in a temporary git repo, the archive served from 127.0.0.1."""

import csv
import io
import json
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import yaml

import synthetic
from browser import browser_page, plots_drawn, screenshot
from sshd import ssh_server
from conftest import ARCHIVE_NAME, Project, small_params
from lib.cifar import CLASSES, model_inputs
from lib.headline import SHOW_DROP, SHOW_KEEP
from lib.keys import values
from lib.store import load_arrays, read_csv
from lib.workers import overrides, shares

LAYERS = ["conv2d_1", "conv2d_2", "pool_1", "conv2d_3", "conv2d_4", "pool_2", "conv2d_5", "conv2d_6", "dense_1",
          "dropout_1", "flatten_1", "dense_2"]

pytestmark = pytest.mark.e2e

PATH = f"/{ARCHIVE_NAME}"
OUTPUTS = ["data/raw/cifar-10-binary.tar.gz", "data/subjects.npz", "data/subsets/dummy.npz",
           "data/subsets/benchmark.npz", "data/val.npz", "data/test.npz", "data/probe.npz",
           "metrics/data.json"]


@pytest.fixture
def pipeline(project, server, archive_bytes):
    server.files[PATH] = archive_bytes
    params = small_params(server.url(PATH), synthetic.md5(archive_bytes))
    project.write_params(params)
    project.commit("pipeline")
    project.params = params
    return project


def test_repro_downloads_and_carves_then_reruns_nothing(pipeline, server, archive_bytes):
    first = pipeline.dvc("repro", "carve")
    assert "Running stage 'download'" in first.stdout and "Running stage 'carve'" in first.stdout
    assert all((pipeline.path / name).is_file() for name in OUTPUTS)
    assert (pipeline.path / "data/raw" / ARCHIVE_NAME).read_bytes() == archive_bytes

    facts = json.loads((pipeline.path / "metrics/data.json").read_text())
    assert facts["pool_size"] == 299 and facts["subjects"] == {"frog": "frog"} and facts["held_out"] == [0]
    assert facts["subsets"]["dummy"]["per_class"] == {name: 5 for name in CLASSES}
    assert (facts["val_size"], facts["test_size"], facts["probe_size"]) == (40, 60, 20)

    frog = load_arrays(pipeline.path / "data/subjects.npz")
    assert frog["images"].shape == (1, 32, 32, 3) and frog["labels"].tolist() == [6]
    assert frog["names"].tolist() == ["frog"]
    dummy = load_arrays(pipeline.path / "data/subsets/dummy.npz")
    benchmark = load_arrays(pipeline.path / "data/subsets/benchmark.npz")
    assert np.array_equal(benchmark["images"][:50], dummy["images"])
    assert 0 not in benchmark["indices"]

    again = pipeline.dvc("repro", "carve")
    assert "Running stage" not in again.stdout
    assert "Data and pipelines are up to date" in again.stdout
    assert len(server.requests) == 1
    status = pipeline.dvc("status", "carve")
    assert "up to date" in status.stdout


def test_adding_a_model_leaves_every_other_subset_byte_identical(pipeline):
    pipeline.dvc("repro", "carve")
    before = {name: (pipeline.path / f"data/subsets/{name}.npz").read_bytes() for name in ("dummy", "benchmark")}
    pipeline.params["models"]["tiny"] = {"train_size": 20}
    pipeline.write_params(pipeline.params)
    rerun = pipeline.dvc("repro", "carve")
    assert "Stage 'download' didn't change" in rerun.stdout
    for name, data in before.items():
        assert (pipeline.path / f"data/subsets/{name}.npz").read_bytes() == data
    tiny = load_arrays(pipeline.path / "data/subsets/tiny.npz")
    assert np.array_equal(tiny["indices"], load_arrays(pipeline.path / "data/subsets/dummy.npz")["indices"][:20])


def test_the_cached_archive_is_not_downloaded_again(pipeline, server):
    pipeline.dvc("repro", "download")
    (pipeline.path / "data/raw" / ARCHIVE_NAME).unlink()
    pipeline.dvc("checkout", "download")
    assert (pipeline.path / "data/raw" / ARCHIVE_NAME).is_file()
    pipeline.dvc("repro", "--force", "download", "--no-run-cache")
    assert len(server.requests) == 1


def test_a_bad_param_stops_the_stage_with_one_line_naming_it(pipeline):
    pipeline.params["models"]["benchmark"]["train_size"] = 1000
    pipeline.write_params(pipeline.params)
    result = pipeline.dvc("repro", "carve", check=False)
    assert result.returncode != 0
    assert ("error: params.yaml: models.benchmark.train_size = 1000: must be at most 299, the pool"
            in result.stderr)
    assert not (pipeline.path / "data/subsets").exists()
    assert not (pipeline.path / "data/subjects.npz").exists()


def test_a_wrong_checksum_fails_the_download_naming_both_and_keeping_nothing(pipeline, archive_bytes):
    pipeline.params["data"]["md5"] = "f" * 32
    pipeline.write_params(pipeline.params)
    result = pipeline.dvc("repro", "download", check=False)
    assert result.returncode != 0
    assert f"expected md5 {'f' * 32}, got {synthetic.md5(archive_bytes)}" in result.stderr
    data = pipeline.path / "data"
    assert [p.name for p in data.rglob("*") if p.is_file() and p.name != ".gitignore"] == []


def test_repro_trains_every_model_one_line_per_epoch_and_records_each_run(reproduced):
    first = reproduced.first
    assert "Running stage 'train@dummy-0'" in first.stdout and "Running stage 'train@benchmark-0'" in first.stdout
    assert "dummy seed 0: epoch  2" in first.stdout
    assert "absl::InitializeLog" not in first.stderr and "] oneDNN custom operations" not in first.stderr
    metrics = json.loads((reproduced.path / "metrics/train/dummy/0.json").read_text())
    assert metrics["train_size"] == 50 and metrics["epochs_run"] == 2 and 1 <= metrics["best_epoch"] <= 2
    assert set(metrics) == {"train_size", "precision", "device", "epochs_run", "best_epoch", "val_accuracy",
                            "test_accuracy", "test_loss"}
    assert metrics["precision"] == "float32" and metrics["device"].startswith(("CPU ", "GPU "))
    history = (reproduced.path / "plots/train/benchmark/0.csv").read_text().splitlines()
    assert history[0] == "epoch,loss,accuracy,val_loss,val_accuracy" and len(history) == 3
    timing = json.loads((reproduced.path / "logs/train/dummy/0.json").read_text())
    assert timing["epochs_run"] == 2 and timing["seconds_per_epoch"] > 0
    assert "train_size" not in reproduced.dvc("metrics", "show").stdout  # the headline only
    assert "test_accuracy" in reproduced.dvc("metrics", "show", "metrics/train/dummy/0.json").stdout
    headline = json.loads((reproduced.path / "metrics/headline.json").read_text())
    assert list(headline["acc"]) == ["dummy", "benchmark"]  # a model added trains alone: see the architectures' test
    assert headline["acc"]["dummy"] == metrics["test_accuracy"]
    assert "Running stage" not in reproduced.dvc("repro").stdout


def test_a_diverging_training_fails_and_leaves_no_model(reproduced):
    rate = reproduced.params["train"]["learning_rate"]
    reproduced.params["train"]["learning_rate"] = 1e30
    reproduced.write_params(reproduced.params)
    result = reproduced.dvc("repro", "train@dummy-0", check=False)
    assert result.returncode != 0
    assert re.search(r"error: dummy seed 0: (val_)?loss became (nan|inf) at epoch 1; training diverged", result.stderr)
    assert not (reproduced.path / "data/models/dummy/0.keras").exists()
    reproduced.params["train"]["learning_rate"] = rate
    reproduced.write_params(reproduced.params)
    reproduced.dvc("repro", "train@dummy-0")
    assert (reproduced.path / "data/models/dummy/0.keras").is_file()
    assert reproduced.dvc("status").stdout.strip() == "Data and pipelines are up to date."


def test_bfloat16_trains_reproducibly_and_is_read_in_float32(reproduced):
    """The tests' params fix float32; this one runs the other numerics `auto` picks on some CPUs
    (emulated, hence slow, on AVX2-only ones: one epoch)."""
    from lib.activations import layer_outputs
    from lib.network import network
    from lib.params import load

    reproduced.params["train"].update(precision="bfloat16", max_epochs=1)
    reproduced.write_params(reproduced.params)
    reproduced.dvc("repro", "train@dummy-0")
    metrics = json.loads((reproduced.path / "metrics/train/dummy/0.json").read_text())
    assert metrics["precision"] == "bfloat16" and metrics["epochs_run"] == 1
    model_file = reproduced.path / "data/models/dummy/0.keras"
    model = model_file.read_bytes()
    read, _ = network(model_file, load(reproduced.path / "params.yaml")["models"]["dummy"], 1, "models.dummy")
    probe = load_arrays(reproduced.path / "data/probe.npz")["images"]
    activations = layer_outputs(read, model_inputs(probe, grayscale=True))  # as extract reads it
    assert activations["dense_1"].dtype == np.float32 and np.isfinite(activations["dense_2"]).all()
    assert np.allclose(activations["dense_2"].sum(axis=1), 1, atol=1e-5)
    reproduced.dvc("repro", "--force", "train@dummy-0")
    assert model_file.read_bytes() == model


def test_returning_to_earlier_params_restores_the_model_from_the_run_cache(reproduced):
    model = reproduced.path / "data/models/dummy/0.keras"
    original = model.read_bytes()
    rate = reproduced.params["train"]["learning_rate"]
    reproduced.params["train"]["learning_rate"] = rate * 2
    reproduced.write_params(reproduced.params)
    assert "Running stage 'train@dummy-0'" in reproduced.dvc("repro", "train@dummy-0").stdout
    assert model.read_bytes() != original

    reproduced.params["train"]["learning_rate"] = rate
    reproduced.write_params(reproduced.params)
    back = reproduced.dvc("repro", "train@dummy-0")
    assert "Running stage 'train@dummy-0'" not in back.stdout
    assert "Stage 'train@dummy-0' is cached - skipping run" in back.stdout
    assert model.read_bytes() == original


def test_an_experiment_in_a_temporary_workspace_takes_the_archive_from_the_cache(pipeline, server):
    pipeline.dvc("repro", "download")
    pipeline.commit("downloaded")
    result = pipeline.dvc("exp", "run", "--temp", "--force", "download")
    assert "from DVC cache" in result.stdout
    assert len(server.requests) == 1


SUBJECT_FIGURES = ["feature_maps_first_conv.png", "feature_maps_last_hidden.png", "distribution_last_hidden.png",
                   "pixels.png", "softmax.png"]
FIGURES = [f"subjects/frog/{name}" for name in SUBJECT_FIGURES] + ["cka.png", "size_sweep.png"]
PLOT_DATA = ["subject_layers.csv", "probe_layers.csv", "js_layers.csv", "cka.csv", "distribution_last_hidden.csv",
             "subject_pixels.csv", "softmax.csv", "training_curves.csv", "by_size.csv", "cka_to_largest.csv"]


def test_repro_extracts_and_analyzes_every_model_and_dvc_plots_draws_offline(reproduced):
    subjects = json.loads((reproduced.path / "metrics/subjects.json").read_text())
    probe = json.loads((reproduced.path / "metrics/probe.json").read_text())
    frog = subjects["frog"]
    assert list(subjects) == ["frog"] and set(frog) == {"label", "input", "models", "pairs"}
    measures = {"entropy_bits", "entropy_scaled_bits", "zero_fraction", "mean", "channel_corr", "input_corr",
                "input_mi_bits"}
    assert set(frog["models"]["dummy"]["layers"]["dense_1"]) == measures | {f"{m}_seed_sd" for m in measures}
    assert frog["models"]["benchmark"]["output"]["predicted"] in CLASSES
    assert set(LAYERS) <= set(frog["pairs"]["dummy_vs_benchmark"]["js_bits"])
    assert {"accuracy", "accuracy_low", "accuracy_high"} <= set(probe["models"]["dummy"]["output"])
    assert set(LAYERS) <= set(probe["pairs"]["dummy_vs_benchmark"]["cka"])
    assert probe["models"]["dummy"]["roles"] == {"first_conv": "conv2d_1", "last_hidden": "dense_1",
                                                 "output": "dense_2"}
    plots = reproduced.path / "plots/analysis"
    assert all((plots / name).read_bytes().startswith(b"\x89PNG") for name in FIGURES)
    assert all((plots / name).is_file() for name in PLOT_DATA)
    activations = load_arrays(reproduced.path / "data/activations/dummy/0/probe.npz")
    assert activations["conv2d_1"].shape == (20, 32, 32, 16)
    assert reproduced.dvc("status").stdout.strip() == "Data and pipelines are up to date."
    report = (reproduced.path / "plots/report.md").read_text()
    assert "## Claims" in report and len(re.findall(r"\*\*(HELD|NOT HELD|INCONCLUSIVE|NOT JUDGED)\*\*", report)) == 9
    assert "**Provisional:** one training seed" in report and probe["seeds"] == 1
    gap = probe["pairs"]["dummy_vs_benchmark"]["difference"]
    assert {"zero_fraction", "zero_fraction_low", "zero_fraction_high"} <= set(gap["layers"]["dense_1"])
    assert {"accuracy", "accuracy_low", "accuracy_high"} <= set(gap["output"])
    assert "entropy_drop_bits_low" in probe["models"]["dummy"]["narrowing"]
    assert all(f"(analysis/{name})" in report for name in FIGURES)

    reliance = json.loads((reproduced.path / "metrics/reliance.json").read_text())
    channel_layers = [name for name in LAYERS if name.startswith("conv")] + ["dense_1"]
    assert list(reliance["models"]["dummy"]["layers"]) == channel_layers and reliance["orders"] == 2
    dense = reliance["models"]["benchmark"]["layers"]["dense_1"]
    assert dense["channels"] == 64 and {"retained_area_low", "half_drop_share_seed_sd", "top_importance"} <= set(dense)
    assert dense["intact_accuracy"] == pytest.approx(probe["models"]["benchmark"]["output"]["accuracy"], abs=0.05)
    assert set(reliance["pairs"]["dummy_vs_benchmark"]["difference"]["layers"]) == {"conv2d_1", "conv2d_6", "dense_1"}
    assert {"hurt_match_over_chance_low", "spearman_gap_high"} <= set(reliance["pairs"]["dummy_vs_benchmark"]["difference"]
                                                                       ["layers"]["conv2d_6"])
    assert 0 <= dense["hurt_matched"] <= dense["hurt_defined"] <= 64 and dense["hurt_matched_chance"] > 0
    assert {"max_drop_spearman_low", "mean_max_class_drop", "random_direction_max_class_drop"} <= set(dense)
    classes = read_csv(reproduced.path / "plots/reliance/classes.csv")
    assert len(classes) == 2 * sum(16 if name.startswith("conv") else 64 for name in channel_layers) * 10
    per_channel = read_csv(reproduced.path / "plots/reliance/channels.csv")
    assert {"most_hurt", "selective_class", "hurt_match", "max_class_drop_low"} <= set(per_channel[0])
    assert "R3. Zeroing one channel hurts most" in report and "What zeroing one channel alone costs each class" in report
    outcomes = load_arrays(reproduced.path / "data/ablation/dummy/0/outcomes.npz")
    assert outcomes["dense_1/single_p_label"].shape == (64, 20) and outcomes["dense_1/p_label_intact"].shape == (20,)
    assert outcomes["conv2d_1/correct"].shape == (17, 20) and outcomes["dense_1/single_correct"].shape == (64, 20)
    assert outcomes["dense_1/direction_correct"].shape == (64, 20) and outcomes["dense_1/activity_initial"].shape == (20, 64)
    assert {"random_direction_top_importance", "mean_selectivity_initial", "mean_selectivity_permuted"} <= set(dense)
    assert "## Reliance on single channels" in report and "R1. The dummy model leans more" in report
    assert "| benchmark | dense_1 | 64 |" in report

    channels = json.loads((reproduced.path / "metrics/channels.json").read_text())
    assert list(channels["models"]["benchmark"]["layers"]) == channel_layers and channels["top"] == 20
    specific = channels["models"]["dummy"]["layers"]["dense_1"]
    assert 0.1 <= specific["class_specificity_low"] <= specific["class_specificity"] <= specific["class_specificity_high"] <= 1
    assert 0.1 < channels["chance"]["class_specificity"] < channels["chance"]["class_specificity_p95"] <= 1
    assert specific["class_specificity_over_initial"] == pytest.approx(
        specific["class_specificity"] - specific["class_specificity_initial"], abs=2e-6)
    assert set(channels["pairs"]["dummy_vs_benchmark"]["difference"]["layers"]) == {"conv2d_1", "dense_1"}
    assert set(channels["models"]["dummy"]["attribution"]) == {"integrated_gradients", "grad_cam"}
    examples = load_arrays(reproduced.path / "data/channels/dummy/0/examples.npz")
    test_split = np.concatenate([load_arrays(reproduced.path / f"data/{part}.npz")["indices"] for part in ("val", "test")])
    assert examples["conv2d_1/index"].shape == (16, 9) and set(examples["dense_1/index"].ravel()) <= set(test_split)
    assert examples["conv2d_1/peak"].shape == (100, 16) and examples["dense_1/tally"].sum(axis=1) == pytest.approx([20] * 64)
    assert examples["dense_1/peak_initial"].shape == (100, 64) and (examples["dense_1/tied"] >= 1).all()
    assert examples["dense_1/inputs"].shape == (64, 16) and "conv2d_1/inputs" not in examples  # what builds a channel
    card = json.loads((reproduced.path / "data/channels/dummy/0/channels.json").read_text())
    assert card["layers"]["dense_1"]["below"] == "conv2d_6" and card["layers"]["conv2d_3"]["below"] == "conv2d_2"
    features = load_arrays(reproduced.path / "data/channels/dummy/0/features.npz")
    assert features["conv2d_6/image"].shape == (16, 32, 32, 1) and features["dense_2/image"].shape == (10, 32, 32, 1)
    maps = load_arrays(reproduced.path / "data/attributions/benchmark/0/maps.npz")
    assert {"frog/integrated_gradients", "frog/grad_cam/initial"} <= set(maps) and maps["frog/grad_cam"].shape == (32, 32)
    assert "## What the channels respond to" in report and "dummy − benchmark: conv2d_1" in report

    shown = reproduced.dvc("plots", "show", "--json")
    rendered = json.loads(shown.stdout)
    assert not rendered.get("errors"), rendered.get("errors")
    reproduced.dvc("plots", "show", "-o", "html")
    page = (reproduced.path / "html/index.html").read_text()
    assert all(name in page for name in SUBJECT_FIGURES) and "Subjects, entropy by layer" in page
    assert "cdn.jsdelivr" not in page
    vega = [item for items in rendered["data"].values() for item in items if item["type"] == "vega"]
    with browser_page() as (tab, visit):
        tab.goto((reproduced.path / "html/index.html").as_uri())
        inked, images = plots_drawn(tab, len(vega))
        screenshot(tab, "dvc_plots_pipeline")
    assert len(inked) == len(vega) >= 20 and all(count > 500 for count in inked), inked
    assert len(images) >= len(SUBJECT_FIGURES) and all(width > 0 for width in images), images
    assert visit.errors == [] and visit.remote == [], (visit.errors, visit.remote)



def exp_rows(project):
    """`dvc exp show --csv` as rows, each a dict of column name to value."""
    return list(csv.DictReader(io.StringIO(project.dvc("exp", "show", "--csv").stdout)))


def queue_done(project, names, timeout=300):
    """Follow each queued experiment's log until it ends (`dvc queue logs -f`, no polling once it has
    started); return `dvc queue status`."""
    deadline = time.monotonic() + timeout
    for name in names:
        while (follow := project.dvc("queue", "logs", "-f", name, check=False)).returncode:
            assert "has not been started" in follow.stderr and time.monotonic() < deadline, follow.stderr
            time.sleep(2)
    return project.dvc("queue", "status").stdout


@pytest.mark.long
def test_queued_experiments_run_side_by_side_and_exp_show_sets_out_what_changed(reproduced):
    changes = {"nodropout": "+models.dummy.architecture=no_dropout",  # one retrains, another architecture
               "resampled": "analysis.resamples=200"}  # one reruns the analysis
    for name, change in changes.items():
        reproduced.dvc("exp", "run", "--queue", "-n", name, "-S", change)
    reproduced.dvc("queue", "start", "-j", "2")  # in temporary copies of the commit, side by side
    status = queue_done(reproduced, changes)
    assert status.count("Success") == 2, status
    rows = exp_rows(reproduced)
    for param, value in (("models.dummy.architecture", "no_dropout"), ("analysis.resamples", "200")):
        assert value in {row[next(name for name in rows[0] if name.endswith(param))] for row in rows}
    headline = [f"{measure}.{model}" if isinstance(models, dict) else measure
                for measure, models in json.loads((reproduced.path / "metrics/headline.json").read_text()).items()
                for model in (models if isinstance(models, dict) else [None])]
    assert len(headline) == 12 and set(headline) <= set(rows[0])
    assert not {name for name in rows[0] if ".layers." in name or name.startswith(("frog.", "pairs.", "input."))}
    review = ("exp", "show", "--no-pager", "--only-changed", "--drop", SHOW_DROP)
    changed = reproduced.dvc(*review, columns=200).stdout  # every changed param and headline metric, whole
    header = changed.splitlines()[1].split()
    assert "…" not in changed and max(len(line) for line in changed.splitlines()) <= 200, changed
    assert header[0] == "Experiment" and header[-2:] == ["analysis.resamples", "models.dummy.architecture"], changed  # a key an experiment adds comes last
    def shown(value):  # as the table shows it: exp show's default precision, 5 significant digits
        return f"{float(value):.5g}" if value else value

    moved = {name for name in headline if len({shown(row[name]) for row in rows}) > 1}  # which depends on the numerics
    assert moved and set(header) & set(headline) == moved and "acc.benchmark" not in moved, changed
    kept = reproduced.dvc(*review, "--keep", SHOW_KEEP, columns=200).stdout  # and the unchanged ones too
    assert kept.splitlines()[1].split()[1:1 + len(headline)] == headline, kept
    reproduced.dvc("exp", "apply", "nodropout")  # its metrics and plots, kept in git: an architecture is a param
    probe = json.loads((reproduced.path / "metrics/probe.json").read_text())
    assert "dropout_1" in probe["models"]["benchmark"]["layers"] and "dropout_1" not in probe["models"]["dummy"]["layers"]
    assert "dropout_1" not in probe["pairs"]["dummy_vs_benchmark"]["cka"]
    assert "| dummy | no_dropout | 50 |" in (reproduced.path / "plots/report.md").read_text()
    early = json.loads((reproduced.path / "metrics/dynamics.json").read_text())["early_checkpoint"]
    assert list(early) == ["dummy"] and early["dummy"]["largest"] == "benchmark"


def test_a_clone_pulls_every_output_from_an_ssh_remote_reruns_nothing_and_gets_a_model_as_an_artifact(reproduced,
                                                                                                      tmp_path):
    """A real remote: Debian's sshd on 127.0.0.1 (tests/sshd.py), reached with DVC's SSH remote and
    a key of its own. Outputs and the run cache go up; a clone with the lock pulls the outputs and
    reruns nothing; a clone without it restores every stage whose outputs are all in the cache from
    the remote's run cache (the others keep theirs in git, and DVC runs them again)."""
    with ssh_server(tmp_path / "sshd") as server:
        reproduced.dvc("remote", "add", "-d", "store", server.url)
        reproduced.commit("a remote")
        reproduced.dvc("remote", "modify", "--local", "store", "keyfile", str(server.keyfile))
        reproduced.dvc("push", "--run-cache")
        assert (server.store / "runs").is_dir() and (server.store / "files" / "md5").is_dir()
        fresh, bare = (clone_of(reproduced, tmp_path / name, server) for name in ("clone", "bare"))
        fresh.dvc("pull")
        assert (fresh.path / "data/models/benchmark/0.keras").read_bytes() == \
            (reproduced.path / "data/models/benchmark/0.keras").read_bytes()
        again = fresh.dvc("repro")
        assert "Running stage" not in again.stdout
        assert "Data and pipelines are up to date" in again.stdout

        (bare.path / "dvc.lock").unlink()
        bare.dvc("fetch", "--run-cache")
        restored = bare.dvc("repro", "--pull").stdout
        stages = reproduced.dvc("stage", "list", "--name-only").stdout.split()
        cached = [name for name in stages if f"Stage '{name}' is cached - skipping run" in restored]
        ran = re.findall(r"Running stage '([^']+)'", restored)
        assert sorted(cached + ran) == sorted(stages) and len(cached) > len(ran)
        assert {"download", "train@dummy-0", "train@benchmark-0", "visualize@benchmark-0", "explore"} <= set(cached)
        assert set(ran) <= {"carve", "trace", "analyze", "score", "tally", "report"}  # outputs kept in git
        assert (bare.path / "data/models/dummy/0.keras").read_bytes() == \
            (reproduced.path / "data/models/dummy/0.keras").read_bytes()
        assert (bare.path / "dvc.lock").read_text() == (reproduced.path / "dvc.lock").read_text()

    reproduced.run("gto", "register", "benchmark")  # a version of the artifact: a git tag, benchmark@v0.0.1
    assert "benchmark" in reproduced.run("gto", "show").stdout
    got = tmp_path / "got"
    reproduced.dvc("artifacts", "get", str(reproduced.path), "benchmark", "-o", str(got))
    assert (got / "0.keras").read_bytes() == (reproduced.path / "data/models/benchmark/0.keras").read_bytes()


def error_lines(result):
    return [line for line in result.stderr.splitlines() if line.startswith("ERROR")]


def stored_objects(store):
    return sorted(path.relative_to(store) for path in (store / "files").rglob("*") if path.is_file())


def test_an_ssh_remote_that_is_down_refuses_the_key_or_lacks_an_object_loses_nothing(reproduced, tmp_path):
    """Server down at push: one error line naming the address, the outputs stay in the local cache
    and the next push sends them. A key the server does not know: one line, nothing stored. An
    object gone from the remote: the pull fails naming the output, every other output arrives."""
    folder, stranger = tmp_path / "sshd", tmp_path / "stranger_key"
    with ssh_server(folder) as server:
        reproduced.dvc("remote", "add", "-d", "store", server.url)
        reproduced.commit("a remote")
    reproduced.dvc("remote", "modify", "--local", "store", "keyfile", str(server.keyfile))
    down = reproduced.dvc("push", check=False)
    assert down.returncode != 0 and len(error_lines(down)) == 1, down.stderr
    assert f"Connect call failed ('127.0.0.1', {server.port})" in error_lines(down)[0]
    assert stored_objects(server.store) == []
    assert reproduced.dvc("status").stdout.strip() == "Data and pipelines are up to date."  # the local cache whole

    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    with ssh_server(folder, server.port):
        reproduced.dvc("remote", "modify", "--local", "store", "keyfile", str(stranger))
        refused = reproduced.dvc("push", check=False)
        assert refused.returncode != 0 and len(error_lines(refused)) == 1, refused.stderr
        assert "Permission denied" in error_lines(refused)[0] and stored_objects(server.store) == []

        reproduced.dvc("remote", "modify", "--local", "store", "keyfile", str(server.keyfile))
        sent = reproduced.dvc("push")
        assert re.search(r"\d+ files? pushed", sent.stdout), sent.stdout
        assert stored_objects(server.store)
        lock = yaml.safe_load((reproduced.path / "dvc.lock").read_text())
        probe_md5 = next(out["md5"] for out in lock["stages"]["carve"]["outs"] if out["path"] == "data/probe.npz")
        (server.store / "files" / "md5" / probe_md5[:2] / probe_md5[2:]).unlink()  # gone from the server

        fresh = clone_of(reproduced, tmp_path / "clone", server)
        pulled = fresh.dvc("pull", check=False)
        assert pulled.returncode != 0 and "data/probe.npz" in pulled.stderr, pulled.stderr
        assert not (fresh.path / "data/probe.npz").exists()
        for output in ("data/models/benchmark/0.keras", "data/subsets/dummy.npz", "data/channels/dummy/0/examples.npz"):
            assert (fresh.path / output).read_bytes() == (reproduced.path / output).read_bytes(), output


def clone_of(project, path, server, source=None):
    """A git clone of `project` (or of the repository at `source`) with the SSH remote's key set for
    it (local config, not in git)."""
    project.run("git", "clone", "-q", str(source or project.path), str(path))
    clone = Project.__new__(Project)
    clone.path = path
    clone.run("git", "config", "user.email", "test@example.com")
    clone.run("git", "config", "user.name", "test")
    clone.dvc("remote", "modify", "--local", "store", "keyfile", str(server.keyfile))
    return clone


@pytest.mark.long
def test_a_sweep_split_between_two_workers_trains_each_run_once_and_a_reviewer_gathers_it(reproduced, tmp_path):
    """docs/scaling.md end to end: the baseline's two sizes with a second seed, a bare git `origin`,
    the SSH remote, two worker clones running their shares (lib/workers.py) at once, each training
    only its model's new seed (seed 0's outputs are pulled) and pushing its experiment and the run
    cache, the second first while the server is down (its commit reaches origin, its outputs
    stay in its cache, one error line; a reviewer who pulls it meanwhile cannot apply it, which
    names the outputs; the next push sends them). The reviewer's `exp show` lists each share with its
    headline metrics; `exp apply` and `dvc checkout` restore one's outputs, and as a branch it runs
    nothing; the whole sweep as one experiment trains nothing and reports the spread over seeds."""
    sweep = reproduced.params["models"]
    per_run = ("train", "extract", "replay", "ablate", "visualize", "attribute")  # a stage per model and seed
    reproduced.write_params({**reproduced.params, "train": {**reproduced.params["train"], "seeds": [0, 1]}})
    folder, origin = tmp_path / "sshd", tmp_path / "origin.git"
    split = shares(sweep, 2)
    assert split == [["benchmark"], ["dummy"]]
    with ssh_server(folder) as server:
        reproduced.dvc("remote", "add", "-d", "store", server.url)
        reproduced.commit("a second seed, a remote")
        reproduced.dvc("remote", "modify", "--local", "store", "keyfile", str(server.keyfile))
        reproduced.dvc("push", "--run-cache")  # seed 0's outputs and runs, the archive among them
        reproduced.run("git", "clone", "-q", "--bare", str(reproduced.path), str(origin))
        workers = [clone_of(reproduced, tmp_path / f"worker{k}", server, origin) for k in range(2)]

        def share(k):
            workers[k].dvc("fetch", "--run-cache")
            settings = [arg for name in overrides(sweep, split[k]) for arg in ("-S", name)]
            return workers[k].dvc("exp", "run", "--pull", "-n", f"share-{k}", *settings).stdout

        with ThreadPoolExecutor(2) as pool:
            ran = list(pool.map(share, range(2)))
        for k, model in enumerate(("benchmark", "dummy")):
            assert re.findall(r"Running stage '(\w+@[^']+)'", ran[k]) == [f"{verb}@{model}-1" for verb in per_run]
            assert f"Stage 'train@{model}-0' didn't change, skipping" in ran[k], ran[k]  # pulled, as origin's lock says
        workers[0].dvc("exp", "push", "origin", "share-0")
        workers[0].dvc("push", "--run-cache")

    down = workers[1].dvc("exp", "push", "origin", "share-1", check=False)
    assert down.returncode != 0 and error_lines(down) == [
        f"ERROR: failed to push cache: [Errno 111] Connect call failed ('127.0.0.1', {server.port})"], down.stderr
    assert "/share-1" in reproduced.run("git", "ls-remote", str(origin)).stdout  # the commit went to origin
    with ssh_server(folder, server.port):
        reviewer = clone_of(reproduced, tmp_path / "reviewer", server, origin)
        reviewer.dvc("exp", "pull", "origin", "-A")  # too early: DVC takes share-1's commit without a word
        early = reviewer.dvc("exp", "apply", "share-1", check=False)
        assert early.returncode != 0 and "data/models/dummy/1.keras" in early.stderr, early.stderr
        reviewer.run("git", "reset", "-q", "--hard")

        again = workers[1].dvc("exp", "push", "origin", "share-1")
        assert "up to date on Git remote" in again.stdout and re.search(r"\d+ files? (uploaded|pushed)", again.stdout)
        workers[1].dvc("push", "--run-cache")

        reviewer.dvc("exp", "pull", "origin", "-A", "--run-cache")
        rows = {row["Experiment"]: row for row in exp_rows(reviewer)}
        for k, (model, other) in enumerate((("benchmark", "dummy"), ("dummy", "benchmark"))):
            headline = json.loads((workers[k].path / "metrics/headline.json").read_text())
            assert float(rows[f"share-{k}"][f"acc.{model}"]) == headline["acc"][model]
            assert rows[f"share-{k}"][f"acc.{other}"] == ""  # each share holds its own models only

        reviewer.dvc("exp", "apply", "share-1")  # a look: its params, lock and metrics, its outputs checked out
        reviewer.dvc("checkout")
        for seed in (0, 1):
            output = f"data/models/dummy/{seed}.keras"
            assert (reviewer.path / output).read_bytes() == (workers[1].path / output).read_bytes()
        reviewer.run("git", "reset", "-q", "--hard")
        reviewer.run("git", "clean", "-q", "-d", "--force")  # the .gitignore files apply added
        reviewer.dvc("exp", "branch", "share-1", "share-1")  # to go on from it: a branch, checked out whole
        reviewer.run("git", "checkout", "-q", "share-1")
        reviewer.dvc("checkout")
        assert not (reviewer.path / "plots/analysis/cka.csv").exists()  # one model: no CKA between models
        assert "Running stage" not in reviewer.dvc("repro").stdout
        reviewer.run("git", "checkout", "-q", "-")

        gathered = reviewer.dvc("exp", "run", "--pull", "-n", "sweep").stdout
        restored = re.findall(r"Stage '(\w+@[^']+)' is cached - skipping run", gathered)  # the workers' runs
        assert sorted(restored) == sorted(f"{verb}@{model}-1" for model in ("benchmark", "dummy")
                                          for verb in per_run), gathered
        assert re.findall(r"Running stage '([^']+)'", gathered) == ["trace", "analyze", "score", "tally", "report",
                                                                    "explore"]  # what compares the models
    rows = {row["Experiment"]: row for row in exp_rows(reviewer)}
    for k, model in enumerate(("benchmark", "dummy")):
        assert rows["sweep"][f"acc.{model}"] == rows[f"share-{k}"][f"acc.{model}"]
    probe = json.loads((reviewer.path / "metrics/probe.json").read_text())
    assert probe["models"]["dummy"]["layers"]["dense_1"]["entropy_bits_seed_sd"] > 0
    assert probe["seeds"] == 2 and "Provisional" not in (reviewer.path / "plots/report.md").read_text()
    early = json.loads((reviewer.path / "metrics/dynamics.json").read_text())["early_checkpoint"]["dummy"]
    assert set(early["epochs"]) == {"0", "1"}  # a matched checkpoint per seed
    assert early["measures"]["dense_1.mean"]["minus_checkpoint_low"] < early["measures"]["dense_1.mean"][
        "minus_checkpoint_high"]


def test_with_one_model_left_the_report_says_what_the_claims_need(reproduced):
    reproduced.params["models"] = {"dummy": reproduced.params["models"]["dummy"]}
    reproduced.write_params(reproduced.params)
    ran = re.findall(r"Running stage '([^']+)'", reproduced.dvc("repro").stdout)
    assert not [name for name in ran if name.startswith(("train", "extract", "replay"))], ran
    report = (reproduced.path / "plots/report.md").read_text()
    assert "add a second one to judge them" in report and "**HELD**" not in report
    assert "| dummy | reference | 50 | 1 |" in report
    subjects = json.loads((reproduced.path / "metrics/subjects.json").read_text())
    assert subjects["frog"]["pairs"] == {}
    assert list(json.loads((reproduced.path / "metrics/probe.json").read_text())["models"]) == ["dummy"]


def test_checkpoints_replayed_match_the_analysis_and_dynamics_epochs_rerun_only_the_replays(reproduced):
    import keras

    from lib.checkpoints import Checkpoints, weights_by_path

    metrics = json.loads((reproduced.path / "metrics/train/dummy/0.json").read_text())
    with Checkpoints(reproduced.path / "data/checkpoints/dummy/0.npz") as checkpoints:
        assert checkpoints.epochs == [0, 1, 2]
        best = checkpoints.weights(metrics["best_epoch"])
        initial = checkpoints.weights(0)
    kept = weights_by_path(keras.models.load_model(reproduced.path / "data/models/dummy/0.keras", compile=False))
    assert set(kept) == set(best) and all(np.array_equal(kept[path], best[path]) for path in kept)
    assert not all(np.array_equal(kept[path], initial[path]) for path in kept)

    probe = json.loads((reproduced.path / "metrics/probe.json").read_text())
    subjects = json.loads((reproduced.path / "metrics/subjects.json").read_text())
    for model in ("dummy", "benchmark"):
        card = json.loads((reproduced.path / f"data/dynamics/{model}/0/epochs.json").read_text())
        assert [row["epoch"] for row in card["epochs"]] == [0, 1, 2]  # 4, 8, ... never reached
        at_best = next(row for row in card["epochs"] if row["epoch"] == card["best_epoch"])
        assert at_best["layers"]["dense_1"]["cka_to_best"] == 1.0
        for layer, summary in probe["models"][model]["layers"].items():
            assert {k: at_best["layers"][layer][k] for k in values(summary)} == values(summary), layer
        assert values(at_best["output"]) == values(probe["models"][model]["output"])
        frog = subjects["frog"]["models"][model]
        assert at_best["subjects"]["frog"]["layers"]["dense_1"] == values(frog["layers"]["dense_1"])
    early = json.loads((reproduced.path / "metrics/dynamics.json").read_text())["early_checkpoint"]
    assert list(early) == ["dummy"] and early["dummy"]["epochs"]["0"] in (1, 2)
    assert early["dummy"]["verdict"] in ("resembles", "differs", "mixed")
    report = (reproduced.path / "plots/report.md").read_text()
    assert "## Early checkpoint as dummy" in report and "### dummy beside benchmark's early checkpoint" in report
    assert "(dynamics/dynamics.png)" in report and (reproduced.path / "plots/dynamics/dynamics.png").is_file()
    rendered = json.loads(reproduced.dvc("plots", "show", "--json").stdout)
    assert not rendered.get("errors"), rendered.get("errors")
    assert sum(name.startswith("Over training") for name in rendered["data"]) == 3

    reproduced.params["dynamics"]["epochs"] = [0, "best"]
    reproduced.write_params(reproduced.params)
    ran = re.findall(r"Running stage '([^']+)'", reproduced.dvc("repro").stdout)
    assert sorted(ran) == ["explore", "replay@benchmark-0", "replay@dummy-0", "report", "trace"]
    card = json.loads((reproduced.path / "data/dynamics/dummy/0/epochs.json").read_text())
    assert [row["epoch"] for row in card["epochs"]] == sorted({0, card["best_epoch"]})


def save_foreign_model(path):
    """A network trained elsewhere (here: built and saved, untrained), with layer names of its own and
    a residual block (the stem's pooled output skips around the body)."""
    import keras

    inputs = keras.Input((32, 32, 1))
    x = keras.layers.Conv2D(8, 3, activation="relu", name="stem")(inputs)
    x = keras.layers.MaxPooling2D(2, name="shrink")(x)
    body = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="body")(x)
    x = keras.layers.Add(name="res_a")([x, body])
    x = keras.layers.GlobalAveragePooling2D(name="pooled")(x)
    keras.Model(inputs, keras.layers.Dense(10, activation="softmax", name="probs")(x)).save(path)


@pytest.mark.long
def test_subjects_are_params_and_rerun_everything_but_training(reproduced):
    from PIL import Image

    before = json.loads((reproduced.path / "metrics/subjects.json").read_text())

    photo = np.random.default_rng(5).integers(0, 256, (90, 120, 3), dtype=np.uint8)
    Image.fromarray(photo).save(reproduced.path / "images/photo.jpg", quality=90)
    reproduced.params["subjects"].update(photo={"file": "images/photo.jpg", "label": "cat"},
                                       car={"split": "test", "index": 7})
    reproduced.write_params(reproduced.params)
    with_subjects = reproduced.dvc("repro")
    ran = re.findall(r"Running stage '([^']+)'", with_subjects.stdout)
    assert not [name for name in ran if name.startswith("train")], ran
    assert sorted(ran) == ["analyze", "attribute@benchmark-0", "attribute@dummy-0", "carve", "explore",
                           "extract@benchmark-0", "extract@dummy-0", "replay@benchmark-0", "replay@dummy-0", "report",
                           "tally", "trace"]
    attributions = json.loads((reproduced.path / "data/attributions/dummy/0/attributions.json").read_text())
    assert list(attributions["subjects"]) == ["frog", "photo", "car"]
    subjects = json.loads((reproduced.path / "metrics/subjects.json").read_text())
    assert list(subjects) == ["frog", "photo", "car"] and subjects["frog"] == before["frog"]
    assert subjects["photo"]["label"] == "cat" and subjects["car"]["label"] in CLASSES
    assert 0 <= subjects["photo"]["models"]["dummy"]["output"]["p_label"] <= 1
    report = (reproduced.path / "plots/report.md").read_text()
    assert "4. On the photo" in report and "4. On the car" in report
    assert all((reproduced.path / f"plots/analysis/subjects/{name}/{figure}").is_file()
               for name in ("photo", "car") for figure in SUBJECT_FIGURES)


@pytest.mark.long
def test_an_imported_model_is_a_param_and_retrains_nothing_else(reproduced):
    trained = {name: (reproduced.path / f"data/models/{name}/0.keras").read_bytes() for name in ("dummy", "benchmark")}
    probe_before = json.loads((reproduced.path / "metrics/probe.json").read_text())
    save_foreign_model(reproduced.path / "imported/theirs.keras")
    reproduced.params["models"].update(input={"keras": "imported/theirs.keras"})
    reproduced.write_params(reproduced.params)
    more_models = reproduced.dvc("repro")
    ran = re.findall(r"Running stage '([^']+)'", more_models.stdout)
    assert [name for name in ran if name.startswith("train")] == ["train@input-0"]
    assert {name: (reproduced.path / f"data/models/{name}/0.keras").read_bytes() for name in trained} == trained
    assert (reproduced.path / "data/models/input/0.keras").read_bytes() == (reproduced.path / "imported/theirs.keras").read_bytes()
    imported = json.loads((reproduced.path / "metrics/train/input/0.json").read_text())
    assert imported["train_size"] is None and 0 <= imported["test_accuracy"] <= 1
    probe = json.loads((reproduced.path / "metrics/probe.json").read_text())
    assert list(probe["models"]) == ["dummy", "benchmark", "input"]
    assert {m: probe["models"][m] for m in trained} == {m: probe_before["models"][m] for m in trained}
    assert probe["pairs"]["dummy_vs_benchmark"] == probe_before["pairs"]["dummy_vs_benchmark"]
    diff = json.loads(reproduced.dvc("metrics", "diff", "--json", "--targets", "metrics/headline.json",
                                   "metrics/probe.json", "metrics/subjects.json").stdout)
    moved = [key for keys in diff.values() for key in keys]
    assert moved and not [key for key in moved if key.startswith(("models.dummy.", "models.benchmark."))
                          or ".models.dummy." in key or ".models.benchmark." in key
                          or key.endswith((".dummy", ".benchmark")) or "dummy_vs_benchmark" in key], moved
    assert "acc.input" in diff["metrics/headline.json"]
    assert probe["models"]["input"]["roles"] == {"first_conv": "stem", "last_hidden": "pooled", "output": "probs"}
    assert set(probe["pairs"]["benchmark_vs_input"]["cka"]) >= {"first_conv", "last_hidden", "output"}
    assert probe["input"]["entropy_bits"] > 0  # the images' own entry, beside a model named "input"
    report = (reproduced.path / "plots/report.md").read_text()
    assert "| input | imported `imported/theirs.keras` | — |" in report
    sweep = (reproduced.path / "plots/analysis/by_size.csv").read_text()
    assert "benchmark" in sweep and "input" not in sweep
    assert json.loads((reproduced.path / "data/dynamics/input/0/epochs.json").read_text())["epochs"] == []
    early = json.loads((reproduced.path / "metrics/dynamics.json").read_text())["early_checkpoint"]
    assert list(early) == ["dummy"]  # an imported model has no checkpoints to compare
    assert "input" not in (reproduced.path / "plots/dynamics/plane.csv").read_text()
    card = json.loads((reproduced.path / "data/channels/input/0/channels.json").read_text())
    assert card["layers"]["stem"]["receptive_field"] == {"size": [3.0, 3.0], "jump": [1.0, 1.0], "start": [1.0, 1.0]}
    assert card["layers"]["pooled"]["receptive_field"] is None and card["layers"]["probs"]["channels"] == 10
    attributed = json.loads((reproduced.path / "data/attributions/input/0/attributions.json").read_text())
    assert attributed["untrained"] == "re-initialised" and attributed["grad_cam_layer"] == "body"
    for facts in attributed["subjects"]["frog"]["methods"].values():  # its layers re-drawn from their initialisers
        assert [step["layer"] for step in facts["cascade"]][-1] == "stem" and set(facts["baseline"]) == {"signed", "absolute"}
    ablation = json.loads((reproduced.path / "data/ablation/input/0/ablation.json").read_text())
    assert ablation["layers"]["body"]["path"] == "graph"  # the residual block's body: zeroed inside the network
    assert ablation["layers"]["stem"]["path"] == "stored" and ablation["skipped"] == {}
    assert ablation["roles"]["last_conv"] == "body"
    reliance = json.loads((reproduced.path / "metrics/reliance.json").read_text())
    assert set(reliance["models"]["input"]["layers"]) == {"stem", "body", "pooled"}
    assert card["layers"]["body"]["below"] == "stem" and card["layers"]["pooled"]["below"] == "body"
    assert "R3." in report and (reproduced.path / "plots/explorer/index.html").is_file()
    assert reproduced.dvc("status").stdout.strip() == "Data and pipelines are up to date."
