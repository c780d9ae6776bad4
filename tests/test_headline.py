from lib.claims import HELD, INCONCLUSIVE, NOT_HELD, Verdict
from lib.dynamics import COMPARED
from lib.headline import SHORT, headline


def summary(zero, mean, bits, softmax):
    return {"roles": {"first_conv": "c1", "last_hidden": "d1", "output": "d2"},
            "layers": {"c1": {"zero_fraction": 0.0, "mean": 9.0, "entropy_bits": 9.0},
                       "d1": {"zero_fraction": zero, "mean": mean, "entropy_bits": bits,
                              "zero_fraction_low": 0.0, "zero_fraction_high": 1.0}},
            "output": {"softmax_entropy_bits": softmax, "accuracy": 0.5}}


def test_headline_holds_each_models_accuracy_over_seeds_and_the_claims_measures_and_counts():
    models = {"dummy": {"train_size": 10}, "benchmark": {"train_size": 20}}
    train = {"dummy": [{"test_accuracy": 0.5}, {"test_accuracy": 0.6}], "benchmark": [{"test_accuracy": 0.7}]}
    probe = {"models": {"dummy": summary(0.7, 0.07, 2.3, 1.35), "benchmark": summary(0.8, 0.03, 1.5, 1.1)}}
    verdicts = [Verdict("a", HELD, []), Verdict("b", NOT_HELD, []), Verdict("c", HELD, []),
                Verdict("d", INCONCLUSIVE, [])]
    numbers = headline(models, train, probe, verdicts)
    assert numbers == {"acc": {"dummy": 0.55, "benchmark": 0.7}, "zero": {"dummy": 0.7, "benchmark": 0.8},
                       "mean": {"dummy": 0.07, "benchmark": 0.03}, "H": {"dummy": 2.3, "benchmark": 1.5},
                       "H_out": {"dummy": 1.35, "benchmark": 1.1}, "held": 2, "claims": 4}
    assert list(numbers["acc"]) == ["dummy", "benchmark"]


def test_one_model_gives_no_claims_and_every_compared_measure_has_a_short_name():
    numbers = headline({"m": {}}, {"m": [{"test_accuracy": 0.25}]}, {"models": {"m": summary(0, 0, 0, 0)}}, [])
    assert numbers["held"] == 0 and numbers["claims"] == 0 and numbers["acc"] == {"m": 0.25}
    assert set(SHORT) == set(COMPARED)
    assert len(set(SHORT.values())) == len(SHORT)
