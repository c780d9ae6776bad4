"""The feature explorer's contents: which images it shows, every layer's maps of them stored in one
byte per value on one scale per layer, each image's measures as the analysis takes them, and the
page that holds them.

The page, plots/explorer/, opens from the file system with no server and no network: index.html
(the app, its styles and every number but the maps, inline), images/<i>.js (one image's maps for
every model, deflated and base64-coded, with its measures, loaded when the image is first shown:
a browser refuses fetch() on a file:// page but runs a script beside it) and vendor/ (Vega, for
the charts). The page's code lives in stages/web/explorer/.
"""

import base64
import json
import math
import re
import shutil
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from lib.analysis import copies, layer_measures, runs_of
from lib.channels import constant, specificity as share
from lib.cifar import CLASSES, Images, label_name, model_inputs, official_test_split
from lib.claims import judged
from lib.files import (ANALYSIS_PLOTS, ATTRIBUTION_CARD, ATTRIBUTION_MAPS, DYNAMICS_PLOTS, EXAMPLES, EXAMPLES_CARD,
                       FEATURES, RELIANCE_PLOTS, REPLAY_CARD, by_owner, member)
from lib.keys import FOR_PAGE, OUTPUT, interval_keys
from lib.measures import LAYER_MEASURES, OUTPUT_MEASURES, shared_edges
from lib.reliance import SHOWN
from lib.stats import round_floats
from lib.store import atomic_dir, existing, load_arrays, load_runs, read_csv, read_json
from web.vendor import LICENSES, PACKAGES, VENDOR

LEVELS = 255  # a layer's values are stored as round((value - low) / step), step = (high - low) / LEVELS
MAX_BARS = 400  # a histogram with more fixed-width bins than this is drawn with neighbouring bins merged
APP = Path(__file__).resolve().parents[1] / "web" / "explorer"  # page.html, explorer.css and the page's code (PAGE_CODE)
PAGE_CODE = ("page.js", "draw.js", "maps.js", "measures.js", "channel.js", "attribution.js", "claims.js", "charts.js",
             "dynamics.js", "start.js")  # the page's code, one file a view, loaded in this order from CODE/ (start.js last)
CODE, SCRIPTS_MARK = "code", "<!--EXPLORER_SCRIPTS-->"
VENDORED = (*(package[3] for package in PACKAGES), LICENSES)  # copied beside the page, for its charts
DATA_MARK = "/*EXPLORER_DATA*/"


class Scale(NamedTuple):
    """A layer's colour and storage scale: a stored byte q stands for low + q * step."""

    low: float
    step: float


def probe_sample(labels, size):
    """Indices of `size` probe images, class-balanced: each class's first image in probe order,
    then each class's second, and so on (so stepping through them meets every class in turn)."""
    labels = np.asarray(labels)
    by_class = [np.flatnonzero(labels == label) for label in np.unique(labels)]
    order = [members[rank] for rank in range(max((len(m) for m in by_class), default=0))
             for members in by_class if rank < len(members)]
    return np.array(order[:size], dtype=np.int64)


def grid(shape):
    """(channels, rows, columns) a layer's output (one image's shape) is drawn as: an (H, W, C) map
    as C maps of H x W; anything else flattened into one near-square map, filled row by row."""
    if len(shape) == 3:
        height, width, channels = shape
        return channels, height, width
    count = math.prod(shape)
    columns = math.ceil(math.sqrt(count))
    return 1, math.ceil(count / columns), columns


def as_grid(values):
    """(N, channels, rows * columns) of a layer's values (N, ...), laid out as `grid` says, zeros
    after the last value of a flattened map."""
    n, shape = len(values), values.shape[1:]
    channels, rows, columns = grid(shape)
    if len(shape) == 3:
        return np.ascontiguousarray(values.transpose(0, 3, 1, 2).reshape(n, channels, rows * columns))
    flat = values.reshape(n, 1, -1)
    return np.pad(flat, ((0, 0), (0, 0), (0, rows * columns - flat.shape[2])))


def layer_scale(arrays):
    """The Scale spanning every value of `arrays` in LEVELS steps (step 0 where they are all equal)."""
    low = min(float(np.min(a)) for a in arrays)
    high = max(float(np.max(a)) for a in arrays)
    return Scale(low, (high - low) / LEVELS)


def quantise(values, scale):
    """Values as bytes on `scale`: round((value - low) / step), within 0..LEVELS."""
    if scale.step == 0:
        return np.zeros(np.shape(values), np.uint8)
    levels = np.rint((np.asarray(values, np.float64) - scale.low) / scale.step)
    return np.clip(levels, 0, LEVELS).astype(np.uint8)


def value_histogram(values, width):
    """One image's values on the bins entropy_bits counts: exact zeros apart, then bins
    [k * width, (k + 1) * width) from the lowest non-zero value's to the highest's, neighbours
    merged `merge` at a time where there would be more than MAX_BARS."""
    values = np.ravel(values).astype(np.float64)
    nonzero = values[values != 0]
    if not nonzero.size:
        return {"zeros": int(values.size), "first": 0, "width": width, "merge": 1, "counts": []}
    ids = np.floor(nonzero / width).astype(np.int64)
    first = int(ids.min())
    span = int(ids.max()) - first + 1
    merge = max(1, math.ceil(span / MAX_BARS))
    counts = np.bincount((ids - first) // merge, minlength=math.ceil(span / merge))
    return {"zeros": int(values.size - nonzero.size), "first": first, "width": width, "merge": merge,
            "counts": counts.tolist()}


def image_measures(run, inputs, labels, bins, rows, whole_set, same):
    """Every registered measure of images `rows` of one run, per image ({"layers": {layer: {measure:
    (n,)}}, "output": {...}}): as the probe set's measurement takes them (bins spanning the whole
    set's values) when `whole_set`, else each image on its own, as a subject's. A layer in `same`
    (see repeated) takes the numbers of the layer it repeats."""
    layers = {}
    for layer in run.layers:
        if layer in same:
            layers[layer] = layers[same[layer]]
            continue
        values = run.acts[layer]
        if whole_set:
            layers[layer] = layer_measures(values[rows], inputs[rows], bins, shared_edges([values], bins))
        else:
            parts = [layer_measures(values[i:i + 1], inputs[i:i + 1], bins) for i in rows]
            layers[layer] = {name: np.concatenate([part[name] for part in parts]) for name in LAYER_MEASURES}
    probabilities = run.acts[run.roles[OUTPUT]][rows].astype(np.float64)
    return {"layers": layers,
            OUTPUT: {name: measure(probabilities, labels[rows]) for name, measure in OUTPUT_MEASURES.items()}}


def number(value):
    """A float for JSON: None where undefined."""
    return None if value is None or not np.isfinite(value) else float(value)


def nth(measures, i):
    """Image i's numbers from per-image arrays."""
    if isinstance(measures, dict):
        return {key: nth(value, i) for key, value in measures.items()}
    return number(measures[i])


class ImageSet(NamedTuple):
    """Images seen by every model: the named images with their model inputs (lib.cifar.Images) and
    {model: Run} of their activations."""

    images: Images
    runs: dict


def at_seed(runs, seed):
    """{model: its run of `seed`} of {model: {seed: run}}."""
    return {model: by_seed[seed] for model, by_seed in runs.items()}


def probe_names(indices):
    """How the page names probe images: by their index in the official test split."""
    return [f"test {i}" for i in indices]


def percentile(ordered, value):
    """Where `value` stands among the sorted defined values `ordered`, in percent (ties count half);
    None where either is undefined."""
    if value is None or not np.isfinite(value) or not len(ordered):
        return None
    below, upto = np.searchsorted(ordered, value, "left"), np.searchsorted(ordered, value, "right")
    return 100 * (below + upto) / 2 / len(ordered)


def sorted_measures(measured):
    """Per-image measures {"layers": {layer: {measure: (N,)}}, "output": {...}} as sorted arrays of their defined values."""
    if isinstance(measured, dict):
        return {key: sorted_measures(value) for key, value in measured.items()}
    return np.sort(measured[np.isfinite(measured)])


def ranks(numbers, ordered):
    """Each of one image's numbers as its percentile among the probe images' (`ordered`)."""
    if isinstance(numbers, dict):
        return {key: ranks(value, ordered[key]) for key, value in numbers.items() if key in ordered}
    return percentile(ordered, numbers)


def repeated(*runs):
    """{layer: the earlier layer it repeats exactly on every image of every one of `runs`} (one
    model's runs on several image sets; e.g. dropout at inference): drawn from that layer's maps."""
    found = [copies(run) for run in runs]
    return {layer: original for layer, original in found[0].items() if all(f.get(layer) == original for f in found)}


def stored(run, same):
    """The layers whose maps are stored: every one but those repeating another."""
    return [layer for layer in run.layers if layer not in same]


def scales(sets, rows, same):
    """{layer: Scale} over every model and image shown, one per layer name."""
    found = {}
    for images, chosen in zip(sets, rows):
        for model, run in images.runs.items():
            for layer in stored(run, same[model]):
                if len(chosen):
                    found.setdefault(layer, []).append(run.acts[layer][chosen])
    return {layer: layer_scale(arrays) for layer, arrays in found.items()}


def layout(runs, same):
    """Where each model's stored layers lie in an image's byte block: {model: [[layer, offset, size]]},
    and the block's length."""
    places, offset = {}, 0
    for model, run in runs.items():
        places[model] = []
        for layer in stored(run, same[model]):
            size = math.prod(grid(run.acts[layer].shape[1:]))
            places[model].append([layer, offset, size])
            offset += size
    return places, offset


def image_block(runs, i, places, layer_scales):
    """Image i's maps of every model's stored layers, as one deflated byte block."""
    parts = [quantise(as_grid(runs[model].acts[layer][i:i + 1]), layer_scales[layer]).tobytes()
             for model, layers in places.items() for layer, _, _ in layers]
    return zlib.compress(b"".join(parts), 9)


def image_facts(images, i, measured, ordered, bins, same):
    """What the page shows of image i beside its maps: per model the measures of every layer (the
    i-th of `measured`) and their percentiles among the probe images', the histogram of every stored
    layer, the softmax output and the predicted class."""
    facts = {}
    for model in same:
        run = images.runs[model]
        probabilities = run.acts[run.roles[OUTPUT]][i].astype(np.float64)
        numbers = nth(measured[model], i)
        facts[model] = {"measures": numbers, "percentiles": ranks(numbers, ordered[model]),
                        "histograms": {layer: value_histogram(run.acts[layer][i], 1 / bins)
                                       for layer in stored(run, same[model])},
                        "softmax": [float(p) for p in probabilities],
                        "predicted": CLASSES[int(probabilities.argmax())] if len(probabilities) == len(CLASSES)
                        else int(probabilities.argmax())}
    return round_floats(facts)


def image_script(index, block, facts):
    """images/<index>.js: hands the page one image's deflated maps and its facts."""
    payload = json.dumps(facts, separators=(",", ":"), allow_nan=False)
    return f'explorer.receive({index},"{base64.b64encode(block).decode()}",{payload});\n'


def run_card(run, places, same):
    """A model's layers as the page needs them: order, shapes, grid, roles, copies."""
    return {"layers": list(run.layers),
            "grids": {layer: list(grid(run.acts[layer].shape[1:])) for layer in run.layers},
            "counts": {layer: int(math.prod(run.acts[layer].shape[1:])) for layer in run.layers},
            "roles": dict(run.roles), "same": same, "blocks": places}


def explorer(subjects, probe, sample, bins, models):
    """(the page's data, [(block, facts)] per image) for every subject, then the probe images `sample`.
    A subject is measured on its own, a probe image as the probe set's measurement takes it, and each
    number is ranked among the whole probe set's."""
    sets, rows = (subjects, probe), (np.arange(len(subjects.images.names)), np.asarray(sample))
    same = {model: repeated(subjects.runs[model], probe.runs[model]) for model in models}
    layer_scales = scales(sets, rows, same)
    places, length = layout({model: probe.runs[model] for model in models}, same)
    every = np.arange(len(probe.images.names))
    measured = ({model: image_measures(subjects.runs[model], subjects.images.inputs, subjects.images.labels, bins,
                                       rows[0], False, same[model]) for model in models},
                {model: image_measures(probe.runs[model], probe.images.inputs, probe.images.labels, bins, every, True,
                                       same[model]) for model in models})
    ordered = {model: sorted_measures(measured[1][model]) for model in models}
    entries, scripts = [], []
    for seen, chosen, numbers in zip(sets, rows, measured):
        images = seen.images
        for i in chosen:
            entries.append({"name": images.names[i], "label": label_name(int(images.labels[i])),
                            "probe": seen is probe,
                            "pixels": base64.b64encode(np.ascontiguousarray(images.images[i]).tobytes()).decode(),
                            "input": base64.b64encode(np.rint(images.inputs[i] * 255).astype(np.uint8).tobytes())
                            .decode(),
                            "channels": int(images.inputs.shape[-1])})
            scripts.append((image_block(seen.runs, i, places, layer_scales),
                            image_facts(seen, i, numbers, ordered, bins, same)))
    data = {"models": list(models), "classes": list(CLASSES), "levels": LEVELS, "block_length": length,
            "cards": {model: run_card(probe.runs[model], places[model], same[model]) for model in models},
            "scales": {layer: {"low": s.low, "step": s.step} for layer, s in layer_scales.items()},
            "images": entries}
    return data, scripts


CHANNEL_NUMBERS = ("selectivity", "importance", "selective_class", "most_hurt", "hurt_match",
                   *interval_keys("max_class_drop"), "most_hurt_loss_rise", "loss_rise")  # score's, by channel


def channel_numbers(rows, seed, class_rows=()):
    """{model: {layer: {number: [by channel], "class_drops": [by channel: each class's accuracy drop]}}}
    of one seed's runs, from the score stage's channel rows (CHANNEL_NUMBERS; None where undefined)
    and per-class rows."""
    found = {}
    for row in numeric_rows(rows):
        if int(row["seed"]) == seed:
            numbers = found.setdefault(str(row["model"]), {}).setdefault(str(row["layer"]), {})
            for key in CHANNEL_NUMBERS:
                if key in row:
                    numbers.setdefault(key, []).append(row[key])
    for row in numeric_rows(class_rows):
        if int(row["seed"]) == seed:
            drops = found[str(row["model"])][str(row["layer"])].setdefault("class_drops", [])
            if int(row["channel"]) == len(drops):
                drops.append([])
            drops[int(row["channel"])].append(row["accuracy_drop"])
    return found


def reliance_channels(folder, seed):
    """channel_numbers of one seed from the score stage's plot folder."""
    channels, classes = (read_csv(existing(Path(folder) / RELIANCE_PLOTS[name], f"score's {name} numbers"))
                         for name in ("channels", "classes"))
    return channel_numbers(channels, seed, classes)


def page_data(subjects, probe, params, probe_metrics, verdicts, train_metrics, dynamics, charts_found,
              reliance=None, reliance_channels=None):
    """(the page's data, [(block, facts)] per image): explorer()'s for every subject and a sample of
    the probe set, with the run's summary, each model's params and test accuracy, the probe set's
    measures, the claims, the charts, the replayed epochs of the first seed's runs
    (`train_metrics` and `dynamics`: {model: that run's}), each layer's reliance on its channels
    (metrics/reliance.json) and its channels' selectivity and importance (channel_numbers)."""
    models, bins, seed = params["models"], params["analysis"]["bins"], params["train"]["seeds"][0]
    sample = probe_sample(probe.images.labels, params["explore"]["probe_images"])
    data, scripts = explorer(subjects, probe, sample, bins, list(models))
    epochs, best, last = epoch_entries(dynamics)
    data.update(
        summary=f"{len(models)} models ({', '.join(models)}), seed {seed}; "
                f"{plural(len(subjects.images.names), 'subject')} and {len(sample)} of the "
                f"{len(probe.images.labels)} probe images; entropy bins of width 1/{bins}",
        seed=seed, keys=FOR_PAGE, lut=colour_table(),
        info={model: {**settings, "test_accuracy": train_metrics[model]["test_accuracy"]}
              for model, settings in models.items()},
        layer_measures=list(LAYER_MEASURES), output_measures=list(OUTPUT_MEASURES),
        probe={model: {"layers": summary["layers"], OUTPUT: summary[OUTPUT]}
               for model, summary in probe_metrics["models"].items()},
        verdicts=verdict_entries(verdicts), charts=charts_found, epochs=epochs, best=best, last=last,
        reliance={model: {layer: {key: value for key, value in numbers.items() if key.startswith(SHOWN)}
                          for layer, numbers in summary["layers"].items()}
                  for model, summary in (reliance or {"models": {}})["models"].items()},
        reliance_measures=list(SHOWN), channels=reliance_channels or {})
    return data, scripts


def colour_table(name="viridis"):
    """The colour map the page draws stored bytes with: LEVELS + 1 RGB colours as hex, low to high."""
    from matplotlib import colormaps

    colours = np.rint(colormaps[name](np.linspace(0, 1, LEVELS + 1))[:, :3] * 255).astype(int)
    return "".join(f"{r:02x}{g:02x}{b:02x}" for r, g, b in colours)


NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def numeric_rows(rows):
    """CSV rows (strings) with every number written as digits as a number (a model named `nan` or
    `inf` stays a name), an empty field as None."""
    def parsed(text):
        return float(text) if NUMBER.fullmatch(text) else None if text == "" else text
    return [{key: parsed(text) for key, text in row.items()} for row in rows]


CHARTS = {"analysis": ("training", "by_size", "cka_to_largest", "cka"), "dynamics": tuple(DYNAMICS_PLOTS)}


def charts(analysis, dynamics):
    """The plot data the analysis and trace stages wrote, by chart; a file they did not write is left out."""
    files = {**{name: Path(analysis) / ANALYSIS_PLOTS[name] for name in CHARTS["analysis"]},
             **{name: Path(dynamics) / DYNAMICS_PLOTS[name] for name in CHARTS["dynamics"]}}
    return {name: numeric_rows(read_csv(path)) for name, path in files.items() if path.is_file()}


def plural(count, noun):
    return f"{count} {noun}{'' if count == 1 else 's'}"


def verdict_entries(verdicts):
    return [{"claim": v.claim, "verdict": v.verdict, "evidence": list(v.evidence), "refs": [list(r) for r in v.refs]}
            for v in verdicts]


def epoch_entries(cards):
    """{model: [per replayed epoch: its probe means and subjects' measures]} and each run's best and
    last epoch, from one run's dynamics card per model."""
    keep = ("epoch", "val_accuracy", "layers", OUTPUT, "subjects")
    return ({model: [{key: epoch[key] for key in keep if key in epoch} for epoch in card["epochs"]]
             for model, card in cards.items()},
            {model: card["best_epoch"] for model, card in cards.items()},
            {model: card["last_epoch"] for model, card in cards.items()})


def inline(template, marks):
    """`template` with each mark replaced once by its text; refuses text that would end its element early."""
    for mark, text in marks.items():
        if template.count(mark) != 1:
            raise ValueError(f"the explorer page template must hold {mark} once")
        for closing in ("</script", "</style"):
            if closing in text.lower():
                raise ValueError(f"{mark}'s text holds {closing}")
        template = template.replace(mark, text)
    return template


def page(data):
    """index.html: the page template with its styles and `data` inline, and its code (PAGE_CODE) loaded from CODE/."""
    scripts = [package[3] for package in PACKAGES]
    text = json.dumps({**data, "vendor": scripts}, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")
    filled = inline((APP / "page.html").read_text(), {"/*EXPLORER_CSS*/": (APP / "explorer.css").read_text(),
                                                      DATA_MARK: text})
    if filled.count(SCRIPTS_MARK) != 1:
        raise ValueError(f"the explorer page template must hold {SCRIPTS_MARK} once")
    return filled.replace(SCRIPTS_MARK, "\n".join(f'<script src="{CODE}/{name}"></script>' for name in PAGE_CODE))


CHANNELS_SCRIPT = "channels.js"


def write_explorer(folder, data, scripts, channels=None):
    """plots/explorer/: index.html, code/ (the page's scripts), images/<i>.js, channels.js (the channel
    view's data, where there is one) and vendor/, replacing any earlier one whole."""
    with atomic_dir(folder) as tmp:
        if channels is not None:
            (tmp / CHANNELS_SCRIPT).write_text(channels_script(channels))
        (tmp / "images").mkdir()
        for i, (block, facts) in enumerate(scripts):
            (tmp / "images" / f"{i}.js").write_text(image_script(i, block, facts))
        (tmp / CODE).mkdir()
        for name in PAGE_CODE:
            shutil.copyfile(APP / name, tmp / CODE / name)
        (tmp / "vendor").mkdir()
        for name in VENDORED:
            shutil.copyfile(VENDOR / name, tmp / "vendor" / name)
        (tmp / "index.html").write_text(page(data))


def folder_bytes(folder):
    return sum(path.stat().st_size for path in Path(folder).rglob("*") if path.is_file())


def as_bytes(values, low, high):
    """Values on [low, high] quantised (all 0 where high == low), base64-coded."""
    return base64.b64encode(quantise(values, Scale(low, (high - low) / LEVELS)).tobytes()).decode()


INPUTS_SHOWN = 4  # a channel's strongest inputs from the layer below named each way (lib.circuits)


def strongest(inputs, shown=INPUTS_SHOWN):
    """{"positive": [[channel, contribution]], "negative": [...]}: the `shown` largest contributions
    of each sign, largest first (ties: the lower channel)."""
    order = np.argsort(-np.asarray(inputs, np.float64), kind="stable")
    positive = [[int(c), number(inputs[c])] for c in order[:shown] if inputs[c] > 0]
    negative = [[int(c), number(inputs[c])] for c in order[::-1][:shown] if inputs[c] < 0]
    return {"positive": positive, "negative": negative}


def channel_views(runs, inputs, indices, specificity, chance=None):
    """The channel view's data (plots/explorer/channels.js) of one run per model: `runs` {model:
    (examples arrays, features arrays, channel card)} as the visualize stage wrote them, `inputs`
    (N, side, side, depth) the official test split as the models see it in [0, 1], `indices` its
    official indices, `specificity` metrics/channels.json's models and `chance` its chance level.
    Per model and layer with channels, each channel's top images (positions in `images`), their
    values and boxes, the class tally, the images tied at the last place shown and tallied, whether
    it is constant and its class specificity, the layer's beside its baselines, its strongest inputs
    from the layer below (lib.circuits) and what they leave of its value; per layer with an
    optimised input (the output layer's classes too), those inputs as bytes and the window they
    are drawn in."""
    runs = {model: (by_owner(examples), by_owner(features), card) for model, (examples, features, card) in runs.items()}
    wanted = sorted({int(i) for examples, _, _ in runs.values() for found in examples.values()
                     if "index" in found for i in np.ravel(found["index"])})
    row_of = {int(index): row for row, index in enumerate(indices)}
    place = {index: k for k, index in enumerate(wanted)}
    models = {}
    for model, (examples, features, card) in runs.items():
        layers = {}
        for layer, facts in card["layers"].items():
            entry = {"channels": facts["channels"], "field": facts.get("receptive_field")}
            shown, drawn = examples.get(layer, {}), features.get(layer, {})
            if "index" in shown:
                dead = constant(shown["peak"])
                numbers = (specificity.get(model, {}).get("layers", {}).get(layer) or {})
                entry.update(
                    top=[[place[int(i)] for i in row] for row in shown["index"]],
                    value=[[number(v) for v in row] for row in shown["value"]],
                    box=shown["box"].tolist(), tally=shown["tally"].tolist(), tied=shown["tied"].tolist(),
                    constant=dead.tolist(), specificity=[number(v) for v in share(shown["tally"], dead)],
                    summary={key: number(value) for key, value in numbers.items() if key.startswith("class_specificity")})
            if "inputs" in shown:
                entry.update(below=facts["below"], inputs=[strongest(row) for row in shown["inputs"]],
                             inputs_rest=[number(v) for v in shown["inputs_rest"]])
            if "image" in drawn:
                entry.update(feature=as_bytes(np.nan_to_num(drawn["image"], nan=0.0), 0, 1),
                             feature_constant=drawn["constant"].tolist(),
                             objective=[number(v) for v in drawn["objective"]],
                             feature_box=facts.get("features_box"))
            layers[layer] = entry
        models[model] = {"roles": card["roles"], "layers": layers}
    pixels = np.stack([inputs[row_of[index]] for index in wanted]) if wanted else np.zeros((0, *inputs.shape[1:]))
    return {"side": int(inputs.shape[1]), "depth": int(inputs.shape[-1]), "images": wanted,
            "pixels": as_bytes(pixels, 0, 1), "classes": list(CLASSES), "models": models, "chance": chance}


def channels_script(views):
    """channels.js: hands the page the channel view's data (loaded after the first view is drawn)."""
    return f"explorer.receiveChannels({json.dumps(round_floats(views), separators=(',', ':'), allow_nan=False)});\n"


def attribution_views(cards, maps):
    """{model: {subject: the class explained and per method its map and initial-weights map as bytes
    (signed maps centred on 127.5), their scale and the sanity check}} of one run per model."""
    found = {}
    for model, card in cards.items():
        found[model] = {}
        for subject, facts in card["subjects"].items():
            methods = {}
            for method, checks in facts["methods"].items():
                entry = dict(checks)
                for key, name in (("map", member(subject, method)), ("initial", member(subject, method, "initial"))):
                    if name not in maps[model]:
                        entry[key] = None
                        continue
                    values = np.asarray(maps[model][name], np.float64)
                    high = float(np.abs(values).max())
                    signed = bool(values.min() < 0)
                    entry[key] = {"bytes": as_bytes(values, -high if signed else 0.0, high), "signed": signed,
                                  "high": high}
                methods[method] = entry
            found[model][subject] = {"predicted": facts["predicted"], "probability": facts["probability"],
                                     "label": facts["label"], "methods": methods}
    return round_floats(found)


def first_run(params):
    """params with train.seeds cut to the first seed: the runs the page shows."""
    return {**params, "train": {**params["train"], "seeds": params["train"]["seeds"][:1]}}


def image_sets(paths, params):
    """The subjects and the probe set, each with every model's activations at the first seed."""
    seed, grayscale = params["train"]["seeds"][0], params["data"]["grayscale"]
    subject_set, probe_set = (load_arrays(existing(paths[key], what)) for key, what in
                              (("subjects", "subjects"), ("probe", "probe set")))
    subject_runs, probe_runs = (runs_of(paths["activations"], first_run(params), images)
                                for images in ("subjects", "probe"))
    return (ImageSet(Images.of(subject_set).seen(grayscale), at_seed(subject_runs, seed)),
            ImageSet(Images.of(probe_set)._replace(names=probe_names(probe_set["indices"])).seen(grayscale),
                     at_seed(probe_runs, seed)))


def page_inputs(paths, params):
    """(the page's data, the images' scripts) from the files the explore stage names (`paths`)."""
    seed, runs = params["train"]["seeds"][0], first_run(params)
    subjects, probe = image_sets(paths, params)
    train_metrics = load_runs(paths["train_metrics"], runs, read_json, "test metrics", ".json")
    dynamics = load_runs(paths["dynamics"], runs, read_json, "replayed checkpoints", f"/{REPLAY_CARD}")
    subject_metrics, probe_metrics, reliance = (read_json(existing(paths[key], "metrics")) for key in (
        "subject_metrics", "probe_metrics", "reliance_metrics"))
    verdicts = judged(params["models"], subject_metrics, probe_metrics, reliance)
    data, scripts = page_data(subjects, probe, params, probe_metrics, verdicts, at_seed(train_metrics, seed),
                              at_seed(dynamics, seed), charts(paths["analysis_plots"], paths["dynamics_plots"]),
                              reliance, reliance_channels(paths["reliance_plots"], seed))
    cards, maps = (at_seed(load_runs(paths["attributions"], runs, read, what, f"/{file}"), seed)
                   for read, what, file in ((read_json, "attribution card", ATTRIBUTION_CARD),
                                            (load_arrays, "attribution maps", ATTRIBUTION_MAPS)))
    data.update(attributions=attribution_views(cards, maps))
    return data, scripts


def channel_inputs(paths, params):
    """Every model's channel views (channel_views) from the files the explore stage names (`paths`)."""
    seed, runs = params["train"]["seeds"][0], first_run(params)
    images, _, indices = official_test_split(paths["val"], paths["test"])
    found = {name: load_runs(paths["channels"], runs, read, what, f"/{file}") for name, read, what, file in (
        ("examples", load_arrays, "channel examples", EXAMPLES), ("features", load_arrays, "optimised inputs", FEATURES),
        ("card", read_json, "channel card", EXAMPLES_CARD))}
    specificity = read_json(existing(paths["channel_metrics"], "metrics"))
    return channel_views({model: tuple(found[name][model][seed] for name in ("examples", "features", "card"))
                          for model in params["models"]}, model_inputs(images, params["data"]["grayscale"]), indices,
                         specificity["models"], specificity["chance"]["class_specificity"])

