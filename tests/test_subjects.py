import numpy as np
import pytest
from PIL import Image

import synthetic
from lib.cifar import NO_LABEL, Cifar, Images
from lib.params import ParamError
from lib.subjects import gather, held_out, picture

rng = np.random.default_rng(3)


def split(n, labels):
    return Images(rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), np.asarray(labels, np.uint8))


CIFAR = Cifar(train=split(10, [6, 1, 2, 3, 4, 5, 6, 7, 8, 9]), test=split(5, [0, 1, 2, 3, 4]))


def test_a_wide_picture_is_cropped_to_its_central_square_then_area_averaged(tmp_path):
    pixels = np.zeros((64, 128, 3), np.uint8)
    pixels[:, 32:96] = 200  # the central square
    pixels[:32, 32:64, 0] = 100  # its top-left quarter, red halved
    Image.fromarray(pixels).save(tmp_path / "wide.png")
    image = picture(tmp_path / "wide.png", "subjects.x.file")
    assert image.shape == (32, 32, 3) and image.dtype == np.uint8
    assert (image[16:, :] == 200).all() and (image[:16, 16:] == 200).all()
    assert (image[:16, :16, 0] == 100).all() and (image[:16, :16, 1:] == 200).all()


def test_transparency_lies_over_white_and_gray_or_jpeg_files_become_rgb(tmp_path):
    clear = np.zeros((40, 40, 4), np.uint8)
    Image.fromarray(clear).save(tmp_path / "clear.png")
    assert (picture(tmp_path / "clear.png", "k") == 255).all()
    Image.fromarray(np.full((50, 50), 77, np.uint8)).save(tmp_path / "gray.jpg", quality=95)
    image = picture(tmp_path / "gray.jpg", "k")
    assert image.shape == (32, 32, 3) and np.abs(image.astype(int) - 77).max() <= 2


def test_exif_orientation_is_applied(tmp_path):
    pixels = np.zeros((32, 64, 3), np.uint8)
    pixels[:, :32] = 255  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    Image.fromarray(pixels).save(tmp_path / "turned.jpg", exif=exif, quality=95)
    image = picture(tmp_path / "turned.jpg", "k")  # displayed: 64 high, 32 wide, top half white
    assert image[:8].mean() > 240 and image[-8:].mean() < 15


@pytest.mark.parametrize("level, expected", [(0, 0), (257 * 100, 100), (32768, 128), (65535, 255)])
def test_a_16_bit_grayscale_png_is_scaled_by_its_bit_depth(tmp_path, level, expected):
    Image.fromarray(np.full((40, 40), level, np.uint16)).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode.startswith("I")  # PIL would clip it to 8 bits: mid-grey as white
    assert (picture(tmp_path / "deep.png", "k") == expected).all()


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "absent.png", "no such file"),
    (lambda d: written(d / "text.png", b"hello, not an image"), "is not a readable PNG or JPEG image"),
    (lambda d: written(d / "cut.png", png_bytes()[:60]), "is not a readable PNG or JPEG image"),
    (lambda d: gif(d / "anim.png"), "is not a readable PNG or JPEG image"),
    (lambda d: bomb(d / "bomb.png"), "more than the 40000000 pixels an image may have"),
])
def test_a_bad_image_file_is_one_line_naming_the_key(tmp_path, make, message):
    with pytest.raises(ParamError, match=message) as error:
        picture(make(tmp_path), "subjects.x.file")
    assert error.value.key == "subjects.x.file" and "\n" not in str(error.value)


def written(path, data):
    path.write_bytes(data)
    return path


def png_bytes():
    import io

    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def gif(path):
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(path, format="GIF")
    return path


def bomb(path):
    """A tiny file that would decode to 100 million pixels."""
    Image.new("1", (10_000, 10_000)).save(path, format="PNG")
    assert path.stat().st_size < 100_000
    return path


def test_subjects_from_both_splits_and_a_file_in_params_order(tmp_path):
    (tmp_path / "images").mkdir()
    Image.fromarray(np.full((32, 32, 3), 9, np.uint8)).save(tmp_path / "images" / "mine.png")
    subjects = {"frog": {"split": "train", "index": 0, "label": "frog"}, "mine": {"file": "images/mine.png",
                                                                                  "label": None},
                "car": {"split": "test", "index": 1, "label": None}, "cat": {"file": "images/mine.png", "label": "cat"}}
    found = gather(subjects, CIFAR, root=tmp_path)
    assert found.names == ["frog", "mine", "car", "cat"]
    assert found.labels.tolist() == [6, NO_LABEL, 1, 3]
    assert np.array_equal(found.images[0], CIFAR.train.images[0]) and np.array_equal(found.images[2], CIFAR.test.images[1])
    assert (found.images[1] == 9).all()
    assert held_out(subjects) == [0]


@pytest.mark.parametrize("subject, key, message", [
    ({"split": "train", "index": 10, "label": None}, "subjects.s.index", "must be below 10, the number of train images"),
    ({"split": "test", "index": 2, "label": "frog"}, "subjects.s.label", "test image 2 is labelled bird"),
])
def test_a_split_subject_must_exist_and_match_its_label(subject, key, message):
    with pytest.raises(ParamError, match=message) as error:
        gather({"s": subject}, CIFAR)
    assert error.value.key == key


def test_the_synthetic_archive_keeps_its_frog_first():
    assert synthetic.FROG == 6
