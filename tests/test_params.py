import copy

import pytest

from conftest import ROOT, default_params
from lib.params import ParamError, load, validate
from lib.stage import StageError


def test_the_shipped_params_are_valid():
    params = load(ROOT / "params.yaml")
    assert params["models"]["benchmark"]["train_size"] == 49_999
    assert params["data"]["md5"] == "c32a1d4ab5d03f1284b67883e8d87530"


def changed(path, value):
    params = copy.deepcopy(default_params())
    *parents, last = path.split(".")
    node = params
    for key in parents:
        node = node[key]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return params


DELETE = object()


@pytest.mark.parametrize("key, value, allowed", [
    ("split.seed", -1, "whole number >= 0"),
    ("split.seed", 1.5, "whole number >= 0"),
    ("split.seed", "0", "whole number >= 0"),
    ("split.val_size", 0, "whole number >= 1"),
    ("subjects.frog.index", True, "whole number >= 0"),
    ("subjects.frog.split", "val", "must be one of train, test"),
    ("subjects.frog.label", "toad", "must be a CIFAR-10 class: airplane"),
    ("subjects.frog.file", "images/x.png", "unknown key; allowed here: split, index, label"),
    ("subjects.frog", {"label": "frog"}, "needs split or file"),
    ("subjects.frog", "train 0", "must be a mapping with split or file"),
    ("subjects.photo", {"file": "photo.png"}, "must be a .png/.jpg/.jpeg file under images/"),
    ("subjects.photo", {"file": "images/../params.yaml"}, "must be a .png/.jpg/.jpeg file under images/"),
    ("subjects.photo", {"file": "/etc/images/x.png"}, "must be a .png/.jpg/.jpeg file under images/"),
    ("subjects.photo", {"file": "images/x.gif"}, "must be a .png/.jpg/.jpeg file under images/"),
    ("subjects.photo", {"file": "images/x.png", "label": "dragon"}, "must be a CIFAR-10 class"),
    ("subjects.bad name", {"split": "test", "index": 1}, "subject names must start with a letter"),
    ("models.dummy.architecture", "resnet", "must be one of the architectures in lib/model.py: reference, no_dropout"),
    ("models.theirs", {"keras": "theirs.keras"}, "must be a .keras file under imported/"),
    ("models.theirs", {"keras": "imported/theirs.h5"}, "must be a .keras file under imported/"),
    ("models.theirs", {"keras": "imported/t.keras", "roles": {"last": "x"}}, "unknown role; roles: first_conv"),
    ("models.theirs", {"keras": "imported/t.keras", "roles": {"output": 3}}, "must be a layer name"),
    ("models.theirs", {"keras": "imported/t.keras", "train_size": 10}, "unknown key; allowed here: train_size"),
    ("models.a_vs_b", {"train_size": 100}, "may not contain '_vs_'"),
    ("models.dummy.train_size", 5, "whole number >= 10"),
    ("models.dummy.train_size", None, "whole number >= 10"),
    ("analysis.probe_size", -3, "whole number >= 10"),
    ("data.grayscale", "yes", "true or false"),
    ("data.md5", "C32A1D4AB5D03F1284B67883E8D87530", "32 lowercase hex"),
    ("data.md5", "abc", "32 lowercase hex"),
    ("data.url", "ftp://example.org/a.tar.gz", "http(s)://"),
    ("data.url", "", "http(s)://"),
    ("split.sede", 3, "unknown key; allowed here: seed, val_size"),
    ("models.dummy.trainsize", 100, "unknown key; allowed here: train_size"),
    ("split.val_size", DELETE, "missing"),
    ("models.bad/name", {"train_size": 100}, "model names must start with a letter"),
    ("subjects", {}, "must map at least one subject name"),
    ("subjects.Frog", {"split": "train", "index": 1}, "differs from subjects.frog only in case: the two would write "
                                                      "one folder on macOS and Windows"),
    ("models.Dummy", {"train_size": 100}, "differs from models.dummy only in case or in _ against -"),
    ("train.learning_rate", 0, "positive number"),
    ("train.learning_rate", float("inf"), "positive number"),
    ("train.learning_rate", "1e-3", "positive number"),
    ("train.batch_size", 0, "whole number >= 1"),
    ("train.max_epochs", 2.0, "whole number >= 1"),
    ("train.patience", 0, "whole number >= 1"),
    ("train.precision", "float16", "must be one of auto, float32, bfloat16"),
    ("train.threads", -1, "whole number >= 0"),
    ("train.threads", True, "whole number >= 0"),
    ("analysis.bins", 1, "whole number >= 2"),
    ("analysis.resamples", 10, "whole number >= 100"),
    ("train.seeds", [], "non-empty list of distinct whole numbers"),
    ("train.seeds", [0, 0], "non-empty list of distinct whole numbers"),
    ("train.seeds", [0, -1], "non-empty list of distinct whole numbers"),
    ("train.seeds", 0, "non-empty list of distinct whole numbers"),
    ("train.seeds", [True], "non-empty list of distinct whole numbers"),
    ("dynamics.epochs", [], "non-empty list of distinct epochs"),
    ("dynamics.epochs", [1, 1], "non-empty list of distinct epochs"),
    ("dynamics.epochs", [0, -1], "non-empty list of distinct epochs"),
    ("dynamics.epochs", ["first"], "or 'best' or 'last'"),
    ("dynamics.epochs", [True], "non-empty list of distinct epochs"),
    ("dynamics.epochs", "best", "non-empty list of distinct epochs"),
    ("dynamics.epocs", [1], "unknown key; allowed here: epochs"),
    ("ablation.orders", 0, "whole number >= 1"),
    ("ablation.orders", 2.5, "whole number >= 1"),
    ("ablation.seed", -1, "whole number >= 0"),
    ("ablation", DELETE, "missing"),
    ("channels.top", 0, "whole number >= 1"),
    ("channels.top", 101, "must be at most channels.tally (100)"),
    ("channels.tally", "all", "whole number >= 1"),
    ("channels", DELETE, "missing"),
    ("features.objective", "max", "must be one of"),
    ("features.steps", 0, "whole number >= 1"),
    ("features.learning_rate", 0, "positive"),
    ("features.decay", 1, "from 0 up to 1"),
    ("features.decay", -0.1, "from 0 up to 1"),
    ("features.jitter", 9, "whole number from 0 to 8"),
    ("features.jitter", -1, "whole number from 0 to 8"),
    ("features.seed", 1.5, "whole number >= 0"),
    ("attribution.steps", 1, "whole number >= 2"),
    ("attribution.steps", 20000, "must be at most attribution.max_steps (16384)"),
    ("attribution.tolerance", 0, "positive"),
    ("attribution.max_steps", "many", "whole number >= 2"),
    ("attribution", DELETE, "missing"),
    ("explore.probe_images", -1, "whole number >= 0"),
    ("explore.probe_images", 1001, "must be at most analysis.probe_size (1000)"),
    ("explore", DELETE, "missing"),
])
def test_an_invalid_param_names_key_value_and_what_is_allowed(key, value, allowed):
    with pytest.raises(ParamError) as error:
        validate(changed(key, value))
    message = str(error.value)
    assert error.value.key == key or error.value.key.startswith(f"{key}.")  # the key itself, or one inside it
    assert message.startswith(f"params.yaml: {error.value.key} = ")
    assert allowed in message
    assert "\n" not in message


def test_model_names_with_one_dvc_artifact_name_are_refused_naming_both():
    params = changed("models.dum_my", {"train_size": 100})
    params["models"]["DUM-MY"] = {"train_size": 200}
    with pytest.raises(ParamError, match="models.DUM-MY = .*: differs from models.dum_my only in case or in _ "
                                         "against -: the two would share one DVC artifact name"):
        validate(params)


def test_optional_keys_take_their_defaults_and_both_model_forms_validate():
    params = changed("models", {"mine": {"train_size": 100}, "abl": {"train_size": 100, "architecture": "no_dropout"},
                                "theirs": {"keras": "imported/theirs.keras"}})
    params["subjects"]["photo"] = {"file": "images/cat.JPG"}
    checked = validate(params)
    assert checked["models"]["mine"] == {"train_size": 100, "architecture": "reference"}
    assert checked["models"]["abl"]["architecture"] == "no_dropout"
    assert checked["models"]["theirs"] == {"keras": "imported/theirs.keras", "roles": {}}
    assert checked["subjects"]["photo"] == {"file": "images/cat.JPG", "label": None}
    assert checked["subjects"]["frog"] == {"split": "train", "index": 0, "label": "frog"}
    del params["train"]["threads"]
    assert validate(params)["train"]["threads"] == 0


def test_a_subject_name_given_twice_is_refused(tmp_path):
    text = (ROOT / "params.yaml").read_text().replace("subjects:", "subjects:\n  frog: {split: test, index: 3}", 1)
    (tmp_path / "params.yaml").write_text(text)
    with pytest.raises(StageError, match=r"line \d+: key 'frog' given twice"):
        load(tmp_path / "params.yaml")


def test_unknown_top_level_section():
    params = default_params() | {"trian": {"epochs": 3}}
    with pytest.raises(ParamError, match="trian.*unknown key"):
        validate(params)


def test_no_models():
    with pytest.raises(ParamError, match="models = {}: must map at least one model"):
        validate(changed("models", {}))


def test_a_model_name_given_twice_is_refused(tmp_path):
    text = (ROOT / "params.yaml").read_text().replace("  benchmark:", "  dummy:")
    (tmp_path / "params.yaml").write_text(text)
    with pytest.raises(StageError, match=r"line \d+: key 'dummy' given twice"):
        load(tmp_path / "params.yaml")


def test_unparsable_yaml_and_missing_file(tmp_path):
    (tmp_path / "params.yaml").write_text("data: [unclosed\n")
    with pytest.raises(StageError, match="not valid YAML"):
        load(tmp_path / "params.yaml")
    with pytest.raises(StageError, match="cannot read"):
        load(tmp_path / "absent.yaml")


def test_yaml_tags_that_build_objects_are_refused(tmp_path):
    (tmp_path / "params.yaml").write_text("data: !!python/object/apply:os.system ['touch pwned']\n")
    with pytest.raises(StageError, match="not valid YAML"):
        load(tmp_path / "params.yaml")
    assert not (tmp_path / "pwned").exists()


def test_a_long_value_is_shortened_in_the_message():
    with pytest.raises(ParamError) as error:
        validate(changed("data.url", 12345678901234567890 * 10**60))
    assert len(str(error.value)) < 200
