"""Where in a picture a model finds the evidence for the class it predicts, and whether that map
depends on what the model learnt.

- **Integrated gradients** (Sundararajan et al. 2017): the input minus a black baseline, times the
  gradient of the class's logit averaged along the straight path between them (trapezoidal rule),
  summed over the image's channels. Completeness: the map sums to the logit's change from the
  baseline to the image. The path starts with `steps` intervals and is halved until the gap
  |sum − change| / |change| is within `tolerance` or `max_steps` is reached; the steps taken, the
  gap (relative and absolute) and whether it met the tolerance are reported.
- **Grad-CAM** (Selvaraju et al. 2017) at the last convolution: its channels weighted by the mean
  gradient of the class's logit over their positions, summed, rectified and resized to the image
  (bilinear).
- **Sanity check** (Adebayo et al. 2018, cascading model randomisation): the layers with weights
  are re-initialised from the top down, one more at a time, with the untrained network's weights
  (epoch 0 of the checkpoints; an imported model's layers re-drawn from their own initialisers),
  and at each step the Spearman rank correlation of the map with the trained one is taken on the
  signed values and on their magnitudes. The baseline is the same correlation between the maps of
  two independent initialisations: what the picture alone makes two unrelated networks agree on
  (with a black baseline |IG| is the picture times the gradient's size, so magnitudes agree
  between unrelated networks on a high-contrast image). A map is flagged when, fully randomised,
  it still agrees with the trained map nearer to identity than to that baseline: ρ ≥ (1 + ρ₀)/2,
  on the signed or the absolute ranks. A map with no ranking (constant: the trained one, or one
  of the untrained networks') leaves the check undefined, never passed.

Maps are for the class the trained model predicts; the logit (the softmax's input) is used, as
the papers do, so a map is not about the other classes' scores.
"""

import numpy as np

from lib.cifar import label_name
from lib.files import member
from lib.model import last_convolution
from lib.stats import spearman

PATH_CHUNK = 256  # points of an integrated-gradients path differentiated at once
KINDS = ("signed", "absolute")  # the rank correlations of the sanity check


def logits(model):
    """A keras.Model: the input -> the output layer's logits (its values before the softmax)."""
    from lib.activations import pre_activations

    return pre_activations(model, model.layers[-1].name)


def path_gradients(logit_model, image, target, alphas):
    """(sum over `alphas` of the gradient of the target's logit at alpha * image, the logits there)."""
    import tensorflow as tf

    total, scores = np.zeros(image.shape), []
    for first in range(0, len(alphas), PATH_CHUNK):
        path = tf.constant(image[None] * alphas[first:first + PATH_CHUNK, None, None, None], tf.float32)
        with tf.GradientTape() as tape:
            tape.watch(path)
            found = logit_model(path, training=False)[:, target]
        total += tape.gradient(found, path).numpy().astype(np.float64).sum(axis=0)
        scores.append(found.numpy())
    return total, np.concatenate(scores)


def integrated_gradients(logit_model, image, target, steps, tolerance=0.0, max_steps=None):
    """(side, side) attributions of `image` (side, side, channels) for class `target`, and the
    facts: the path's `steps`, the completeness gap |sum of the map − (logit(image) − logit(black))|,
    relative to the change (`completeness_gap`) and absolute, and whether it is `complete` (within
    `tolerance`). The path is refined by halving its intervals (the points taken so far are kept)
    until complete or `max_steps`."""
    image = image.astype(np.float64)
    ends, scores = path_gradients(logit_model, image, target, np.array([0.0, 1.0]))
    change = float(scores[1] - scores[0])
    inside, _ = path_gradients(logit_model, image, target, np.arange(1, steps) / steps)
    total, max_steps = ends / 2 + inside, max(max_steps or steps, steps)
    while True:
        attributions = (image * total / steps).sum(axis=-1)
        gap = abs(attributions.sum() - change)
        relative = gap / abs(change) if change else float("nan")
        complete = bool(relative <= tolerance) if change else bool(gap <= tolerance)
        if complete or 2 * steps > max_steps:
            break
        total = total + path_gradients(logit_model, image, target, (2 * np.arange(steps) + 1) / (2 * steps))[0]
        steps *= 2
    return attributions.astype(np.float32), {"steps": steps, "completeness_gap": None if np.isnan(relative) else
                                             float(relative), "completeness_gap_absolute": float(gap),
                                             "complete": complete}


def grad_cam(model, layer, image, target):
    """(side, side) Grad-CAM of `image` for class `target` at `layer` (a layer with positions)."""
    import keras
    import tensorflow as tf

    from lib.activations import linear_twin

    out = model.layers[-1]
    both = keras.Model(model.inputs[0], [model.get_layer(layer).output, linear_twin(out)(out.input)])
    with tf.GradientTape() as tape:
        maps, scores = both(image[None].astype(np.float32), training=False)
        score = scores[:, target]
    gradients = tape.gradient(score, maps)
    weights = tf.reduce_mean(gradients, axis=[1, 2], keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * maps, axis=-1))[..., None]
    side = image.shape[0]
    return tf.image.resize(cam, [side, side], method="bilinear")[0, ..., 0].numpy().astype(np.float32)


def flat(values):
    return bool(np.ptp(np.ravel(values)) == 0)


def agreement(a, b):
    """{kind: Spearman ρ} of two maps' signed values and magnitudes (None where either is constant)."""
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    found = {"signed": spearman(a, b), "absolute": spearman(np.abs(a), np.abs(b))}
    return {kind: float(rho) if np.isfinite(rho) else None for kind, rho in found.items()}


def threshold(baseline):
    """{kind: the correlation at which a map is flagged}: half way from the baseline to identity."""
    return {kind: None if rho is None else (1 + rho) / 2 for kind, rho in baseline.items()}


def sanity_check(trained, randomised, baseline_pair):
    """The verdict of Adebayo et al.'s check from the trained map, the fully randomised network's and
    the maps of two independent initialisations: {"rank_correlation", "baseline", "threshold"} (per
    kind), "passes" True, False (flagged) or None (undefined, with "sanity" saying why)."""
    rho, baseline = agreement(trained, randomised), agreement(*baseline_pair)
    found = {"rank_correlation": rho, "baseline": baseline, "threshold": threshold(baseline)}
    if flat(trained):
        return {**found, "passes": None, "sanity": "the trained map is constant: it locates nothing"}
    if flat(randomised) or any(flat(m) for m in baseline_pair):
        return {**found, "passes": None, "sanity": "an untrained network's map is constant: no ranking to compare"}
    if any(v is None for v in (*rho.values(), *found["threshold"].values())):
        return {**found, "passes": None, "sanity": "a rank correlation is undefined"}
    flagged = [kind for kind in KINDS if rho[kind] >= found["threshold"][kind]]
    return {**found, "passes": not flagged, **({"flagged_on": flagged} if flagged else {})}


def integrated_gradients_map(model, image, target, context):
    """Integrated gradients as a method: (map, facts); the path refined from `context["steps"]` up to
    `context["max_steps"]` (the cascade passes the trained map's steps as both: its path)."""
    found, facts = integrated_gradients(logits(model), image, target, context["steps"], context.get("tolerance", 0.0),
                                        context.get("max_steps"))
    return found, facts


def grad_cam_map(model, image, target, context):
    """Grad-CAM as a method: (map, {"layer"}); None where the network has no convolution."""
    if context["layer"] is None:
        return None
    return grad_cam(model, context["layer"], image, target), {"layer": context["layer"]}


METHODS = {"integrated_gradients": integrated_gradients_map, "grad_cam": grad_cam_map}


def weighted_layers(model):
    """The names of the layers with weights, from the output down: the cascade's order."""
    return [layer.name for layer in model.layers if layer.weights][::-1]


def cascade(model, untrained, compute, image, target, context):
    """[(layer, map)]: the map with the layers re-initialised (from `untrained`) from the top down,
    one more at a time; the last is the fully randomised network's."""
    import keras

    mixed = keras.models.clone_model(model)
    mixed.set_weights(model.get_weights())
    maps = []
    for name in weighted_layers(model):
        mixed.get_layer(name).set_weights(untrained.get_layer(name).get_weights())
        maps.append((name, compute(mixed, image, target, context)[0]))
    return maps


def explain(model, untrained, other, image, target, context, methods=None):
    """One image's maps for class `target` by every method: ({method: trained map}, {method: fully
    randomised map}, {method: facts with the cascade and the sanity check}); `untrained` is the
    network before training, `other` an independent initialisation (the baseline)."""
    trained_maps, random_maps, facts = {}, {}, {}
    for method, compute in (methods or METHODS).items():
        found = compute(model, image, target, context)
        if found is None:
            continue
        trained_maps[method], facts[method] = found
        steps = facts[method].get("steps")
        fixed = {**context, **({"steps": steps, "max_steps": steps} if steps else {})}  # the trained map's path
        randomised = cascade(model, untrained, compute, image, target, fixed)
        random_maps[method] = randomised[-1][1]
        facts[method]["cascade"] = [{"layer": name, **agreement(trained_maps[method], found_map)}
                                    for name, found_map in randomised]
        facts[method].update(sanity_check(trained_maps[method], random_maps[method],
                                          (random_maps[method], compute(other, image, target, fixed)[0])))
    return trained_maps, random_maps, facts


def sanity_summary(cards):
    """Per method, over a model's runs and subjects: the maps checked, those flagged and undefined,
    the mean rank correlations with the fully randomised network's map and their baselines, and
    (integrated gradients) the largest completeness gap and the maps that missed the tolerance."""
    found = {}
    for card in cards:
        for subject in card["subjects"].values():
            for method, facts in subject["methods"].items():
                entry = found.setdefault(method, {"maps": 0, "flagged": 0, "undefined": 0, "incomplete": 0,
                                                  "rhos": {k: [] for k in KINDS}, "baselines": {k: [] for k in KINDS},
                                                  "gaps": []})
                entry["maps"] += 1
                entry["flagged"] += facts["passes"] is False
                entry["undefined"] += facts["passes"] is None
                entry["incomplete"] += facts.get("complete") is False
                for kind in KINDS:
                    for key, into in (("rank_correlation", "rhos"), ("baseline", "baselines")):
                        if facts[key][kind] is not None:
                            entry[into][kind].append(facts[key][kind])
                if facts.get("completeness_gap") is not None:
                    entry["gaps"].append(facts["completeness_gap"])
    return {method: {"maps": e["maps"], "checked": e["maps"] - e["undefined"], "flagged": e["flagged"],
                     "undefined": e["undefined"],
                     **{f"mean_rank_correlation_{k}": mean_or_none(e["rhos"][k]) for k in KINDS},
                     **{f"mean_baseline_{k}": mean_or_none(e["baselines"][k]) for k in KINDS},
                     **({"largest_completeness_gap": float(max(e["gaps"])), "incomplete": e["incomplete"]}
                        if e["gaps"] else {})}
            for method, e in found.items()}


def mean_or_none(values):
    return float(np.mean(values)) if values else None


def attribute_run(model, untrained, other, subjects, settings, facts):
    """One run's maps of every subject by every method, each with the sanity check (see explain):
    ({member(subject, method[, "initial"]): map}, the card). `facts` ({"model", "seed", "untrained",
    "baseline_seed"}) head the card."""
    context = {"layer": last_convolution(model), "steps": settings["steps"], "tolerance": settings["tolerance"],
               "max_steps": settings["max_steps"]}
    probabilities = np.asarray(model.predict(subjects.inputs, batch_size=1, verbose=0), np.float64)
    maps = {}
    card = {"model": facts["model"], "seed": facts["seed"], "grad_cam_layer": context["layer"],
            "untrained": facts["untrained"], "baseline_seed": facts["baseline_seed"], "subjects": {}}
    for name, image, label, scores in zip(subjects.names, subjects.inputs, subjects.labels, probabilities):
        target = int(scores.argmax())
        trained, randomised, found = explain(model, untrained, other, image, target, context)
        maps.update({member(name, method): value for method, value in trained.items()})
        maps.update({member(name, method, "initial"): value for method, value in randomised.items()})
        card["subjects"][name] = {"label": label_name(label), "predicted": label_name(target),
                                  "probability": round(float(scores[target]), 6), "methods": found}
    return maps, card


def summary_line(card, out):
    """What the attribute stage says of one run: each map's sanity check."""
    verdicts = [f"{name} {method} " + ("passes" if facts["passes"] else "FLAGGED" if facts["passes"] is False else
                                       "undefined") for name, entry in card["subjects"].items()
                for method, facts in entry["methods"].items()]
    return (f"attribute: {card['model']} seed {card['seed']}: {len(card['subjects'])} subjects, methods "
            f"{', '.join(METHODS)}; sanity check against the {card['untrained']} network: {', '.join(verdicts)} -> {out}")

