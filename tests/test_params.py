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
    ("frog.index", True, "whole number >= 0"),
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
    ("frog", [0], "must be a mapping"),
    ("train.learning_rate", 0, "positive number"),
    ("train.learning_rate", float("inf"), "positive number"),
    ("train.learning_rate", "1e-3", "positive number"),
    ("train.batch_size", 0, "whole number >= 1"),
    ("train.max_epochs", 2.0, "whole number >= 1"),
    ("train.patience", 0, "whole number >= 1"),
    ("train.precision", "float16", "must be one of float32, bfloat16"),
    ("analysis.bins", 1, "whole number >= 2"),
    ("analysis.resamples", 10, "whole number >= 100"),
    ("train.seeds", [], "non-empty list of distinct whole numbers"),
    ("train.seeds", [0, 0], "non-empty list of distinct whole numbers"),
    ("train.seeds", [0, -1], "non-empty list of distinct whole numbers"),
    ("train.seeds", 0, "non-empty list of distinct whole numbers"),
    ("train.seeds", [True], "non-empty list of distinct whole numbers"),
])
def test_an_invalid_param_names_key_value_and_what_is_allowed(key, value, allowed):
    with pytest.raises(ParamError) as error:
        validate(changed(key, value))
    message = str(error.value)
    assert error.value.key == key
    assert message.startswith(f"params.yaml: {key} = ")
    assert allowed in message
    assert "\n" not in message


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
