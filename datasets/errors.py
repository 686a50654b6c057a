"""The errors the loaders raise.

Every problem with a data file (corrupt, truncated, wrong format, wrong size, missing
part) is a :class:`DatasetError` whose message names the file and says how to fix it, so
that a bad file never turns into a silently wrong array. The two subclasses let the
source chain tell a network failure (fall back to the offline sample) from a download
that arrived but is not the expected file (stop and say so).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ChecksumError", "DatasetError", "DownloadError", "corrupt_file"]

REDOWNLOAD_FIX = "delete it and run again to re-download it (or replace it with a good copy)"


class DatasetError(ValueError):
    """A data set could not be loaded: a file is missing, corrupt, truncated or wrong."""


class DownloadError(DatasetError):
    """A download failed for a network reason (no connection, timeout, HTTP error)."""


class ChecksumError(DatasetError):
    """A download finished but its checksum is not the published one."""


def corrupt_file(path: str | Path, problem: str) -> DatasetError:
    """Build the error for a data file that cannot be read.

    Args:
        path: the file (or archive member, ``archive:member``) that is wrong.
        problem: what is wrong with it, e.g. ``"not a gzip file"``.

    Returns:
        A :class:`DatasetError` naming the file, the problem and the fix.

    Example:
        >>> raise corrupt_file("mnist.npz", "truncated")  # doctest: +SKIP
    """
    return DatasetError(f"{path}: {problem}. The file is corrupt or incomplete: {REDOWNLOAD_FIX}.")
