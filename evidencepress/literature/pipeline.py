"""Read a large MEDLINE XML file in forked reader processes, in parallel, while this process
writes.

Importing a MEDLINE baseline file is two kinds of work: reading (lxml parsing, fingerprinting and
extracting each record) and writing (deduplicating, hashing, encoding and inserting). On one core
they take turns. Here forked readers read and the parent, which holds the database transaction,
writes; reading is itself split between the readers, so it runs on as many cores as there are
readers (bench/ingest.py measures both).

How the file is split. Every reader opens the file itself and cuts it, by a byte search, into
chunks of about CHUNK_BYTES that start at a record's start tag; all readers cut it the same way,
and reader i parses chunks i, i + n, i + 2n, … Each chunk is parsed as a document of its own: the
file's prefix (XML declaration, DOCTYPE, the record set's start tag), the chunk's bytes, and the
set's end tag. That gives exactly what the whole file gives for those records, because:
- the prefix is checked once: it parses on its own (with the end tag added), holds no record
  start, and no comment, CDATA section or processing instruction after the set's start tag;
- a chunk parses without error only if it ends between records, at the set's own level; a cut
  made inside a comment or a record (a record start tag written inside text, say) makes that
  chunk, or the next, malformed;
- from the first comment, CDATA section or processing instruction inside the set, the rest of the
  file is one last chunk: the byte search stops where such a construct could hide a tag, and the
  fingerprints of those records are taken as one reading of the file takes them (medline_xml).

Readers send items through pipes as pickled frames of plain tuples (cheap to pickle, unlike named
tuples and dataclasses), with each record's position within its chunk; the parent takes the
chunks in file order, numbers the records through and yields the items, so the importer sees
exactly the stream it would have read itself. Readers never touch the database: they inherit,
through fork, the stored (PMID, fingerprint) pairs that let them skip records already held
unchanged. A record a reader calls unchanged whose PMID an earlier chunk read in full or deleted
is not trusted (this import may have changed that publication).

Whenever the parallel reading cannot go on (a chunk or the file is malformed, a reader failed or
died, or an unchanged record cannot be trusted), the parent stops the readers and reads the file
again itself, in one piece, from the start: it skips the items already yielded and goes on from
there. Errors are therefore raised, and their lines and records named, exactly as one reading of
the file names them; a parse error costs time, never a different result. The parent kills and
reaps the readers on every path, and a reader whose parent has gone dies at its next write.

Pure: imports nothing from Django.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import pickle
import queue
import signal
import struct
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, BinaryIO

from lxml import etree

from .medline_bytes import RECORD_START, ROOT_START, find_opener
from .records import (
    Author,
    DeletedCitations,
    KnownRecords,
    ParsedItem,
    ParsedRecord,
    RecordError,
    UnchangedRecord,
)

# Files this large (on disk) are read in parallel by default: below it, forking costs more than it
# saves. The importer takes its threshold from settings (LITERATURE_READER_PROCESS_MIN_BYTES).
MIN_BYTES = 4 << 20
# Reader processes: with two, reading runs on two cores. More would help only on more cores.
READERS = 2
# Bytes of records per chunk: about 300 records of a baseline file. Large enough that a chunk's
# fixed costs (a parser, a frame) vanish, small enough to share a file of a few MB.
CHUNK_BYTES = 2 << 20
# Items per frame: large enough that pickling is a few big calls, small enough to keep the parent
# busy from the start and the queue's memory small (a frame of MEDLINE records is about 1.5 MB).
FRAME_ITEMS = 512
# Frames the parent may hold unread from each reader; a reader blocks once they and its pipe are
# full.
QUEUE_FRAMES = 8
_READ_BYTES = 1 << 20
_HEADER = struct.Struct("<Q")
_RECORD, _UNCHANGED, _ERROR, _DELETED = range(4)
_CHUNK_END, _END, _FAILED = "chunk", "end", "failed"

_PREFIX_LIMIT = 1 << 20  # a prefix longer than this is not looked for: one chunk
# glibc's mallopt() parameters (malloc.h), and the values a reader sets (see _keep_freed_memory).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD = 32 << 20  # as high as glibc's own moving threshold ever goes (64-bit)
_TRIM_THRESHOLD = 256 << 20

Parse = Callable[[BinaryIO, "KnownRecords | None"], Iterator[ParsedItem]]


def available() -> bool:
    """Whether reader processes can be used: fork exists, two cores, and no other threads.

    fork() copies only the calling thread; a lock another thread held at that moment stays held
    in the child forever. So a server process with worker threads imports serially.
    """
    return hasattr(os, "fork") and (os.cpu_count() or 1) >= 2 and threading.active_count() == 1


def read_in_parallel(
    open_file: Callable[[], BinaryIO],
    parse: Parse,
    *,
    stored: Mapping[str, str] | None,
    known: KnownRecords | None,
    readers: int | None = None,
    chunk_bytes: int | None = None,
) -> Iterator[ParsedItem]:
    """Yield the items of `parse(open_file(), known)`, read by forked readers, in file order.

    `open_file` opens the file afresh (each reader opens it; so does this process, should it
    have to read the file itself). `parse(stream, known)` parses a MEDLINE XML stream.
    `stored` maps PMID to the fingerprint the evidence base holds, for the readers' `known`;
    None means no known (every record is read in full). `known` is what this process passes
    when it reads the file itself. `readers` and `chunk_bytes` default to READERS and
    CHUNK_BYTES.
    """
    readers = readers or READERS
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    children: list[tuple[int, int]] = []
    try:
        for index in range(readers):
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:  # a reader: read, send, exit without running the parent's clean-up
                status = 1
                try:
                    os.close(read_fd)
                    for _pid, other_fd in children:
                        os.close(other_fd)
                    _reader(open_file, parse, stored, write_fd, index, readers, chunk_bytes)
                    status = 0
                finally:
                    os._exit(status)
            os.close(write_fd)
            children.append((pid, read_fd))
    except BaseException:
        _stop(children, [])
        raise
    yield from _parent(children, open_file, parse, known)


# --- the readers -------------------------------------------------------------------------------


def _reader(
    open_file: Callable[[], BinaryIO],
    parse: Parse,
    stored: Mapping[str, str] | None,
    write_fd: int,
    me: int,
    readers: int,
    chunk_bytes: int,
) -> None:
    # Ctrl-C reaches the whole process group; the parent decides, and a reader just goes.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _keep_freed_memory()
    touched: set[str] = set()

    def known_pairs(pairs: Any) -> set[tuple[str, str]]:
        assert stored is not None
        return {
            (pmid, fingerprint)
            for pmid, fingerprint in pairs
            if stored.get(pmid) == fingerprint and pmid not in touched
        }

    known = known_pairs if stored is not None else None
    with os.fdopen(write_fd, "wb", buffering=1 << 20) as pipe:

        def send(payload: Any) -> None:
            data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
            pipe.write(_HEADER.pack(len(data)))
            pipe.write(data)

        chunks = 0
        try:
            with open_file() as stream:
                for chunks, chunk in enumerate(_chunks(stream, chunk_bytes), start=1):
                    if (chunks - 1) % readers == me:
                        with chunk() as data:
                            count = _send_items(parse(data, known), touched, send)
                        send((_CHUNK_END, count))
                        pipe.flush()  # the parent is waiting for this chunk: let it go on
            send((_END, chunks))
        except BrokenPipeError:
            raise  # the parent has gone: nothing to tell it
        except BaseException:  # a malformed chunk or file, or a bug: the parent reads it itself
            send((_FAILED, None))


def _keep_freed_memory() -> None:
    """Let this reader reuse the memory it frees instead of giving it back to the system.

    glibc serves each allocation of 128 KiB or more (a chunk's document, a pickled frame, lxml's
    buffers) with new pages from mmap and unmaps them when freed, so a reader took a page fault
    for every 4 KiB it wrote to: about 190,000 faults for the two readers of a baseline file.
    With a fixed mmap threshold of 32 MiB and a trim threshold of 256 MiB, freed memory is
    reused: about 10,000 faults, and a parser run 8-15% faster (bench/README.md). A reader lives
    for one reading, so memory it keeps is given back when it exits. Without glibc's mallopt
    (another C library) nothing changes.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
    mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)


def _send_items(items: Iterator[ParsedItem], touched: set[str], send: Any) -> int:
    """Send one chunk's items in frames; return how many there were."""
    frame: list[tuple[int, Any]] = []
    append = frame.append
    count = 0
    for item in items:
        count += 1
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
    return count


def _chunks(stream: BinaryIO, chunk_bytes: int) -> Iterator[Callable[[], BinaryIO]]:
    """Cut a MEDLINE XML stream into chunks that parse on their own (see the module's text).

    Yields, for each chunk in order, a function that makes the chunk's document as a stream (only
    the reader that parses a chunk pays for making it). The last chunk streams the rest of the
    file; a file that cannot be cut safely is one chunk.
    """
    buffer = bytearray()
    at_end = False

    def read_more() -> bool:
        nonlocal at_end
        data = stream.read(_READ_BYTES)
        if not data:
            at_end = True
        buffer.extend(data)
        return not at_end

    root = first = None
    while root is None or first is None:
        root = ROOT_START.search(buffer)
        if root is not None:
            first = RECORD_START.search(buffer, root.end())
        if (root is None or first is None) and (len(buffer) > _PREFIX_LIMIT or not read_more()):
            break
    if root is None or first is None:
        yield _rest(b"", buffer, stream)
        return
    prefix = bytes(buffer[: first.start()])
    close = b"</" + root.group(1) + b">"
    if not _safe_prefix(prefix, root, close):
        yield _rest(b"", buffer, stream)
        return

    body = first.start()  # where openers are looked for, from the first record on
    start = 0  # the chunk's start in the buffer; chunk 0 starts at the file's first byte
    head = b""  # what the chunk's document starts with: the prefix, except for chunk 0
    while True:
        search = start + chunk_bytes
        boundary = None
        while boundary is None:
            boundary = RECORD_START.search(buffer, max(search, body + 1))
            if boundary is None:
                search = max(search, len(buffer) - 32)  # a tag may straddle two reads
                if not read_more():
                    break
        if boundary is None or find_opener(buffer, body, boundary.start()) >= 0:
            yield _rest(head, buffer[start:], stream)
            return
        end = boundary.start()
        yield _piece(head, buffer, start, end, close)
        del buffer[:end]
        start = body = 0
        head = prefix


def _safe_prefix(prefix: bytes, root: Any, close: bytes) -> bool:
    """Whether the prefix can start every chunk: it parses on its own, ending inside the set,
    holds no record start, and nothing after the set's start tag could hide a tag."""
    if RECORD_START.search(prefix) is not None:
        return False
    if find_opener(prefix, root.end(), len(prefix)) >= 0:
        return False
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        document = etree.fromstring(prefix + close, parser)
    except etree.XMLSyntaxError:
        return False
    return bool(document.tag == root.group(1).decode() and len(document) == 0)


def _piece(head: bytes, buffer: bytearray, start: int, end: int, close: bytes) -> Any:
    return lambda: io.BytesIO(b"".join((head, buffer[start:end], close)))


def _rest(head: bytes, buffered: bytes | bytearray, stream: BinaryIO) -> Any:
    held = bytes(head) + bytes(buffered)
    return lambda: _Joined(held, stream)


class _Joined(io.RawIOBase):
    """Bytes already read, then the rest of a stream (which it does not close)."""

    def __init__(self, held: bytes, stream: BinaryIO) -> None:
        super().__init__()
        self._held = memoryview(held)
        self._at = 0
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._at < len(self._held):
            n = min(len(buffer), len(self._held) - self._at)
            buffer[:n] = self._held[self._at : self._at + n]
            self._at += n
            return n
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


# --- the parent --------------------------------------------------------------------------------


class _Fallback(Exception):
    """The parallel reading cannot go on: the parent reads the file itself."""


def _parent(
    children: list[tuple[int, int]],
    open_file: Callable[[], BinaryIO],
    parse: Parse,
    known: KnownRecords | None,
) -> Iterator[ParsedItem]:
    stop = threading.Event()
    frames: list[queue.Queue[bytes | None]] = []
    drains: list[threading.Thread] = []
    for _pid, read_fd in children:
        frames.append(queue.Queue(maxsize=QUEUE_FRAMES))
        drains.append(
            threading.Thread(
                target=_drain,
                args=(read_fd, frames[-1], stop),
                name="literature-pipe",
                daemon=True,
            )
        )
        drains[-1].start()
    state = _Merged()
    try:
        try:
            yield from state.merge(frames)
            return
        except _Fallback:
            pass
        _stop(children, drains, stop)
        children = []
        yield from _read_again(open_file, parse, known, state.done)
    finally:
        _stop(children, drains, stop)


def _read_again(
    open_file: Callable[[], BinaryIO], parse: Parse, known: KnownRecords | None, done: int
) -> Iterator[ParsedItem]:
    """Read the file in this process, in one piece, yielding the items after position `done`."""
    with open_file() as stream:
        for item in parse(stream, known):
            if item.position > done:
                yield item


class _Merged:
    """Takes the readers' chunks in file order and numbers their records through."""

    def __init__(self) -> None:
        self.done = 0  # the position of the last item yielded
        self.offset = 0  # the records of the chunks before this one
        self.touched: set[str] = set()  # PMIDs read in full or deleted so far

    def merge(self, frames: list[queue.Queue[bytes | None]]) -> Iterator[ParsedItem]:
        chunk = 0
        while True:
            data = frames[chunk % len(frames)].get()
            if data is None:
                raise _Fallback  # the reader died
            # Trusted data: frames our own forked reader wrote to a pipe only the two share.
            payload = pickle.loads(data)  # noqa: S301  # nosemgrep
            if type(payload) is list:
                yield from self._items(payload)
                continue
            kind, detail = payload
            if kind == _CHUNK_END:
                self.offset += detail
                chunk += 1
            elif kind == _END and detail == chunk:
                return
            else:
                raise _Fallback  # the reader failed

    def _items(self, frame: list[tuple[int, Any]]) -> Iterator[ParsedItem]:
        make_record = ParsedRecord._make
        make_author = Author._make
        touched = self.touched
        offset = self.offset
        for kind, values in frame:
            if kind == _RECORD:
                authors = tuple(map(make_author, values[11]))
                position = values[1] + offset
                item: ParsedItem = make_record(
                    (values[0], position, *values[2:11], authors, *values[12:])
                )
                if values[3]:
                    touched.add(values[3])
            elif kind == _UNCHANGED:
                position = values[0] + offset
                if values[1] in touched:
                    raise _Fallback  # an earlier chunk changed it: its fingerprint is stale
                item = UnchangedRecord(position, values[1])
            elif kind == _ERROR:
                position = values[0] + offset
                item = RecordError(position, values[1], values[2])
            else:
                position = values[0] + offset
                touched.update(values[1])
                item = DeletedCitations(position, values[1])
            yield item
            self.done = position


def _stop(
    children: list[tuple[int, int]],
    drains: list[threading.Thread],
    stop: threading.Event | None = None,
) -> None:
    """Kill and reap the readers, and end the threads that drain their pipes."""
    if stop is not None:
        stop.set()
    for pid, _read_fd in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for drain in drains:
        drain.join()  # each stops within one put timeout, or at the end of its pipe
    for pid, read_fd in children:
        if not drains:
            with contextlib.suppress(OSError):
                os.close(read_fd)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _drain(read_fd: int, frames: queue.Queue[bytes | None], stop: threading.Event) -> None:
    """Move frames from a pipe into a queue, so a reader never waits while we write."""
    with os.fdopen(read_fd, "rb", buffering=1 << 20) as pipe:
        while not stop.is_set():
            header = pipe.read(_HEADER.size)
            size = _HEADER.unpack(header)[0] if len(header) == _HEADER.size else 0
            data = pipe.read(size) if size else b""
            if not data or len(data) != size:
                _put(frames, None, stop)  # end of the pipe (or a frame cut short): reader gone
                return
            _put(frames, data, stop)


def _put(frames: queue.Queue[bytes | None], data: bytes | None, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            frames.put(data, timeout=0.1)
            return
        except queue.Full:
            continue
