"""One run's dataset examples, in TensorFlow: the official test split through the trained network
and the untrained one, every layer with channels ranked, and each channel's inputs from the layer
below at its top images (lib.channels holds the measures, lib.circuits the inputs; this module runs
the networks)."""

import time
from typing import NamedTuple

import numpy as np

from lib.activations import layer_reader
from lib.channels import layer_examples, split_peaks
from lib.fields import field_card, receptive_field
from lib.files import members_of
from lib.circuits import circuits
from lib.features import feature_files, visualize
from lib.model import channel_layers


def run_examples(model, untrained, layers, inputs, labels, indices, settings):
    """One run's examples of `layers` over the official test split (`inputs` as the model sees them,
    `labels`, `indices`) with the `channels` params: ({"<layer>/<what>": layer_examples' arrays,
    `peak_initial`, the `untrained` network's peaks, and lib.circuits' inputs}, {layer: its card:
    channels, receptive field, constant channels, the layer below})."""
    found, baseline = (split_peaks(layer_reader(network, layers), inputs) for network in (model, untrained))
    arrays, card = {}, {}
    for layer in layers:
        field = receptive_field(model, layer)
        shape = tuple(model.get_layer(layer).output.shape[1:])
        entry = layer_examples(*found[layer], shape, field, labels, indices, settings["top"], settings["tally"])
        entry["peak_initial"] = baseline[layer][0].astype(np.float32)
        arrays.update(members_of(layer, entry))
        card[layer] = {"channels": shape[-1], "receptive_field": field_card(field),
                       "constant": np.flatnonzero(entry["constant"]).tolist()}
    built, below = circuits(model, layers, arrays, inputs, {int(index): row for row, index in enumerate(indices)})
    for layer, facts in below.items():
        card[layer].update(facts)
    return {**arrays, **built}, card


class ChannelRun(NamedTuple):
    """One run's channel views: the examples file's and the features file's arrays, the card, the
    layers with channels and the CPU seconds the optimised inputs took."""

    examples: dict
    features: dict
    card: dict
    layers: list
    cpu: float


def channel_run(model, initial, untrained, split, params, facts):
    """What each channel of one run responds to: its top images of the official test `split` (inputs
    as the model sees them, labels, official indices), its inputs from the layer below, the untrained
    network's (`initial`, `untrained` saying what it is) peaks, and an optimised input per channel
    (and per class of the output layer). `facts` ({"model", "seed"}) head the card."""
    inputs, labels, indices = split
    settings, roles = params["channels"], facts["roles"]
    layers = channel_layers(model, roles)
    arrays, found = run_examples(model, initial, layers, inputs, labels, indices, settings)
    card = {"model": facts["model"], "seed": facts["seed"], "split": "test", "images": len(inputs),
            "top": settings["top"], "tally": settings["tally"], "roles": roles, "untrained": untrained, "layers": found}
    cpu = time.process_time()
    drawn = visualize(model, [*layers, roles["output"]], params["features"])
    cpu = time.process_time() - cpu
    return ChannelRun(arrays, feature_files(drawn, card["layers"]), card, layers, cpu)


def summary_line(run, out):
    """What the visualize stage says of one run."""
    card, layers = run.card, run.layers
    dead = sum(len(entry["constant"]) for entry in card["layers"].values() if "constant" in entry)
    channels = sum(entry["channels"] for name, entry in card["layers"].items() if name in layers)
    classes = card["layers"][card["roles"]["output"]]["channels"]
    return (f"visualize: {card['model']} seed {card['seed']}: {len(layers)} layers, {channels} channels ({dead} "
            f"constant on the {card['images']} test images); optimised inputs for those and the {classes} classes "
            f"({run.cpu:.1f} s of CPU) -> {out}")

