"""Where in a picture a model finds the evidence for the class it predicts, and whether that map
depends on what the model learnt.

- **Integrated gradients** (Sundararajan et al. 2017): the input minus a black baseline, times the
  gradient of the class's logit averaged along the straight path between them (`steps` points,
  trapezoidal rule), summed over the image's channels. Completeness: the map sums to the logit's
  change from the baseline to the image (the gap is reported).
- **Grad-CAM** (Selvaraju et al. 2017) at the last convolution: its channels weighted by the mean
  gradient of the class's logit over their positions, summed, rectified and resized to the image
  (bilinear).
- **Sanity check** (Adebayo et al. 2018, model parameter randomisation): the same map from the
  network's initial weights (epoch 0 of its checkpoints). A map that explains the trained model
  must change when the weights it learnt are gone: the Spearman rank correlation of the two maps'
  magnitudes must stay below SANITY, else the map is flagged (it shows the picture, not the
  model). A constant map has no ranking: a constant initial-weights map beside a trained one that
  is not passes (they differ); a constant trained map leaves the check undefined.

Maps are for the class the trained model predicts; the logit (the softmax's input) is used, as
the papers do, so a map is not about the other classes' scores.
"""

import numpy as np

from lib.model import CONVOLUTIONS
from lib.reliance import spearman

SANITY = 0.5  # a rank correlation this high with the untrained network's map means the map ignores the weights


def logits(model):
    """A keras.Model: the input -> the output layer's logits (its values before the softmax)."""
    from lib.activations import pre_activations

    return pre_activations(model, model.layers[-1].name)


def last_convolution(model):
    """The network's last 2-D convolution, where Grad-CAM is taken; None if it has none."""
    found = [layer.name for layer in model.layers
             if type(layer).__name__ in CONVOLUTIONS and len(layer.output.shape) == 4]
    return found[-1] if found else None


def integrated_gradients(logit_model, image, target, steps):
    """(side, side) attributions of `image` (side, side, channels) for class `target`, and the
    completeness gap: |sum of the map − (logit(image) − logit(black))| / |logit(image) − logit(black)|."""
    import tensorflow as tf

    alphas = tf.linspace(0.0, 1.0, steps + 1)[:, None, None, None]
    path = tf.constant(image[None], tf.float32) * alphas
    with tf.GradientTape() as tape:
        tape.watch(path)
        scores = logit_model(path, training=False)[:, target]
    gradients = tape.gradient(scores, path).numpy().astype(np.float64)
    average = (gradients[:-1] + gradients[1:]).sum(axis=0) / (2 * steps)
    attributions = (image.astype(np.float64) * average).sum(axis=-1)
    change = float(scores[-1] - scores[0])
    gap = abs(attributions.sum() - change) / abs(change) if change else float("nan")
    return attributions.astype(np.float32), gap


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


def rank_agreement(trained, initial):
    """The Spearman rank correlation of two maps' magnitudes (NaN where either is constant)."""
    return spearman(np.abs(np.ravel(trained)).astype(np.float64), np.abs(np.ravel(initial)).astype(np.float64))


def flat(values):
    return bool(np.ptp(np.abs(values)) == 0)


def sanity_check(trained, initial):
    """{"rank_correlation", "passes"} and, where the correlation is undefined, "sanity" saying why:
    passes is True (the map depends on the weights), False (flagged) or None (undefined). A
    constant initial-weights map beside a trained map that is not (Grad-CAM of an untrained network
    is often rectified to zeros) differs from it: it passes, with no correlation."""
    rho = rank_agreement(trained, initial)
    if np.isfinite(rho):
        return {"rank_correlation": float(rho), "passes": bool(rho < SANITY)}
    if flat(trained):
        return {"rank_correlation": None, "passes": None, "sanity": "the trained map is constant: it locates nothing"}
    return {"rank_correlation": None, "passes": True, "sanity": "the initial weights' map is constant: it differs"}


def integrated_gradients_map(model, image, target, context):
    """Integrated gradients as a method: (map, {"completeness_gap"})."""
    found, gap = integrated_gradients(logits(model), image, target, context["steps"])
    return found, {"completeness_gap": None if np.isnan(gap) else float(gap)}


def grad_cam_map(model, image, target, context):
    """Grad-CAM as a method: (map, {"layer"}); None where the network has no convolution."""
    if context["layer"] is None:
        return None
    return grad_cam(model, context["layer"], image, target), {"layer": context["layer"]}


METHODS = {"integrated_gradients": integrated_gradients_map, "grad_cam": grad_cam_map}


def explain(model, initial, image, target, context, methods=None):
    """One image's maps for class `target` by every method: ({method: trained map}, {method:
    initial-weights map}, {method: facts with the sanity check}); `initial` None (an imported
    model: no initial weights) leaves the check undefined, saying why."""
    trained_maps, initial_maps, facts = {}, {}, {}
    for method, compute in (methods or METHODS).items():
        found = compute(model, image, target, context)
        if found is None:
            continue
        trained_maps[method], facts[method] = found
        if initial is None:
            facts[method].update(rank_correlation=None, passes=None, sanity="no initial weights: an imported model")
            continue
        initial_maps[method] = compute(initial, image, target, context)[0]
        facts[method].update(sanity_check(trained_maps[method], initial_maps[method]))
    return trained_maps, initial_maps, facts


def sanity_summary(cards):
    """Per method, over a model's runs and subjects: the maps checked, those flagged, the mean rank
    correlation with the initial weights' map and (integrated gradients) the largest completeness gap."""
    found = {}
    for card in cards:
        for subject in card["subjects"].values():
            for method, facts in subject["methods"].items():
                entry = found.setdefault(method, {"maps": 0, "checked": 0, "flagged": 0, "rhos": [], "gaps": []})
                entry["maps"] += 1
                entry["checked"] += facts["passes"] is not None
                entry["flagged"] += facts["passes"] is False
                if facts["rank_correlation"] is not None:
                    entry["rhos"].append(facts["rank_correlation"])
                if facts.get("completeness_gap") is not None:
                    entry["gaps"].append(facts["completeness_gap"])
    return {method: {"maps": e["maps"], "checked": e["checked"], "flagged": e["flagged"],
                     "mean_rank_correlation": float(np.mean(e["rhos"])) if e["rhos"] else None,
                     **({"largest_completeness_gap": float(max(e["gaps"]))} if e["gaps"] else {})}
            for method, e in found.items()}
