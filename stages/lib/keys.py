"""How the metrics name things, in one place: a pair of models, a number's interval and seed spread,
the output beside the layers, and a role's key where two networks are compared.

Nothing outside this module builds or parses these names.
"""

PAIR = "_vs_"  # joins two model names into a pair's name (model names may not contain it)
LOW, HIGH, SEED_SD = "_low", "_high", "_seed_sd"  # a number's 95 % interval and its spread across seeds
OUTPUT = "output"  # the softmax's measures, beside the layers' (and the role of the output layer)
FOR_PAGE = {"pair": PAIR, "low": LOW, "high": HIGH, "seed_sd": SEED_SD, "output": OUTPUT}  # the explorer's copy


def pair_key(a, b):
    """The name of the pair (a, b): "a_vs_b"."""
    return f"{a}{PAIR}{b}"


def pair_models(key):
    """(a, b) of a pair's name."""
    a, b = key.split(PAIR)
    return a, b


def find_pair(pairs, a, b):
    """(the entry of `pairs` for models a and b, in either order; whether it is stored as b − a)."""
    flipped = pair_key(a, b) not in pairs
    return pairs[pair_key(b, a) if flipped else pair_key(a, b)], flipped


def interval_keys(name):
    """(name, name_low, name_high): the keys of a number with its interval."""
    return name, f"{name}{LOW}", f"{name}{HIGH}"


def with_interval(name, values):
    """{name, name_low, name_high} of (mean, low, high)."""
    return dict(zip(interval_keys(name), values))


def interval(section, name):
    """(mean, low, high) of a number with its interval."""
    return tuple(section[key] for key in interval_keys(name))


def spread(name):
    """The key of a number's standard deviation across seeds."""
    return f"{name}{SEED_SD}"


def numbers(section):
    """A section without its seed spreads."""
    return {key: value for key, value in section.items() if not key.endswith(SEED_SD)}


def values(section):
    """A section without its intervals and seed spreads: the numbers themselves."""
    return {key: value for key, value in section.items() if not key.endswith((LOW, HIGH, SEED_SD))}


def role_key(role, layer_a, layer_b):
    """The key under which two networks' layers playing `role` are compared: the layer's name where
    both name it alike, else the role."""
    return layer_a if layer_a == layer_b else role


def measured_key(role, layer_a, layer_b):
    """Where a comparison of `role` finds its numbers: OUTPUT for the output (its own measures),
    else role_key."""
    return OUTPUT if role == OUTPUT else role_key(role, layer_a, layer_b)


def role_layer(summary, role):
    """The layer playing `role` in a model's summary ({"roles", ...})."""
    return summary["roles"][role]


def role_section(summary, role):
    """A model's summary ({"roles", "layers", OUTPUT}) of the layer playing `role`, or its output's."""
    return summary[OUTPUT] if role == OUTPUT else summary["layers"][role_layer(summary, role)]
