"""The loss networks: the shipped SqueezeNet weights load and give the documented features;
the tiny stand-in is deterministic; layer choices and preprocessing are as documented."""

from __future__ import annotations

import numpy as np
import pytest

from practicum import images as image_io
from practicum import loss_networks


@pytest.fixture(scope="module")
def trained():
    return loss_networks.squeezenet()


def test_the_shipped_weights_are_the_documented_file():
    assert loss_networks.SQUEEZENET_WEIGHTS.stat().st_size == 3_032_184
    assert loss_networks.sha256(loss_networks.SQUEEZENET_WEIGHTS) == loss_networks.SQUEEZENET_SHA256
    notice = (loss_networks.WEIGHTS_DIR / "NOTICE.md").read_text()
    assert "BSD" in notice and "Copyright (c) 2016 Refikcanmalli" in notice


def test_squeezenet_gives_fire9_13x13x512_for_224x224_with_722496_parameters(trained):
    assert trained.count_params() == 722_496
    assert tuple(trained(np.zeros((1, 224, 224, 3), np.float32)).shape) == (1, 13, 13, 512)


def mean_fire9(model, name: str) -> tuple[np.ndarray, float]:
    path = image_io.embedded(name)
    image = image_io.load_image(path, size=(224, 224))
    features = np.asarray(model(loss_networks.caffe_preprocess(image[np.newaxis])))[0]
    return features.reshape(-1, features.shape[-1]).mean(axis=0), float((features > 0).mean())


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_trained_features_tell_a_cat_from_a_coffee_cup_random_ones_do_not(trained):
    cat, cat_active = mean_fire9(trained, "cat_chelsea")
    cup, cup_active = mean_fire9(trained, "coffee_cup")
    random = loss_networks.squeezenet(weights=None)
    random_cat, random_active = mean_fire9(random, "cat_chelsea")
    random_cup, _ = mean_fire9(random, "coffee_cup")
    trained_cosine, random_cosine = cosine(cat, cup), cosine(random_cat, random_cup)
    # README "Checked": 0.40 and 7.6% active (trained) against 0.998 and 52% (random)
    assert trained_cosine < 0.6 and random_cosine > 0.95, (trained_cosine, random_cosine)
    assert cat_active < 0.2 and cup_active < 0.2 and random_active > 0.3


def test_caffe_preprocessing_matches_keras_applications():
    import keras

    image = np.random.default_rng(0).uniform(0, 1, (2, 5, 6, 3)).astype(np.float32)
    expected = keras.applications.imagenet_utils.preprocess_input(image * 255.0, mode="caffe")
    np.testing.assert_allclose(loss_networks.caffe_preprocess(image), expected, atol=1e-3)


def test_extractors_have_the_documented_layers_and_the_tiny_one_is_deterministic():
    extractor = loss_networks.get_extractor("squeezenet")
    assert extractor.content_layers == ("fire2",)
    assert extractor.style_layers == ("conv1", "fire3", "fire5", "fire7")
    features = extractor(np.zeros((1, 64, 64, 3), np.float32))
    assert [f.shape[-1] for f in features["style"]] == [64, 128, 256, 384]
    tiny = loss_networks.feature_extractor("tiny")
    again = loss_networks.feature_extractor("tiny")
    image = np.random.default_rng(1).uniform(0, 1, (1, 12, 8, 3)).astype(np.float32)
    for a, b in zip(tiny(image)["style"], again(image)["style"]):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert loss_networks.LAYERS["vgg19"]["content"] == ("block5_conv2",)


def test_vgg19_falls_back_to_squeezenet_offline(monkeypatch, capsys):
    monkeypatch.setenv("PRACTICUM_OFFLINE", "1")
    monkeypatch.setattr(loss_networks, "_vgg19_cached", lambda: False)
    extractor = loss_networks.feature_extractor("vgg19")
    assert extractor.network == "squeezenet"
    assert "using squeezenet instead" in capsys.readouterr().out
    with pytest.raises(ValueError, match="network"):
        loss_networks.feature_extractor("resnet")
