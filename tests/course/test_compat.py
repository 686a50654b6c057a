"""practicum.compat says what the installed Keras really does (run on each Keras by tox)."""

from __future__ import annotations

import importlib
import io
import tarfile

import keras
import pytest

from practicum import compat


def test_the_version_flag_is_the_imported_keras():
    major_minor = tuple(int(part) for part in keras.__version__.split(".")[:2])
    assert compat.KERAS_VERSION == major_minor
    assert compat.KERAS_3 == (major_minor[0] >= 3)


class Stop(Exception):
    pass


def test_the_cifar_cache_layout_is_where_keras_own_loader_puts_it(tmp_path, monkeypatch):
    """Keras's own ``cifar10.load_data()`` downloads a small stand-in archive (the official
    layout: one ``cifar-10-batches-py/`` folder) into an empty cache, through Keras's own
    ``get_file``; the archive and the folder must be where compat says."""
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = b"a stand-in for the CIFAR-10 batches\n"
        info = tarfile.TarInfo("cifar-10-batches-py/readme.html")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    cache = tmp_path / "keras-cache"
    cache.mkdir()  # else Keras falls back to /tmp/.keras
    module = importlib.import_module("keras.src.datasets.cifar10")
    real_get_file = module.get_file

    def get_file(*args, **kwargs):
        kwargs.update(origin=archive.as_uri(), cache_dir=str(cache))
        kwargs.pop("file_hash", None)
        real_get_file(*args, **kwargs)
        raise Stop

    monkeypatch.setattr(module, "get_file", get_file)
    with pytest.raises(Stop):
        keras.datasets.cifar10.load_data()
    assert (cache / "datasets" / compat.CIFAR_CACHE_ARCHIVE).is_file()
    assert (cache / "datasets" / compat.CIFAR_CACHE_DIR / "readme.html").is_file()
