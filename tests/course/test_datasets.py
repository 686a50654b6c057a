"""Tests of the data set loaders (``practicum.datasets``): every source, every layout.

Files in the official formats (IDX gz, ``mnist.npz``, ``cifar-10-batches-py`` pickles
and their ``.tar.gz``) are built in temporary folders from the committed samples, and
every source must give exactly the sample's arrays. Offline: the network is blocked and
downloads come from ``file://`` URLs.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import shutil
import socket
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from practicum.datasets import (
    DatasetError,
    last_source,
    load_cifar10,
    load_dataset,
    load_fashion_mnist,
    load_mnist,
)
from practicum.datasets.catalog import (
    CATALOG,
    CIFAR10,
    CIFAR_ARCHIVE_NAMES,
    CIFAR_BATCHES,
    CIFAR_DOWNLOAD_ARCHIVE,
    CIFAR_DOWNLOAD_DIR,
    FASHION_FILES,
    Checksum,
)
from practicum.datasets.download import ProgressBar, download_file
from practicum.datasets.errors import ChecksumError, DownloadError
from practicum.datasets.formats import (
    read_cifar_dir,
    read_idx_gz,
    read_jpeg_npz,
    select_jpegs,
    write_cifar_archive,
    write_cifar_dir,
    write_idx_gz,
    write_jpeg_npz,
    write_npz,
)
from practicum.datasets.make_samples import DEFAULT_SHARED, SIZES, stratified_indices
from practicum.datasets.sources import SAMPLES_DIR

OUR_FOLDER = SAMPLES_DIR.parent  # the repository's datasets/ folder
REPO_ROOT = OUR_FOLDER.parent
NAMES = ("mnist", "fashion_mnist", "cifar10")
SHAPES = {"mnist": ((28, 28), ()), "fashion_mnist": ((28, 28), ()), "cifar10": ((32, 32, 3), (1,))}


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No network, no real cache, no PRACTICUM_DATA_DIR: each test sets what it needs."""

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("a dataset test tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setenv("PRACTICUM_OFFLINE", "1")
    monkeypatch.delenv("PRACTICUM_DATA_DIR", raising=False)
    keras_home = tmp_path / "keras-home"
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    return keras_home / "datasets"


@pytest.fixture(scope="session")
def samples() -> dict[str, tuple]:
    """The committed samples, as the loaders return them."""
    return {name: load_dataset(name, "sample").data for name in NAMES}


def write_fashion(folder: Path, data: tuple) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for (images, labels), split in zip(data, ("train", "test"), strict=True):
        images_name, labels_name = FASHION_FILES[split]
        write_idx_gz(folder / images_name, images)
        write_idx_gz(folder / labels_name, labels)
    return folder


@pytest.fixture(scope="session")
def official(tmp_path_factory: pytest.TempPathFactory, samples: dict) -> Path:
    """A folder with each sample in its official format: a Keras 2 cache's layout, plus
    the CIFAR-10 archive under its official name."""
    root = tmp_path_factory.mktemp("official")
    write_npz(root / "mnist.npz", samples["mnist"])
    write_fashion(root / "fashion-mnist", samples["fashion_mnist"])
    write_cifar_dir(root / "cifar-10-batches-py", samples["cifar10"], CIFAR10.class_names)
    write_cifar_archive(root / "cifar-10-python.tar.gz", root / "cifar-10-batches-py")
    return root


def place(official: Path, root: Path, name: str, layout: str = "keras") -> Path:
    """Copy one data set's official files into ``root`` in a given layout; return the path
    the loader should report."""
    root.mkdir(parents=True, exist_ok=True)
    if name == "mnist":
        return Path(shutil.copy(official / "mnist.npz", root / "mnist.npz"))
    if name == "fashion_mnist":
        return Path(shutil.copytree(official / "fashion-mnist", root / "fashion-mnist"))
    batches = official / "cifar-10-batches-py"
    if layout in ("keras", "keras3"):
        target = root / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    elif layout == "keras3-early":
        target = root / "cifar-10-batches-py" / "cifar-10-batches-py"
    elif layout == "keras2":
        target = root / "cifar-10-batches-py"
    elif layout == "flat":
        shutil.copytree(batches, root, dirs_exist_ok=True)
        return root
    else:  # an archive name
        return Path(shutil.copy(official / "cifar-10-python.tar.gz", root / layout))
    return Path(shutil.copytree(batches, target))


def assert_same(got: tuple, want: tuple) -> None:
    for g, w in zip(
        (got[0][0], got[0][1], got[1][0], got[1][1]),
        (want[0][0], want[0][1], want[1][0], want[1][1]),
        strict=True,
    ):
        assert g.dtype == w.dtype and g.shape == w.shape
        assert np.array_equal(g, w)
        assert g.flags.c_contiguous and g.flags.writeable


def sha256(path: Path, gunzip: bool = False) -> str:
    data = gzip.decompress(path.read_bytes()) if gunzip else path.read_bytes()
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="session")
def mirror(official: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    """A download server on disk: the remote file names under one ``file://`` folder, and
    the checksums of these files (the official ones cannot match sample-built files)."""
    root = tmp_path_factory.mktemp("mirror")
    shutil.copy(official / "mnist.npz", root / "mnist.npz")
    for name in (*FASHION_FILES["train"], *FASHION_FILES["test"]):
        shutil.copy(official / "fashion-mnist" / name, root / name)
    shutil.copy(official / "cifar-10-python.tar.gz", root / "cifar-10-python.tar.gz")
    checksums = {}
    for spec in CATALOG.values():
        for name, official_sum in spec.remote_files.items():
            digest = sha256(root / name, gunzip=official_sum.of_gunzipped)
            checksums[name] = Checksum("sha256", digest, official_sum.of_gunzipped)
    return root.as_uri() + "/", checksums


# --- the sample and the public API --------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_sample_has_keras_shapes_dtypes_and_balanced_classes(name: str, samples: dict) -> None:
    (x_train, y_train), (x_test, y_test) = samples[name]
    image_shape, label_shape = SHAPES[name]
    n_train, n_test = SIZES[name]
    assert x_train.shape == (n_train, *image_shape) and x_test.shape == (n_test, *image_shape)
    assert y_train.shape == (n_train, *label_shape) and y_test.shape == (n_test, *label_shape)
    for array in (x_train, y_train, x_test, y_test):
        assert array.dtype == np.uint8
    assert np.bincount(y_train.ravel()).tolist() == [n_train // 10] * 10
    assert np.bincount(y_test.ravel()).tolist() == [n_test // 10] * 10
    assert 0 < x_train.mean() < 255 and x_train.max() > 200  # real images, full range


def test_offline_auto_uses_the_sample_and_says_so_in_one_line(
    samples: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    for loader, name in (
        (load_mnist, "mnist"),
        (load_fashion_mnist, "fashion_mnist"),
        (load_cifar10, "cifar10"),
    ):
        assert_same(loader(), samples[name])
        assert last_source(name) == "sample"
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1
        assert "SAMPLE" in lines[0] and "PRACTICUM_DATA_DIR" in lines[0]
        assert "PRACTICUM_OFFLINE" in lines[0]


def test_sample_files_are_small() -> None:
    sizes = {path.name: path.stat().st_size for path in SAMPLES_DIR.glob("*.npz")}
    assert set(sizes) == {"mnist.npz", "fashion_mnist.npz", "cifar10.npz"}
    assert sum(sizes.values()) < 4_000_000
    assert sizes["cifar10.npz"] < 1_500_000  # JPEG bytes, not 2,500 x 3,072 raw pixels


# --- the CIFAR-10 sample: the mirror's JPEG bytes -------------------------------------------

CIFAR_SAMPLE = SAMPLES_DIR / "cifar10.npz"
JPEG_KEYS = {f"{s}_{p}" for s in ("train", "test") for p in ("jpeg", "offsets", "labels")}


def sample_arrays() -> dict[str, np.ndarray]:
    with np.load(CIFAR_SAMPLE, allow_pickle=False) as f:
        return {key: f[key] for key in f.files}


def test_cifar_sample_holds_whole_jpeg_files(samples: dict) -> None:
    arrays = sample_arrays()
    assert JPEG_KEYS | {"classes", "train_index", "test_index"} == set(arrays)
    assert arrays["classes"].tolist() == list(CIFAR10.class_names)
    for split, (_, labels) in zip(("train", "test"), samples["cifar10"], strict=True):
        blob, offsets = arrays[f"{split}_jpeg"], arrays[f"{split}_offsets"]
        assert blob.dtype == np.uint8 and offsets.dtype == np.int64
        assert offsets[0] == 0 and offsets[-1] == len(blob) and len(offsets) == len(labels) + 1
        for i in range(len(labels)):
            jpeg = blob[offsets[i] : offsets[i + 1]].tobytes()
            assert jpeg[:3] == b"\xff\xd8\xff" and jpeg[-2:] == b"\xff\xd9"
        assert np.array_equal(arrays[f"{split}_labels"], labels.ravel())


def test_cifar_sample_decodes_the_same_every_time(samples: dict) -> None:
    first, second = read_jpeg_npz(CIFAR_SAMPLE), read_jpeg_npz(CIFAR_SAMPLE)
    assert_same(first, second)
    assert_same(first, samples["cifar10"])


@pytest.mark.skipif(
    not (DEFAULT_SHARED / "cifar10-jpeg.npz").is_file(), reason="the shared mirror is absent"
)
def test_cifar_sample_bytes_are_the_mirrors() -> None:
    arrays = sample_arrays()
    with np.load(DEFAULT_SHARED / "cifar10-jpeg.npz", allow_pickle=False) as f:
        for split in ("train", "test"):
            index = arrays[f"{split}_index"]
            blob, offsets = select_jpegs(f[f"{split}_jpeg"], f[f"{split}_offsets"], index)
            assert np.array_equal(blob, arrays[f"{split}_jpeg"])
            assert np.array_equal(offsets, arrays[f"{split}_offsets"])
            assert np.array_equal(f[f"{split}_labels"][index], arrays[f"{split}_labels"])


def test_select_and_write_jpegs_round_trip(tmp_path: Path) -> None:
    arrays = sample_arrays()
    splits = {}
    for split in ("train", "test"):
        blob, offsets = select_jpegs(arrays[f"{split}_jpeg"], arrays[f"{split}_offsets"], [4, 1])
        splits[split] = (blob, offsets, arrays[f"{split}_labels"][[4, 1]])
    write_jpeg_npz(tmp_path / "two.npz", splits)
    (x_train, y_train), (x_test, y_test) = read_jpeg_npz(tmp_path / "two.npz")
    (full_x, full_y), (full_xt, full_yt) = read_jpeg_npz(CIFAR_SAMPLE)
    assert np.array_equal(x_train, full_x[[4, 1]]) and np.array_equal(y_train, full_y[[4, 1]])
    assert np.array_equal(x_test, full_xt[[4, 1]]) and np.array_equal(y_test, full_yt[[4, 1]])


def broken_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **changes: np.ndarray) -> Path:
    arrays = {**sample_arrays(), **changes}
    (tmp_path / "samples").mkdir()
    target = tmp_path / "samples" / "cifar10.npz"
    np.savez(target, **arrays)
    monkeypatch.setattr("practicum.datasets.sources.SAMPLES_DIR", tmp_path / "samples")
    return target


def test_cifar_sample_with_a_damaged_jpeg_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blob = sample_arrays()["test_jpeg"].copy()
    blob[:4] = 0  # the first test image loses its JPEG signature
    target = broken_sample(tmp_path, monkeypatch, test_jpeg=blob)
    with pytest.raises(DatasetError, match="image 0 is not a readable JPEG") as info:
        load_cifar10(source="sample")
    assert str(target) in str(info.value)


def test_cifar_sample_with_bad_offsets_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    offsets = sample_arrays()["train_offsets"][:-1]  # one image fewer than labels
    broken_sample(tmp_path, monkeypatch, train_offsets=offsets)
    with pytest.raises(DatasetError, match="train_offsets"):
        load_cifar10(source="sample")


def test_stratified_indices_are_balanced_and_fixed() -> None:
    labels = np.repeat(np.arange(10), 50)
    first = stratified_indices(labels, 100, seed=[0, 1, 2])
    assert np.array_equal(first, stratified_indices(labels, 100, seed=[0, 1, 2]))
    assert np.bincount(labels[first]).tolist() == [10] * 10
    assert len(set(first.tolist())) == 100


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="source must be one of"):
        load_mnist(source="internet")
    with pytest.raises(KeyError, match="known"):
        load_dataset("imagenet")


# --- environment folder and Keras cache ----------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_env_dir_gives_the_same_arrays(
    name: str, samples: dict, official: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected_path = place(official, tmp_path / "data", name)
    monkeypatch.setenv("PRACTICUM_DATA_DIR", str(tmp_path / "data"))
    loaded = load_dataset(name)
    assert (loaded.source, loaded.path) == ("env", expected_path)
    assert_same(loaded.data, samples[name])
    assert last_source(name) == "env"


def test_env_dir_may_hold_the_cifar_pickles_directly(
    samples: dict, official: Path, tmp_path: Path
) -> None:
    place(official, tmp_path / "flat", "cifar10", "flat")
    loaded = load_dataset("cifar10", "env", data_dir=tmp_path / "flat")
    assert (loaded.source, loaded.path) == ("env", tmp_path / "flat")
    assert_same(loaded.data, samples["cifar10"])


def test_env_dir_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRACTICUM_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DatasetError, match="is not a folder"):
        load_mnist()
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no files found"):
        load_mnist(source="env", data_dir=tmp_path / "empty")
    monkeypatch.delenv("PRACTICUM_DATA_DIR")
    with pytest.raises(DatasetError, match="unset"):
        load_mnist(source="env")


CACHE_LAYOUTS = [
    ("mnist", "keras"),
    ("fashion_mnist", "keras"),
    ("cifar10", "keras3"),
    ("cifar10", "keras3-early"),
    ("cifar10", "keras2"),
    *[("cifar10", archive) for archive in CIFAR_ARCHIVE_NAMES],
]


@pytest.mark.parametrize(("name", "layout"), CACHE_LAYOUTS)
def test_keras_cache_layouts_give_the_same_arrays(
    name: str, layout: str, samples: dict, official: Path, isolated: Path
) -> None:
    expected_path = place(official, isolated, name, layout)
    loaded = load_dataset(name)
    assert (loaded.source, loaded.path) == ("cache", expected_path)
    assert_same(loaded.data, samples[name])


def test_cache_follows_keras_home_and_env_dir_comes_first(
    samples: dict, official: Path, tmp_path: Path, isolated: Path
) -> None:
    assert isolated == Path(os.environ["KERAS_HOME"]) / "datasets"
    place(official, isolated, "mnist")
    assert load_dataset("mnist", "cache").source == "cache"
    place(official, tmp_path / "env", "mnist")
    assert load_dataset("mnist", data_dir=tmp_path / "env").source == "env"
    with pytest.raises(DatasetError, match="not in the Keras cache"):
        load_dataset("cifar10", "cache")


def test_extracted_cifar_folder_comes_before_the_archive(
    samples: dict, official: Path, isolated: Path
) -> None:
    place(official, isolated, "cifar10", "cifar-10-batches-py.tar.gz")
    folder = place(official, isolated, "cifar10", "keras2")
    assert load_dataset("cifar10").path == folder


def test_official_python2_pickles_are_read(samples: dict, tmp_path: Path) -> None:
    """The official batches were written by Python 2's cPickle (protocol 2, numpy.core)."""
    (x_train, y_train), (x_test, y_test) = samples["cifar10"]
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    parts = np.array_split(np.arange(len(x_train)), 5)
    for name, index in zip(CIFAR_BATCHES, parts, strict=True):
        (folder / name).write_bytes(py2_batch_pickle(x_train[index], y_train[index]))
    (folder / "test_batch").write_bytes(py2_batch_pickle(x_test, y_test))
    raw = pickle.loads((folder / "test_batch").read_bytes(), encoding="bytes")
    assert set(raw) == {b"batch_label", b"labels", b"data", b"filenames"}
    assert_same(read_cifar_dir(folder), samples["cifar10"])


def py2_batch_pickle(images: np.ndarray, labels: np.ndarray) -> bytes:
    """The bytes Python 2's cPickle writes (protocol 2) for an official CIFAR-10 batch."""

    def string(value: bytes) -> bytes:  # a Python 2 str
        if len(value) < 256:
            return pickle.SHORT_BINSTRING + bytes([len(value)]) + value
        return pickle.BINSTRING + struct.pack("<i", len(value)) + value

    def integer(value: int) -> bytes:
        if 0 <= value < 256:
            return pickle.BININT1 + bytes([value])
        return pickle.BININT + struct.pack("<i", value)

    def global_(module: str, name: str) -> bytes:
        return pickle.GLOBAL + f"{module}\n{name}\n".encode()

    rows = np.ascontiguousarray(images.transpose(0, 3, 1, 2)).reshape(len(images), 3072)
    dtype = (
        global_("numpy", "dtype")
        + string(b"u1")
        + integer(0)
        + integer(1)
        + pickle.TUPLE3
        + pickle.REDUCE
        + pickle.MARK
        + integer(3)
        + string(b"|")
        + pickle.NONE * 3
        + integer(-1)
        + integer(-1)
        + integer(0)
        + pickle.TUPLE
        + pickle.BUILD
    )
    array = (
        global_("numpy.core.multiarray", "_reconstruct")
        + global_("numpy", "ndarray")
        + integer(0)
        + pickle.TUPLE1
        + string(b"b")
        + pickle.TUPLE3
        + pickle.REDUCE
        + pickle.MARK
        + integer(1)
        + integer(len(rows))
        + integer(3072)
        + pickle.TUPLE2
        + dtype
        + pickle.NEWFALSE
        + string(rows.tobytes())
        + pickle.TUPLE
        + pickle.BUILD
    )
    label_list = (
        pickle.EMPTY_LIST
        + pickle.MARK
        + b"".join(integer(int(v)) for v in labels.ravel())
        + pickle.APPENDS
    )
    return (
        pickle.PROTO
        + b"\x02"
        + pickle.EMPTY_DICT
        + pickle.MARK
        + string(b"batch_label")
        + string(b"training batch")
        + string(b"labels")
        + label_list
        + string(b"data")
        + array
        + string(b"filenames")
        + pickle.EMPTY_LIST
        + pickle.SETITEMS
        + pickle.STOP
    )


# --- download ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_download_from_a_file_url_into_the_keras_cache(
    name: str, samples: dict, mirror: tuple, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base_url, checksums = mirror
    monkeypatch.delenv("PRACTICUM_OFFLINE")
    loaded = load_dataset(name, base_url=base_url, checksums=checksums, progress=False)
    assert loaded.source == "download"
    assert_same(loaded.data, samples[name])
    expected = {
        "mnist": isolated / "mnist.npz",
        "fashion_mnist": isolated / "fashion-mnist",
        # where this Keras keeps it (tests/course/test_compat.py checks that against Keras)
        "cifar10": isolated / CIFAR_DOWNLOAD_DIR,
    }[name]
    assert loaded.path == expected
    if name == "cifar10":
        assert (isolated / CIFAR_DOWNLOAD_ARCHIVE).is_file()
    assert not list(isolated.rglob("*.part"))
    # Now cached: the next load reads the cache.
    again = load_dataset(name, base_url=base_url, checksums=checksums)
    assert (again.source, again.path) == ("cache", expected)


def test_forced_download_works_offline_from_file_urls_and_shows_progress(
    samples: dict, mirror: tuple, capsys: pytest.CaptureFixture[str]
) -> None:
    base_url, checksums = mirror
    loaded = load_dataset("mnist", "download", base_url=base_url, checksums=checksums)
    assert loaded.source == "download"
    assert_same(loaded.data, samples["mnist"])
    err = capsys.readouterr().err
    assert f"Downloading {base_url}mnist.npz" in err and "100%" in err


def test_checksum_mismatch_raises_and_keeps_nothing(
    mirror: tuple, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base_url, checksums = mirror
    monkeypatch.delenv("PRACTICUM_OFFLINE")
    wrong = {**checksums, "mnist.npz": Checksum("sha256", "0" * 64)}
    with pytest.raises(ChecksumError) as info:
        load_dataset("mnist", base_url=base_url, checksums=wrong, progress=False)
    assert isinstance(info.value, DatasetError) and isinstance(info.value, ValueError)
    assert f"{base_url}mnist.npz" in str(info.value) and "0" * 64 in str(info.value)
    assert not isolated.exists() or not list(isolated.rglob("*"))
    # A set of files is kept whole or not at all: here the last of four is wrong.
    last = list(CATALOG["fashion_mnist"].remote_files)[-1]
    wrong = {**checksums, last: Checksum("sha256", "0" * 64, True)}
    with pytest.raises(ChecksumError, match=last):
        load_dataset("fashion_mnist", base_url=base_url, checksums=wrong, progress=False)
    assert not list(isolated.rglob("*.gz")) and not list(isolated.rglob("*.part"))


def test_official_checksums_reject_other_files(mirror: tuple, tmp_path: Path) -> None:
    base_url, _ = mirror
    with pytest.raises(ChecksumError, match="731c5ac6"):
        load_dataset("mnist", "download", cache_dir=tmp_path, base_url=base_url, progress=False)
    with pytest.raises(ChecksumError, match="gunzipped"):
        load_dataset("fashion_mnist", "download", cache_dir=tmp_path, base_url=base_url)
    assert not list(tmp_path.rglob("*.gz")) and not list(tmp_path.rglob("*.npz"))


def test_network_error_falls_back_to_the_sample(
    samples: dict,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("PRACTICUM_OFFLINE")
    missing = (tmp_path / "no-server").as_uri() + "/"
    loaded = load_dataset("fashion_mnist", base_url=missing, progress=False)
    assert loaded.source == "sample"
    assert_same(loaded.data, samples["fashion_mnist"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "download failed" in lines[0]
    with pytest.raises(DownloadError):
        load_dataset("fashion_mnist", "download", base_url=missing, progress=False)


def test_offline_forbids_network_downloads(isolated: Path) -> None:
    with pytest.raises(DatasetError, match="PRACTICUM_OFFLINE"):
        load_cifar10(source="download")
    assert not isolated.exists() or not list(isolated.rglob("*"))


def test_download_file_verifies_and_replaces_atomically(tmp_path: Path) -> None:
    source = tmp_path / "blob.bin"
    source.write_bytes(os.urandom(300_000))
    good = Checksum("sha256", sha256(source))
    dest = tmp_path / "cache" / "blob.bin"
    assert download_file(source.as_uri(), dest, good, progress=False) == dest
    assert dest.read_bytes() == source.read_bytes()
    md5 = Checksum("md5", hashlib.md5(source.read_bytes()).hexdigest())
    download_file(source.as_uri(), dest, md5, progress=False)
    with pytest.raises(ChecksumError):
        download_file(source.as_uri(), dest, Checksum("sha256", "f" * 64), progress=False)
    assert dest.read_bytes() == source.read_bytes()  # the old good file is kept
    assert not (tmp_path / "cache" / "blob.bin.part").exists()


def test_progress_bar_renders() -> None:
    stream = io.StringIO()
    bar = ProgressBar("x.npz", 2_000_000, stream)
    bar.update(1_000_000)
    assert "50%" in bar.render() and "1.0/2.0 MB" in bar.render()
    bar.update(1_000_000)
    bar.close()
    assert stream.getvalue().strip().endswith("100% 2.0/2.0 MB")
    assert "MB" in ProgressBar("y", None, io.StringIO()).render()


# --- corrupt and truncated files -----------------------------------------------------------


def fashion_dir(official: Path, tmp_path: Path) -> tuple[Path, Path]:
    place(official, tmp_path / "data", "fashion_mnist")
    folder = tmp_path / "data" / "fashion-mnist"
    return tmp_path / "data", folder / "train-images-idx3-ubyte.gz"


def expect_error(name: str, data_dir: Path, culprit: Path | str) -> DatasetError:
    with pytest.raises(DatasetError) as info:
        load_dataset(name, data_dir=data_dir)
    message = str(info.value)
    assert str(culprit) in message
    assert "delete" in message.lower() or "replace" in message.lower()
    return info.value


def test_bad_gzip(official: Path, tmp_path: Path) -> None:
    data_dir, target = fashion_dir(official, tmp_path)
    target.write_bytes(b"this is not gzip" * 100)
    expect_error("fashion_mnist", data_dir, target)


def test_truncated_gzip(official: Path, tmp_path: Path) -> None:
    data_dir, target = fashion_dir(official, tmp_path)
    target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    expect_error("fashion_mnist", data_dir, target)


def test_idx_wrong_magic(official: Path, tmp_path: Path) -> None:
    data_dir, target = fashion_dir(official, tmp_path)
    raw = bytearray(gzip.decompress(target.read_bytes()))
    raw[3] = 1  # claims one dimension
    target.write_bytes(gzip.compress(bytes(raw)))
    error = expect_error("fashion_mnist", data_dir, target)
    assert "magic" in str(error)


def test_idx_wrong_length(official: Path, tmp_path: Path) -> None:
    data_dir, target = fashion_dir(official, tmp_path)
    target.write_bytes(gzip.compress(gzip.decompress(target.read_bytes())[:-784]))
    error = expect_error("fashion_mnist", data_dir, target)
    assert "header" in str(error)


def test_idx_image_and_label_counts_differ(official: Path, tmp_path: Path) -> None:
    data_dir, target = fashion_dir(official, tmp_path)
    labels = target.with_name("train-labels-idx1-ubyte.gz")
    write_idx_gz(labels, read_idx_gz(labels, ndim=1)[:-1])
    expect_error("fashion_mnist", data_dir, target)


def test_incomplete_fashion_folder(official: Path, tmp_path: Path) -> None:
    data_dir, target = fashion_dir(official, tmp_path)
    target.unlink()
    error = expect_error("fashion_mnist", data_dir, target.parent)
    assert target.name in str(error)


def test_truncated_npz(official: Path, tmp_path: Path) -> None:
    target = place(official, tmp_path / "data", "mnist")
    target.write_bytes(target.read_bytes()[:100_000])
    expect_error("mnist", tmp_path / "data", target)


def test_npz_missing_key(samples: dict, tmp_path: Path) -> None:
    (x_train, y_train), (x_test, _) = samples["mnist"]
    (tmp_path / "data").mkdir()
    target = tmp_path / "data" / "mnist.npz"
    np.savez(target, x_train=x_train, y_train=y_train, x_test=x_test)
    error = expect_error("mnist", tmp_path / "data", target)
    assert "y_test" in str(error)


def test_npz_wrong_dtype_or_shape(samples: dict, tmp_path: Path) -> None:
    (x_train, y_train), test = samples["mnist"]
    (tmp_path / "data").mkdir()
    target = tmp_path / "data" / "mnist.npz"
    write_npz(target, ((x_train.astype(np.float32), y_train), test))
    expect_error("mnist", tmp_path / "data", target)
    write_npz(target, ((x_train[:, :27], y_train), test))
    expect_error("mnist", tmp_path / "data", target)
    write_npz(target, ((x_train, y_train + 10), test))
    expect_error("mnist", tmp_path / "data", target)


def cifar_dir(official: Path, tmp_path: Path) -> tuple[Path, Path]:
    place(official, tmp_path / "data", "cifar10", "keras2")
    return tmp_path / "data", tmp_path / "data" / "cifar-10-batches-py" / "data_batch_3"


def test_cifar_pickle_missing_keys(official: Path, tmp_path: Path) -> None:
    data_dir, target = cifar_dir(official, tmp_path)
    target.write_bytes(pickle.dumps({b"data": np.zeros((10, 3072), np.uint8)}, protocol=4))
    error = expect_error("cifar10", data_dir, target)
    assert "labels" in str(error)


def test_cifar_pickle_wrong_sizes(official: Path, tmp_path: Path) -> None:
    data_dir, target = cifar_dir(official, tmp_path)
    bad_rows = {b"data": np.zeros((10, 3000), np.uint8), b"labels": [0] * 10}
    target.write_bytes(pickle.dumps(bad_rows, protocol=4))
    expect_error("cifar10", data_dir, target)
    bad_count = {b"data": np.zeros((10, 3072), np.uint8), b"labels": [0] * 9}
    target.write_bytes(pickle.dumps(bad_count, protocol=4))
    expect_error("cifar10", data_dir, target)


def test_cifar_pickle_truncated(official: Path, tmp_path: Path) -> None:
    data_dir, target = cifar_dir(official, tmp_path)
    target.write_bytes(target.read_bytes()[:5000])
    expect_error("cifar10", data_dir, target)


def test_cifar_pickle_with_a_foreign_global_is_refused(official: Path, tmp_path: Path) -> None:
    data_dir, target = cifar_dir(official, tmp_path)
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self) -> tuple:
            return (os.system, (f"touch {marker}",))

    target.write_bytes(pickle.dumps({b"data": Exploit(), b"labels": []}, protocol=2))
    error = expect_error("cifar10", data_dir, target)
    assert "refusing" in str(error) and not marker.exists()


def test_incomplete_cifar_folder(official: Path, tmp_path: Path) -> None:
    data_dir, target = cifar_dir(official, tmp_path)
    (target.parent / "test_batch").unlink()
    error = expect_error("cifar10", data_dir, target.parent)
    assert "test_batch" in str(error)


def test_tar_that_is_not_a_tar(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    target = tmp_path / "data" / "cifar-10-python.tar.gz"
    target.write_bytes(gzip.compress(b"not a tar archive at all" * 50))
    expect_error("cifar10", tmp_path / "data", target)
    target.write_bytes(b"not even gzip")
    expect_error("cifar10", tmp_path / "data", target)


def test_truncated_tar(official: Path, tmp_path: Path) -> None:
    target = place(official, tmp_path / "data", "cifar10", "cifar-10-python.tar.gz")
    target.write_bytes(target.read_bytes()[: target.stat().st_size * 2 // 3])
    expect_error("cifar10", tmp_path / "data", target)


def test_corrupt_cache_file_is_an_error_not_a_fallback(official: Path, isolated: Path) -> None:
    target = place(official, isolated, "mnist")
    target.write_bytes(b"garbage")
    with pytest.raises(DatasetError, match="mnist.npz"):
        load_mnist()
    assert last_source("mnist") != "cache"


# --- living beside Hugging Face's ``datasets`` --------------------------------------------


def test_hugging_face_datasets_and_ours_coexist() -> None:
    hf = pytest.importorskip("datasets")
    assert Path(hf.__file__).resolve().parent != OUR_FOLDER  # (the venv may be in the repo)
    assert hasattr(hf, "load_dataset")  # Hugging Face's API, not ours
    import practicum.datasets as ours

    assert ours is not hf
    assert ours.load_mnist(source="sample")[0][0].shape == (3000, 28, 28)


def test_import_datasets_from_the_repo_root_is_not_ours() -> None:
    """With the repository root on sys.path (``python -m``, notebooks), ``import
    datasets`` must still give Hugging Face's package, or a clear ImportError."""
    others = [p for p in sys.path if Path(p or ".").resolve() != REPO_ROOT]
    hf_installed = any((Path(p) / "datasets" / "__init__.py").is_file() for p in others if p)
    code = "import datasets; print(datasets.__file__)"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    if hf_installed:
        assert result.returncode == 0, result.stderr
        assert Path(result.stdout.strip()).resolve().parent != OUR_FOLDER
    else:
        assert result.returncode != 0 and "practicum.datasets" in result.stderr
