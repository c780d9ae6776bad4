"""The names of the files inside the stages' output folders, and of the members inside their .npz
files, in one place: the stage that writes a file and the stages that read it take its name from
here (the folders themselves are named in dvc.yaml, which hands them to the stages)."""

from lib.model import MAPS

LAYER_CARD = "layers.json"  # extract: the layers in order, their shapes and roles
REPLAY_CARD = "epochs.json"  # replay: per replayed epoch, the probe means, CKA and the subjects
REPLAY_MEASURES = "probe.npz"  # replay: per probe image, every measure of every replayed epoch
ABLATION_CARD = "ablation.json"  # ablate: the layers ablated, their channels, the counts zeroed
ABLATION_OUTCOMES = "outcomes.npz"  # ablate: per layer ("<layer>/<what>"), the probe images' outcomes
EXAMPLES_CARD = "channels.json"  # visualize: the layers, their receptive fields, constant channels
EXAMPLES = "examples.npz"  # visualize: per layer ("<layer>/<what>"), each channel's top test images
FEATURES = "features.npz"  # visualize: per layer ("<layer>/<what>"), each channel's optimised input
ATTRIBUTION_CARD = "attributions.json"  # attribute: per subject, the class explained and each map's checks
ATTRIBUTION_MAPS = "maps.npz"  # attribute: "<subject>/<method>" and "<subject>/<method>/initial" maps

ANALYSIS_PLOTS = {  # analyze: plot data, by what it holds
    "subject_layers": "subject_layers.csv", "probe_layers": "probe_layers.csv", "js_layers": "js_layers.csv",
    "cka": "cka.csv", "distribution_last_hidden": "distribution_last_hidden.csv", "subject_pixels": "subject_pixels.csv",
    "softmax": "softmax.csv", "training": "training_curves.csv", "by_size": "by_size.csv",
    "cka_to_largest": "cka_to_largest.csv"}
CKA_FIGURE, SWEEP_FIGURE = "cka.png", "size_sweep.png"  # analyze
SUBJECT_FIGURES = "subjects/{name}"  # analyze: the folder of one subject's figures
DYNAMICS_PLOTS = {"measures": "measures.csv", "plane": "plane.csv", "cka_to_best": "cka_to_best.csv"}  # trace
DYNAMICS_FIGURE = "dynamics.png"  # trace
RELIANCE_PLOTS = {"curves": "curves.csv", "channels": "channels.csv", "classes": "classes.csv"}  # score
CHANNEL_PLOTS = {"specificity": "specificity.csv"}  # tally

FEATURE_MAPS = "feature_maps_{role}.png"  # analyze, per subject: the article's figs. 2-8
DISTRIBUTION, PIXELS, SOFTMAX = "distribution_last_hidden.png", "pixels.png", "softmax.png"
SUBJECT_FIGURE_FILES = {  # each subject's figures and what each shows, in the report's order
    **{FEATURE_MAPS.format(role=role): f"{role.replace('_', ' ')} layer's feature maps" for role in MAPS},
    DISTRIBUTION: "last hidden layer's values", PIXELS: "pixel values", SOFTMAX: "softmax output"}


def images_file(images):
    """extract: one run's activations of every layer for `images` ("subjects" or "probe")."""
    return f"{images}.npz"


def member(*parts):
    """The name of an .npz member: its parts joined, "<layer>/<what>" (attribute: "<subject>/<method>[/initial]")."""
    return "/".join(parts)


def members_of(owner, arrays):
    """{member(owner, what): array} of {what: array}: one owner's members of an .npz."""
    return {member(owner, what): value for what, value in arrays.items()}


def by_owner(arrays):
    """{owner: {what: array}} of an .npz's members ("<owner>/<what>", the owner possibly holding "/")."""
    found = {}
    for name, value in arrays.items():
        owner, what = name.rsplit("/", 1)
        found.setdefault(owner, {})[what] = value
    return found

