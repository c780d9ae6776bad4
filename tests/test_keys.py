import pytest

from lib.keys import (OUTPUT, find_pair, interval, measured_key, numbers, pair_key, pair_models, role_key, role_section,
                      spread, values, with_interval)
from lib.params import ParamError, validate
from test_params import changed


def test_a_pair_is_named_split_and_found_in_either_order():
    assert pair_key("dummy", "benchmark") == "dummy_vs_benchmark"
    assert pair_models(pair_key("s-1", "big_model")) == ("s-1", "big_model")
    pairs = {pair_key("a", "b"): "a − b"}
    assert find_pair(pairs, "a", "b") == ("a − b", False) and find_pair(pairs, "b", "a") == ("a − b", True)
    with pytest.raises(KeyError):
        find_pair(pairs, "a", "c")


def test_a_model_name_cannot_hold_the_pair_separator():
    with pytest.raises(ParamError, match="may not contain '_vs_'"):
        validate(changed("models.a_vs_b", {"train_size": 100}))


def test_a_number_with_its_interval_and_spread_round_trips():
    section = {**with_interval("zero_fraction", (0.5, 0.4, 0.6)), spread("zero_fraction"): 0.01, "mean": 2.0}
    assert section == {"zero_fraction": 0.5, "zero_fraction_low": 0.4, "zero_fraction_high": 0.6,
                       "zero_fraction_seed_sd": 0.01, "mean": 2.0}
    assert interval(section, "zero_fraction") == (0.5, 0.4, 0.6)
    assert numbers(section) == {"zero_fraction": 0.5, "zero_fraction_low": 0.4, "zero_fraction_high": 0.6, "mean": 2.0}
    assert values(section) == {"zero_fraction": 0.5, "mean": 2.0}


def test_a_role_is_keyed_by_its_layer_where_both_networks_name_it_alike():
    assert role_key("first_conv", "conv2d_1", "conv2d_1") == "conv2d_1"
    assert role_key("first_conv", "conv2d_1", "stem") == "first_conv"
    assert measured_key(OUTPUT, "dense_2", "probs") == OUTPUT and measured_key("last_hidden", "d", "d") == "d"
    summary = {"roles": {"last_hidden": "dense_1", OUTPUT: "dense_2"}, "layers": {"dense_1": {"mean": 1.0}},
               OUTPUT: {"accuracy": 0.5}}
    assert role_section(summary, "last_hidden") == {"mean": 1.0} and role_section(summary, OUTPUT) == {"accuracy": 0.5}
