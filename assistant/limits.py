"""Bounded work for any input: the generic gate every document and photo passes
before anything reads it, and keeping third-party chatter off the terminal.

Owns the per-format size limits, the refusal of non-regular files (FIFOs,
devices, sockets, folders: opening a FIFO would wait forever, reading
/dev/zero would never end), and `quiet_native_stderr`, which captures what C
libraries (libjpeg's "Corrupt JPEG data", PDFium) write straight to file
descriptor 2 and sends it to the log instead. `log_file` is where a home's log
lives; the CLI routes Python warnings and library logging there too.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.domain import DocumentFormat
from assistant.errors import MalformedFile

log = logging.getLogger(__name__)

MB = 1024 * 1024
# Larger files than these are not manuals a technician carries; refusing them keeps every input bounded.
MAX_DOCUMENT_BYTES = {
    DocumentFormat.PDF: 200 * MB,
    DocumentFormat.HTML: 16 * MB,
    DocumentFormat.MARKDOWN: 16 * MB,
    DocumentFormat.TEXT: 16 * MB,
    DocumentFormat.YAML: 4 * MB,  # a work instruction is a few pages; YAML parsing is slow per byte
    DocumentFormat.JSON: 4 * MB,
}


def regular_file_size(path: Path, what: str) -> int:
    """The size of `path` if it is a regular file; a plain sentence (MalformedFile) otherwise. Never opens it."""
    name = path.name or str(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise MalformedFile(f"{name} does not exist.") from None
    except OSError as exc:
        raise MalformedFile(f"{name} cannot be read ({exc.strerror or exc.__class__.__name__}).") from None
    if stat.S_ISDIR(st.st_mode):
        raise MalformedFile(f"{name} is a folder, not {what}.")
    if not stat.S_ISREG(st.st_mode):
        kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode)
                or stat.S_ISBLK(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode) else "a special file")
        raise MalformedFile(f"{name} is {kind}, not {what}; Fieldlens reads only regular files.")
    return st.st_size


def check_document(path: Path) -> None:
    """Refuse, before reading it, a document that is not a regular file or is over its format's size limit."""
    from assistant.library.ingest import detect_format

    size = regular_file_size(path, "a document")
    if size == 0:
        raise MalformedFile(f"{path.name} is empty (0 bytes).")
    try:
        with path.open("rb") as fh:
            head = fh.read(8192)
    except OSError as exc:
        raise MalformedFile(f"{path.name} cannot be read ({exc.strerror or exc.__class__.__name__}).") from None
    fmt = detect_format(path, head)
    limit = MAX_DOCUMENT_BYTES.get(fmt)
    if limit is not None and size > limit:
        raise MalformedFile(f"{path.name} is too large for a {fmt.value} document ({size / MB:.0f} MB; the limit "
                            f"is {limit // MB} MB).")


# ---------------------------------------------------------------------------- native stderr

_fd_lock = threading.Lock()
_fd_state: dict = {"depth": 0, "saved": None, "sink": None, "fd": 2}


@contextmanager
def quiet_native_stderr(label: str) -> Iterator[None]:
    """Run C library calls with file descriptor 2 pointed at a temporary file; what they wrote is logged.
    Nested and concurrent uses share one redirection: the first in starts it, the last out ends it."""
    with _fd_lock:
        if _fd_state["depth"] == 0:
            try:
                fd = sys.stderr.fileno() if sys.stderr is not None else 2
            except (AttributeError, OSError, ValueError):
                fd = 2
            try:
                saved = os.dup(fd)
            except OSError:  # no fd 2 at all (some GUI launchers): nothing can reach a terminal anyway
                saved = None
            if saved is not None:
                sink = tempfile.TemporaryFile()
                os.dup2(sink.fileno(), fd)
                _fd_state.update(saved=saved, sink=sink, fd=fd)
        _fd_state["depth"] += 1
    try:
        yield
    finally:
        with _fd_lock:
            _fd_state["depth"] -= 1
            if _fd_state["depth"] == 0 and _fd_state["saved"] is not None:
                sink, saved, fd = _fd_state["sink"], _fd_state["saved"], _fd_state["fd"]
                os.dup2(saved, fd)
                os.close(saved)
                _fd_state.update(saved=None, sink=None)
                sink.seek(0)
                text = sink.read(4096).decode("utf-8", "replace").strip()
                sink.close()
                if text:
                    log.info("%s: %s", label, " | ".join(text.splitlines()[:5]))


def log_file(home: Path) -> Path:
    return home / "logs" / "fieldlens.log"


def route_warnings_to_log(home: Path) -> None:
    """Send Python warnings and every library's log records to the home's log file, never to the terminal."""
    import warnings

    root = logging.getLogger()
    if any(getattr(h, "_fieldlens", False) for h in root.handlers):
        return
    try:
        path = log_file(home)
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8", delay=True)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    except OSError:
        handler = logging.NullHandler()
    handler._fieldlens = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    logging.getLogger("RapidOCR").addHandler(handler)  # with a handler there, rapidocr adds no console one
    for chatty in ("httpx", "httpcore"):  # one line per request (with its URL) is noise, and URLs are not logged
        logging.getLogger(chatty).setLevel(logging.WARNING)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    logging.raiseExceptions = False  # a log that cannot be written (full disk) must not print a traceback
    logging.captureWarnings(True)
    warnings.simplefilter("default")


def prepare_process() -> None:
    """For a command-line process: writes past a file-size limit fail with EFBIG (a plain sentence) instead
    of killing the process with SIGXFSZ, and warnings go to the home's log."""
    import signal

    from assistant.config import default_home

    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    route_warnings_to_log(default_home())
