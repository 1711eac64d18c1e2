"""Read a large literature file in a forked reader process while this process writes.

Importing a MEDLINE baseline file is two kinds of work: reading (lxml parsing, fingerprinting and
extracting each record) and writing (deduplicating, hashing, encoding and inserting). On one core
they take turns; here a forked child reads and the parent, which holds the database transaction,
writes, so the two overlap on a machine with two or more cores (bench/ingest.py).

The child never touches the database. It inherits, through fork, everything it needs: the open
file, and the stored (PMID, fingerprint) pairs that let it skip records already held unchanged.
It sends items through a pipe as pickled frames of plain tuples (cheap to pickle, unlike named
tuples and dataclasses), and ends with a frame saying how reading ended. The parent rebuilds the
items in file order, so the importer sees exactly the stream it would have read itself.

Either side failing ends both: a reading error is sent as a frame and raised in the parent (which
rolls the import back); a parent that stops (an error, a rejected record, SIGKILL) closes the pipe,
and the child's next write fails and it exits. The parent kills and reaps the child on every path.

Pure: imports nothing from Django.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import signal
import struct
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .records import (
    Author,
    DeletedCitations,
    KnownRecords,
    LiteratureParseError,
    ParsedItem,
    ParsedRecord,
    RecordError,
    UnchangedRecord,
)

# Items per frame: large enough that pickling is a few big calls, small enough to keep the parent
# busy from the start and the queue's memory small (a frame of MEDLINE records is about 1.5 MB).
FRAME_ITEMS = 512
# Frames the parent may hold unread; the child blocks once they and the pipe are full.
QUEUE_FRAMES = 16
_HEADER = struct.Struct("<Q")
_RECORD, _UNCHANGED, _ERROR, _DELETED = range(4)
_END, _PARSE_FAILED, _CRASHED = "end", "parse-failed", "crashed"


def available() -> bool:
    """Whether a reader process can be used: fork exists, two cores, and no other threads.

    fork() copies only the calling thread; a lock another thread held at that moment stays held
    in the child forever. So a server process with worker threads imports serially.
    """
    return hasattr(os, "fork") and (os.cpu_count() or 1) >= 2 and threading.active_count() == 1


def read_in_child(
    open_items: Callable[[KnownRecords], Iterator[ParsedItem]],
    *,
    stored: Mapping[str, str],
    source: str,
) -> Iterator[ParsedItem]:
    """Yield the items of `open_items(known)`, produced in a forked child, in their order.

    `stored` maps PMID to the fingerprint the evidence base holds; the child's `known` answers
    from it. A PMID the child has already read in full, or seen deleted, earlier in this file is
    never reported unchanged: the parent may have changed that publication in this import.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: read, send, exit without running the parent's clean-up code
        status = 1
        try:
            os.close(read_fd)
            _child(open_items, stored, write_fd)
            status = 0
        finally:
            os._exit(status)
    os.close(write_fd)
    yield from _parent(pid, read_fd, source)


def _child(
    open_items: Callable[[KnownRecords], Iterator[ParsedItem]],
    stored: Mapping[str, str],
    write_fd: int,
) -> None:
    # Ctrl-C reaches the whole process group; the parent decides, and the child just goes.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    touched: set[str] = set()

    def known(pairs: Any) -> set[tuple[str, str]]:
        return {
            (pmid, fingerprint)
            for pmid, fingerprint in pairs
            if stored.get(pmid) == fingerprint and pmid not in touched
        }

    frame: list[tuple[int, Any]] = []
    append = frame.append
    with os.fdopen(write_fd, "wb", buffering=1 << 20) as pipe:

        def send(payload: Any) -> None:
            data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
            pipe.write(_HEADER.pack(len(data)))
            pipe.write(data)

        try:
            for item in open_items(known):
                if type(item) is ParsedRecord:
                    if item.pmid:
                        touched.add(item.pmid)
                    # Plain tuples pickle in C; named tuples call back into Python for each one.
                    append((_RECORD, (*item[:11], tuple(map(tuple, item.authors)), *item[12:])))
                elif type(item) is UnchangedRecord:
                    append((_UNCHANGED, (item.position, item.pmid)))
                elif type(item) is RecordError:
                    append((_ERROR, (item.position, item.message, item.identifier)))
                else:
                    assert type(item) is DeletedCitations
                    touched.update(item.pmids)
                    append((_DELETED, (item.position, item.pmids)))
                if len(frame) >= FRAME_ITEMS:
                    send(frame)
                    frame.clear()
            if frame:
                send(frame)
            send((_END, None))
        except LiteratureParseError as exc:
            if frame:
                send(frame)  # the records before the error: --skip-bad callers still list them
            send((_PARSE_FAILED, (exc.source, exc.detail, exc.position)))
        except BrokenPipeError:
            raise  # the parent has gone: nothing to tell it
        except BaseException:  # any failure must reach the parent, not vanish
            send((_CRASHED, traceback.format_exc(limit=8)))


def _parent(pid: int, read_fd: int, source: str) -> Iterator[ParsedItem]:
    frames: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUE_FRAMES)
    stop = threading.Event()
    reader = threading.Thread(
        target=_drain, args=(read_fd, frames, stop), name="literature-pipe", daemon=True
    )
    reader.start()
    finished = False
    try:
        while True:
            data = frames.get()
            if data is None:
                raise LiteratureParseError(
                    source, "the reader process ended before the end of the file"
                )
            # Trusted data: frames our own forked child wrote to a pipe only the two share.
            payload = pickle.loads(data)  # noqa: S301  # nosemgrep
            if type(payload) is tuple:
                kind, detail = payload
                if kind == _END:
                    finished = True
                    return
                if kind == _PARSE_FAILED:
                    failed_source, message, position = detail
                    raise LiteratureParseError(failed_source, message, position=position)
                raise RuntimeError(f"the reader process failed while reading {source}:\n{detail}")
            yield from _items(payload)
    finally:
        stop.set()
        if not finished:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        reader.join()  # it stops within one put timeout, or at the end of the pipe
        os.waitpid(pid, 0)


def _items(frame: list[tuple[int, Any]]) -> Iterator[ParsedItem]:
    make_record = ParsedRecord._make
    make_author = Author._make
    for kind, values in frame:
        if kind == _RECORD:
            authors = tuple(map(make_author, values[11]))
            yield make_record((*values[:11], authors, *values[12:]))
        elif kind == _UNCHANGED:
            yield UnchangedRecord(*values)
        elif kind == _ERROR:
            yield RecordError(*values)
        else:
            yield DeletedCitations(*values)


def _drain(read_fd: int, frames: queue.Queue[bytes | None], stop: threading.Event) -> None:
    """Move frames from the pipe into the queue, so the child never waits while we write."""
    with os.fdopen(read_fd, "rb", buffering=1 << 20) as pipe:
        while not stop.is_set():
            header = pipe.read(_HEADER.size)
            size = _HEADER.unpack(header)[0] if len(header) == _HEADER.size else 0
            data = pipe.read(size) if size else b""
            if not data or len(data) != size:
                _put(frames, None, stop)  # end of the pipe (or a frame cut short): child gone
                return
            _put(frames, data, stop)


def _put(frames: queue.Queue[bytes | None], data: bytes | None, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            frames.put(data, timeout=0.1)
            return
        except queue.Full:
            continue
