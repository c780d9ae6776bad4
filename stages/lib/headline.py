"""metrics/headline.json: the few numbers DVC treats as the metrics, short enough for `dvc exp show`.

Per model: test accuracy and the claims' measures of the probe set (lib.dynamics.COMPARED: the last
hidden layer's zero fraction, mean and entropy, the softmax entropy), each the mean over seeds; and
how many of the report's claims hold. Keys are measure first (`acc.dummy`, `acc.benchmark`), so a
table puts the models side by side, and short, so a 200-column terminal holds them. Intervals,
seed spreads and every other layer and measure stay in metrics/probe.json and the other files.
"""

import numpy as np

from lib.stats import round_floats
from lib.claims import HELD
from lib.dynamics import COMPARED
from lib.keys import OUTPUT, role_section

SHORT = {("last_hidden", "zero_fraction"): "zero", ("last_hidden", "mean"): "mean",
         ("last_hidden", "entropy_bits"): "H", (OUTPUT, "softmax_entropy_bits"): "H_out"}

SHOW_DROP = "Created|State|Executor|.*/"  # `dvc exp show --drop`: the dependencies' hashes and the bookkeeping
SHOW_KEEP = "(" + "|".join(["acc", *SHORT.values()]) + ")\\.|held|claims"  # `dvc exp show --keep`: every headline column


def headline(models, train_metrics, probe, verdicts):
    """{short measure: {model: value}} for every model, then the count of claims held and judged."""
    numbers = {"acc": {model: float(np.mean([m["test_accuracy"] for m in train_metrics[model]])) for model in models}}
    for role, measure in COMPARED:
        numbers[SHORT[role, measure]] = {model: role_section(probe["models"][model], role)[measure]
                                        for model in models}
    numbers["held"] = sum(v.verdict == HELD for v in verdicts)
    numbers["claims"] = len(verdicts)
    return round_floats(numbers)
