"""Downloading one file: streamed, checksummed, atomic, with a progress bar.

Only the standard library is used (``urllib``), so ``file://`` URLs work as well as
``https://`` ones: the tests download from local files and never touch the network.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from pathlib import Path
from typing import TextIO

from .catalog import Checksum
from .errors import ChecksumError, DownloadError

__all__ = ["ProgressBar", "download_file", "file_digest", "is_offline", "OFFLINE_ENV"]

#: Set to 1 (or true/yes/on) to never try a network download: the loaders go straight
#: from the local copies to the offline sample. Tests and CI set it.
OFFLINE_ENV = "PRACTICUM_OFFLINE"

_CHUNK = 1 << 16


def is_offline() -> bool:
    """Whether ``PRACTICUM_OFFLINE`` asks for no network downloads.

    Returns:
        True if the variable is ``1``, ``true``, ``yes`` or ``on`` (any case).

    Example:
        >>> os.environ["PRACTICUM_OFFLINE"] = "1"; is_offline()  # doctest: +SKIP
        True
    """
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


class ProgressBar:
    """A one-line text progress bar for a download, written to stderr.

    On a terminal the line is redrawn in place (at most ten times a second); elsewhere
    (a log, a notebook's captured stream) only the finished line is written.

    Args:
        label: what is being downloaded, shown before the bar.
        total: the expected size in bytes, or None if unknown.
        stream: where to write; default ``sys.stderr``.

    Example:
        >>> bar = ProgressBar("mnist.npz", 11490434)  # doctest: +SKIP
        >>> bar.update(65536); bar.close()  # doctest: +SKIP
    """

    width = 30

    def __init__(self, label: str, total: int | None, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total if total and total > 0 else None
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_draw = 0.0

    def render(self) -> str:
        """The bar as text, e.g. ``mnist.npz [=====>     ]  45%  5.2/11.5 MB``."""
        mb = self.done / 1e6
        if self.total is None:
            return f"{self.label} {mb:.1f} MB"
        frac = min(self.done / self.total, 1.0)
        filled = int(frac * self.width)
        bar = "=" * filled + (">" if filled < self.width else "") + " " * (self.width - filled - 1)
        return f"{self.label} [{bar[: self.width]}] {frac:4.0%} {mb:.1f}/{self.total / 1e6:.1f} MB"

    def update(self, nbytes: int) -> None:
        """Count ``nbytes`` more bytes, redrawing the line now and then."""
        self.done += nbytes
        now = time.monotonic()
        if self.live and now - self._last_draw >= 0.1:
            self._last_draw = now
            self.stream.write("\r" + self.render())
            self.stream.flush()

    def close(self) -> None:
        """Draw the final state and end the line."""
        self.stream.write(("\r" if self.live else "") + self.render() + "\n")
        self.stream.flush()


def file_digest(path: str | Path, checksum: Checksum) -> str:
    """Compute a file's digest the way ``checksum`` specifies.

    Args:
        path: the file.
        checksum: the algorithm, and whether to hash the gunzipped content.

    Returns:
        The hex digest; for ``of_gunzipped`` on a file that is not valid gzip, a string
        that describes the problem (so it never equals a real digest).

    Example:
        >>> file_digest("mnist.npz", Checksum("sha256", ""))  # doctest: +SKIP
        '731c5ac6...'
    """
    hasher = hashlib.new(checksum.algorithm)
    try:
        opener = gzip.open if checksum.of_gunzipped else open
        with opener(path, "rb") as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                hasher.update(chunk)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        return f"<not a valid gzip file: {exc}>"
    return hasher.hexdigest()


def download_file(
    url: str,
    destination: str | Path,
    checksum: Checksum | None,
    *,
    progress: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``destination``, verified, replacing any old file atomically.

    The data is written to a hidden ``.part`` file beside it first; only a complete download
    whose checksum matches is renamed into place, so an interrupted or wrong download
    never leaves a file that looks complete.

    Args:
        url: an ``https://``, ``http://`` or ``file://`` URL.
        destination: the file to create; its folder is created if needed.
        checksum: the expected digest; None skips the check (only for files that have
            no published checksum).
        progress: show a progress bar on stderr.
        timeout: seconds to wait for the server before giving up.

    Returns:
        ``destination`` as a :class:`~pathlib.Path`.

    Raises:
        DownloadError: for a network failure (no connection, DNS, timeout, HTTP error, a
            connection cut mid-way, a missing ``file://`` file).
        ChecksumError: if the downloaded data is not the expected file.

    Example:
        >>> download_file(  # doctest: +SKIP
        ...     MNIST.base_url + "mnist.npz",
        ...     Path.home() / ".keras/datasets/mnist.npz",
        ...     MNIST.remote_files["mnist.npz"],
        ... )
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own, so that two processes downloading at once do not mix their bytes.
    fd, partial_name = tempfile.mkstemp(
        dir=destination.parent, prefix=f".{destination.name}.", suffix=".part"
    )
    os.close(fd)
    partial = Path(partial_name)
    name = Path(urllib.parse.urlsplit(url).path).name or destination.name
    if progress:
        print(f"Downloading {url}", file=sys.stderr)
    try:
        _fetch(url, partial, name, progress=progress, timeout=timeout)
        if checksum is not None:
            got = file_digest(partial, checksum)
            if got != checksum.digest.lower():
                what = "gunzipped content" if checksum.of_gunzipped else "file"
                raise ChecksumError(
                    f"{url}: the downloaded {what} has {checksum.algorithm} {got}, expected "
                    f"{checksum.digest}; it was not saved to {destination}. The server (or a "
                    "proxy) sent something else: try again later, or download the file by "
                    "hand and put it there."
                )
        partial.chmod(0o644)  # mkstemp made it private; a cache file is not
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return destination


def _fetch(url: str, partial: Path, name: str, *, progress: bool, timeout: float) -> None:
    """Stream ``url`` into ``partial``; network failures become DownloadError."""
    with open(partial, "wb") as out:
        try:
            response = urllib.request.urlopen(url, timeout=timeout)
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            raise DownloadError(f"could not download {url}: {_reason(exc)}") from exc
        with response:
            length = response.headers.get("Content-Length")
            bar = ProgressBar(name, int(length) if length else None) if progress else None
            while True:
                try:
                    chunk = response.read(_CHUNK)
                except (OSError, http.client.HTTPException) as exc:
                    raise DownloadError(f"download of {url} broke off: {_reason(exc)}") from exc
                if not chunk:
                    break
                out.write(chunk)
                if bar is not None:
                    bar.update(len(chunk))
            if bar is not None:
                bar.close()
            if length and out.tell() != int(length):
                raise DownloadError(
                    f"download of {url} broke off after {out.tell()} of {length} bytes"
                )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return f"{type(exc).__name__}: {exc}"
