"""Subjects: single images studied layer by layer (the article's frog is one), named in params.

A subject is an image of the archive, `{split: train|test, index: i}`, or a PNG or JPEG file under
images/, `{file: images/cat.png}`; `label` is optional for a file and checked against the archive
for a split image. Training images named as subjects are held out of every training subset.

An image file becomes a 32x32 CIFAR-like picture by one rule: its EXIF orientation applied,
transparency laid over white, the central square (as wide as the shorter side) cut out, then
resized to 32x32 by area averaging (PIL's BOX filter). Only PNG and JPEG decoders are used, and a
file over MAX_PIXELS pixels (a decompression bomb) is refused before it is decoded.
"""

import warnings
from pathlib import Path
import numpy as np

from lib.cifar import CHANNELS, CLASSES, NO_LABEL, SIDE, Images
from lib.params import ParamError, project_file

MAX_PIXELS = 40_000_000
MAX_FILE_BYTES = 50 << 20


def held_out(subjects):
    """The training-split indices that subjects name (to keep out of every subset)."""
    return sorted({s["index"] for s in subjects.values() if s.get("split") == "train"})


def check_split_subject(key, subject, split):
    """Check a subject's index against its split and its label against the image's; return the label."""
    index = subject["index"]
    if index >= len(split.labels):
        raise ParamError(f"{key}.index", index, f"must be below {len(split.labels)}, the number of "
                         f"{subject['split']} images")
    actual = CLASSES[split.labels[index]]
    if subject["label"] is not None and subject["label"] != actual:
        raise ParamError(f"{key}.label", subject["label"], f"{subject['split']} image {index} is labelled {actual}")
    return split.labels[index]


def picture(path, key):
    """A PNG or JPEG file as a (32, 32, 3) uint8 array, by the module's rule; one-line errors."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise ParamError(key, str(path), "no such file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ParamError(key, str(path), f"is {path.stat().st_size} bytes, more than the {MAX_FILE_BYTES} "
                         "an image may be")
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=["PNG", "JPEG"]) as image:
                image = ImageOps.exif_transpose(image)
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ParamError(key, str(path), f"has more than the {MAX_PIXELS} pixels an image may have "
                         "(a decompression bomb?); nothing was decoded") from error
    except UnidentifiedImageError as error:
        raise ParamError(key, str(path), "is not a readable PNG or JPEG image") from error
    except (OSError, SyntaxError, ValueError) as error:
        raise ParamError(key, str(path), f"is not a readable PNG or JPEG image ({type(error).__name__}: {error})") \
            from error
    image = eight_bit(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        background = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(background, image.convert("RGBA"))
    image = image.convert("RGB")
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    square = image.crop((left, top, left + side, top + side))
    return np.asarray(square.resize((SIDE, SIDE), Image.Resampling.BOX), dtype=np.uint8)


def eight_bit(image):
    """A 16-bit grayscale image (PIL modes I;16* and I, from a 16-bit PNG) scaled to 8 bits by its bit
    depth (65535 -> 255), where PIL's own conversion would clip every value above 255 to white."""
    from PIL import Image

    if image.mode not in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        return image
    scaled = np.rint(np.asarray(image, np.float64) * (255 / 65535))
    return Image.fromarray(np.clip(scaled, 0, 255).astype(np.uint8), mode="L")


def gather(subjects, cifar, root="."):
    """Every subject's picture and label, in params order."""
    images, labels = [], []
    for name, subject in subjects.items():
        key = f"subjects.{name}"
        if "split" in subject:
            split = getattr(cifar, subject["split"])
            labels.append(check_split_subject(key, subject, split))
            images.append(split.images[subject["index"]])
        else:
            images.append(picture(project_file(f"{key}.file", subject["file"], root), f"{key}.file"))
            labels.append(NO_LABEL if subject["label"] is None else CLASSES.index(subject["label"]))
    stacked = np.stack(images).reshape(len(images), SIDE, SIDE, CHANNELS)
    return Images(stacked, np.array(labels, np.int16), list(subjects))
