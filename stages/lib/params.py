"""params.yaml: loaded strictly (no duplicate or unknown keys) and validated before any work.

params.yaml itself holds every default; this module holds what each value may be.
"""

import argparse
import re
from pathlib import Path, PurePosixPath

import yaml

from lib.cifar import CLASSES, SPLITS
from lib.keys import PAIR
from lib.model import ARCHITECTURES, ROLES
from lib.stage import StageError

PARAMS_FILE = "params.yaml"
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
IMAGES_DIR = "images"  # subjects' image files live here (the carve stage depends on the folder)
IMPORTED_DIR = "imported"  # imported .keras files live here (likewise)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
MD5 = re.compile(r"^[0-9a-f]{32}$")
MIN_TRAIN_SIZE = 10
PRECISIONS = ("auto", "float32", "bfloat16")
EPOCH_NAMES = ("best", "last")
OBJECTIVES = ("centre", "mean")  # features.objective: where a channel is excited (lib/features.py)
MAX_JITTER = 8  # features.jitter, pixels: the image is mirrored into a padding that must stay below its side


class ParamError(StageError):
    """An invalid param: names the key, the value and what is allowed."""

    def __init__(self, key, value, allowed):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        super().__init__(f"{PARAMS_FILE}: {key or '(top level)'} = {shown}: {allowed}")
        self.key = key


def whole(minimum):
    """A checker for whole numbers >= minimum (booleans refused)."""

    def check(key, value):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ParamError(key, value, f"must be a whole number >= {minimum}")
        return value

    return check


def bounded(minimum, maximum):
    """A checker for whole numbers from minimum to maximum."""

    def check(key, value):
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            raise ParamError(key, value, f"must be a whole number from {minimum} to {maximum}")
        return value

    return check


def fraction(key, value):
    """A number from 0 up to (not including) 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ParamError(key, value, "must be a number from 0 up to 1 (1 excluded)")
    return value


def boolean(key, value):
    if not isinstance(value, bool):
        raise ParamError(key, value, "must be true or false")
    return value


def md5(key, value):
    if not isinstance(value, str) or not MD5.match(value):
        raise ParamError(key, value, "must be an md5 checksum: 32 lowercase hex digits")
    return value


def source(key, value):
    """A URL (http://, https://, file://) or a local path."""
    if not isinstance(value, str) or not value.strip():
        raise ParamError(key, value, "must be an http(s):// or file:// URL or a local path")
    scheme = value.split("://", 1)[0].lower() if "://" in value else ""
    if scheme not in ("", "http", "https", "file"):
        raise ParamError(key, value, "must be an http(s):// or file:// URL or a local path")
    return value


def artifact_name(model):
    """A model's name as DVC allows artifacts to be named (lower case, dashes)."""
    return model.lower().replace("_", "-")


def named(what, value, key, check):
    """A non-empty mapping of names (file and stage names) to settings, each checked by `check`; two
    names that differ only in case (or, for models, in _ against -: their DVC artifact names) are
    refused, as their output folders are one folder on macOS and Windows."""
    if not isinstance(value, dict) or not value:
        raise ParamError(key, value, f"must map at least one {what} name to its settings")
    checked, folded = {}, {}
    for name, settings in value.items():
        if not isinstance(name, str) or not NAME.match(name):
            raise ParamError(f"{key}.{name}", settings,
                             f"{what} names must start with a letter and use only letters, digits, _ and -")
        if what == "model" and PAIR in name:
            raise ParamError(f"{key}.{name}", settings, f"model names may not contain {PAIR!r} (it names pairs)")
        twin = folded.setdefault(artifact_name(name) if what == "model" else name.casefold(), name)
        if twin != name:
            raise ParamError(f"{key}.{name}", settings, f"differs from {key}.{twin} only in case" + (
                " or in _ against -: the two would share one DVC artifact name and one output folder on macOS "
                "and Windows" if what == "model" else ": the two would write one folder on macOS and Windows"))
        checked[name] = check(f"{key}.{name}", settings)
    return checked


def one_of(key, value, forms):
    """Check a mapping against the first schema in `forms` whose required key it has."""
    if not isinstance(value, dict):
        raise ParamError(key, value, f"must be a mapping with {' or '.join(forms)}")
    for required, schema in forms.items():
        if required in value:
            return section(key, value, schema)
    raise ParamError(key, value, f"needs {' or '.join(forms)}")


def models(key, value):
    """Model name -> {train_size, architecture} (trained here) or {keras, roles} (trained elsewhere)."""
    return named("model", value, key, lambda k, v: one_of(k, v, {"train_size": TRAINED, "keras": IMPORTED}))


def subjects(key, value):
    """Subject name -> {split, index, label} (an image of the archive) or {file, label} (an image file)."""
    return named("subject", value, key, lambda k, v: one_of(k, v, {"split": SPLIT_SUBJECT, "file": FILE_SUBJECT}))


def path_in(folder, suffixes):
    """A checker for a relative path to a file inside `folder` with one of `suffixes`."""

    def check(key, value):
        path = PurePosixPath(value) if isinstance(value, str) else None
        if (path is None or path.is_absolute() or ".." in path.parts or path.parts[:1] != (folder,)
                or len(path.parts) < 2 or path.suffix.lower() not in suffixes):
            raise ParamError(key, value, f"must be a {'/'.join(suffixes)} file under {folder}/ (a path relative to "
                             f"the project, e.g. {folder}/name{suffixes[0]}): the pipeline tracks that folder")
        return value

    return check


def project_file(key, value, root="."):
    """The file a checked path param names (see path_in), refused where it or any folder on its way
    is a symbolic link or it resolves outside its folder: results depend only on files git tracks."""
    parts = PurePosixPath(value).parts
    for depth in range(1, len(parts) + 1):
        if Path(root, *parts[:depth]).is_symlink():
            raise ParamError(key, value, f"{'/'.join(parts[:depth])} is a symbolic link; copy the file into "
                             f"{parts[0]}/ instead (results must depend only on files in the project)")
    path = Path(root, *parts)
    if not path.resolve().is_relative_to(Path(root, parts[0]).resolve()):
        raise ParamError(key, value, f"resolves outside {parts[0]}/")
    if not path.is_file():
        raise ParamError(key, value, "no such file")
    return path


def label(key, value):
    if value not in CLASSES:
        raise ParamError(key, value, f"must be a CIFAR-10 class: {', '.join(CLASSES)}")
    return value


def architecture_name(key, value):
    if value not in ARCHITECTURES:
        raise ParamError(key, value, f"must be one of the architectures in lib/model.py: {', '.join(ARCHITECTURES)}")
    return value


def roles(key, value):
    """{role: layer name} for some of ROLES."""
    if not isinstance(value, dict):
        raise ParamError(key, value, f"must map roles ({', '.join(ROLES)}) to layer names")
    for role, layer in value.items():
        if role not in ROLES:
            raise ParamError(f"{key}.{role}", layer, f"unknown role; roles: {', '.join(ROLES)}")
        if not isinstance(layer, str) or not layer:
            raise ParamError(f"{key}.{role}", layer, "must be a layer name")
    return value


def positive_number(key, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise ParamError(key, value, "must be a positive number")
    return float(value)


def choice(*allowed):
    """A checker for one of the `allowed` strings."""

    def check(key, value):
        if value not in allowed:
            raise ParamError(key, value, f"must be one of {', '.join(allowed)}")
        return value

    return check


def seeds(key, value):
    """A non-empty list of distinct whole numbers >= 0."""
    if (not isinstance(value, list) or not value or len(set(map(repr, value))) != len(value)
            or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in value)):
        raise ParamError(key, value, "must be a non-empty list of distinct whole numbers >= 0")
    return value


def epochs(key, value):
    """A non-empty list of distinct epochs: whole numbers >= 0 (0: the initial weights), "best", "last"."""
    if (not isinstance(value, list) or not value or len(set(map(repr, value))) != len(value)
            or any(v not in EPOCH_NAMES and (isinstance(v, bool) or not isinstance(v, int) or v < 0) for v in value)):
        raise ParamError(key, value, "must be a non-empty list of distinct epochs: whole numbers >= 0 "
                         f"(0: the initial weights) or {' or '.join(map(repr, EPOCH_NAMES))}")
    return value


TRAINED = {"train_size": whole(MIN_TRAIN_SIZE), "architecture": (architecture_name, "reference")}
IMPORTED = {"keras": path_in(IMPORTED_DIR, (".keras",)), "roles": (roles, {})}
SPLIT_SUBJECT = {"split": choice(*SPLITS), "index": whole(0), "label": (label, None)}
FILE_SUBJECT = {"file": path_in(IMAGES_DIR, IMAGE_SUFFIXES), "label": (label, None)}

SCHEMA = {
    "data": {"url": source, "md5": md5, "grayscale": boolean},
    "subjects": subjects,
    "split": {"seed": whole(0), "val_size": whole(1)},
    "models": models,
    "train": {"learning_rate": positive_number, "batch_size": whole(1), "max_epochs": whole(1),
              "patience": whole(1), "seeds": seeds, "precision": choice(*PRECISIONS), "threads": (whole(0), 0)},
    "analysis": {"probe_size": whole(MIN_TRAIN_SIZE), "bins": whole(2), "resamples": whole(100),
                 "seed": whole(0)},
    "dynamics": {"epochs": epochs},
    "ablation": {"orders": whole(1), "seed": whole(0)},
    "channels": {"top": whole(1), "tally": whole(1)},
    "features": {"objective": choice(*OBJECTIVES), "steps": whole(1), "learning_rate": positive_number,
                 "decay": fraction, "jitter": bounded(0, MAX_JITTER), "seed": whole(0)},
    "attribution": {"steps": whole(2), "tolerance": positive_number, "max_steps": whole(2)},
    "explore": {"probe_images": whole(0)},
}


def section(key, value, schema):
    """Check a mapping against a schema: every key known, none missing but those given as
    (check, default) in the schema, which take their default."""
    if not isinstance(value, dict):
        raise ParamError(key, value, f"must be a mapping with keys {', '.join(schema)}")
    for name in value:
        if name not in schema:
            raise ParamError(f"{key}.{name}" if key else name, value[name],
                             f"unknown key; allowed here: {', '.join(schema)}")
    checked = {}
    for name, check in schema.items():
        path = f"{key}.{name}" if key else name
        if isinstance(check, tuple):
            check, default = check
            if name not in value:
                checked[name] = default
                continue
        if name not in value:
            raise ParamError(path, None, "missing")
        checked[name] = check(path, value[name]) if callable(check) else section(path, value[name], check)
    return checked


class _StrictLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key given twice in one mapping."""


def _mapping(loader, node, deep=False):
    keys = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in keys:
            raise StageError(f"{PARAMS_FILE}, line {key_node.start_mark.line + 1}: key {key!r} given twice")
        keys.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def validate(raw):
    """Return the params checked against SCHEMA, or raise ParamError."""
    params = section("", raw, SCHEMA)
    top, tally = params["channels"]["top"], params["channels"]["tally"]
    if top > tally:
        raise ParamError("channels.top", top, f"must be at most channels.tally ({tally})")
    steps, most = params["attribution"]["steps"], params["attribution"]["max_steps"]
    if steps > most:
        raise ParamError("attribution.steps", steps, f"must be at most attribution.max_steps ({most})")
    shown, drawn = params["explore"]["probe_images"], params["analysis"]["probe_size"]
    if shown > drawn:
        raise ParamError("explore.probe_images", shown, f"must be at most analysis.probe_size ({drawn})")
    return params


def stage_parser(description, training_run=False):
    """A stage's argument parser: --params, and for one training run --name and --seed."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--params", default=PARAMS_FILE, help="the params file (default: %(default)s)")
    if training_run:
        parser.add_argument("--name", required=True, help="the model's entry in params models")
        parser.add_argument("--seed", required=True, type=int, help="one of params train.seeds")
    return parser


def check_run(params, model, seed):
    """Refuse a (model, seed) training run that params does not list."""
    if model not in params["models"]:
        raise ParamError("models", sorted(params["models"]), f"has no model {model!r}")
    if seed not in params["train"]["seeds"]:
        raise ParamError("train.seeds", params["train"]["seeds"], f"does not list seed {seed}")


def load(path=PARAMS_FILE):
    """Read and validate params.yaml."""
    try:
        raw = yaml.load(Path(path).read_text(), Loader=_StrictLoader)
    except OSError as error:
        raise StageError(f"cannot read {path}: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise StageError(f"{path} is not valid YAML: {' '.join(str(error).split())}") from error
    return validate(raw)
