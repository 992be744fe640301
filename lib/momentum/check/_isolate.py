"""Running a reader's function where it cannot reach, outlast or change the checker.

:func:`calls` runs ``fn`` on a list of argument tuples in a **forked child process** (a copy of
the kernel, so a function defined in a notebook needs no pickling) and yields, case by case,
what came back, as plain data: ``("returned", value, changed)`` with ``value`` rebuilt from
NumPy arrays (never unpickled objects), ``("raised", name, text)``, ``("timeout",)``,
``("large", size)`` or ``("ended",)``. The checker computes its expected values only *after* the
fork, so the child's memory never holds them; whatever the function patches (the checker, NumPy,
torch, builtins) is patched in the child alone, which ends after the last case; a case that runs
past ``timeout`` seconds is ended with ``SIGKILL`` (the function cannot catch it, cancel it or
block it, whatever it does with signals, timers or ``__str__``); ``SystemExit``,
``KeyboardInterrupt`` and ``os._exit`` end only the child. The child leads a process group of
its own, and the whole group is killed at the end, so a process the function starts (a fork, a
``subprocess``) does not outlive the check (one that leaves the group on purpose, with
``setsid``, does; nothing short of a container stops that). An answer larger than
:data:`MAX_MESSAGE` bytes is refused unread. What the function prints is dropped (the child's
output would go to the kernel's sockets).

Where ``fork`` does not exist (Windows), the cases run in this process, without a deadline and
without isolation; :data:`ISOLATED` says which.
"""

from __future__ import annotations

import io
import json
import os
import select
import signal
import struct
import sys
import time
import zipfile

import numpy as np

#: True where the reader's function runs in a forked child with a hard deadline.
ISOLATED = hasattr(os, "fork")
#: The longest wait the operating system is asked for (a larger ``timeout`` means "no limit
#: in practice": ``timeout=1e300`` is accepted and waits at most this long per case).
MAX_WAIT = 86400.0 * 7
#: The most bytes one case's answer may take (the answers checked are at most a few hundred
#: kilobytes): a larger one is refused before it is read, so an answer cannot exhaust memory.
MAX_MESSAGE = 1 << 26


def _encode(value, arrays: list, depth: int = 0):
    """``value`` as JSON-able data, its arrays appended to ``arrays`` (runs in the child)."""
    try:
        import torch
        tensor = torch.Tensor
    except ImportError:  # pragma: no cover - the library needs torch
        tensor = ()
    if value is None:
        return {"kind": "none"}
    if isinstance(value, tensor):
        value = value.detach().cpu().resolve_conj().numpy()
    if isinstance(value, np.ndarray):
        arr = np.array(value, copy=True, subok=False)
        if arr.dtype.kind in "biufc":
            arrays.append(arr)
            return {"kind": "array", "index": len(arrays) - 1}
        return {"kind": "other", "name": f"array of {arr.dtype}"}
    if isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_)):
        arrays.append(np.asarray(value))
        return {"kind": "number", "name": type(value).__name__, "index": len(arrays) - 1}
    if isinstance(value, (list, tuple)) and depth < 2:
        return {"kind": "list" if isinstance(value, list) else "tuple",
                "items": [_encode(v, arrays, depth + 1) for v in value]}
    return {"kind": "other", "name": type(value).__name__}


class Returned:
    """Stands for a returned object that is neither None, an array nor a list of them; its
    ``name`` is the returned object's type name; for a number, ``value`` is it as a 0-d
    array (None otherwise)."""

    def __init__(self, name: str, value=None):
        self.name, self.value = name, value


def _decode(node, arrays):
    kind = node["kind"]
    if kind == "none":
        return None
    if kind == "array":
        return arrays[f"a{node['index']}"]
    if kind in ("list", "tuple"):
        items = [_decode(v, arrays) for v in node["items"]]
        return items if kind == "list" else tuple(items)
    value = arrays[f"a{node['index']}"] if kind == "number" else None
    return Returned(str(node.get("name", "object"))[:80], value)


def _inputs(args):
    """The arrays among a case's arguments (an array, or lists of them), for the in-place
    check."""
    out = []
    for a in args:
        if isinstance(a, np.ndarray):
            out.append(a)
        elif isinstance(a, (list, tuple)):
            out += _inputs(a)
    return out


def _one(fn, args, names):
    """Run ``fn(*args)`` and describe the outcome as (header, arrays) (in the child)."""
    before = [[x.copy() for x in _inputs([a])] for a in args]
    try:
        got = fn(*args)
        arrays: list = []
        node = _encode(got, arrays)
        changed = [n for n, a, b in zip(names, args, before, strict=True)
                   if len(_inputs([a])) != len(b)
                   or not all(np.array_equal(x, y) for x, y in zip(_inputs([a]), b))]
        return {"outcome": "returned", "value": node, "changed": changed}, arrays
    except BaseException as err:  # noqa: BLE001 - SystemExit, KeyboardInterrupt included
        try:
            text = str(err)[:2000]
        except BaseException:  # noqa: BLE001
            text = "(its message could not be printed)"
        return {"outcome": "raised", "name": type(err).__name__, "text": text}, []


def _pack(header, arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **{f"a{i}": a for i, a in enumerate(arrays)})
    head = json.dumps(header).encode()
    body = struct.pack("<I", len(head)) + head + buf.getvalue()
    return struct.pack("<Q", len(body)) + body


def _unpack(body: bytes):
    """The header and arrays of a message. The arrays are an uncompressed ``.npz`` no larger
    than the message (as :func:`_pack` writes it); anything else (a compressed entry that
    would expand past :data:`MAX_MESSAGE`, an array whose header claims more data than the
    entry holds) is refused with ValueError before NumPy allocates it."""
    (n,) = struct.unpack("<I", body[:4])
    header = json.loads(body[4:4 + n].decode())
    data = body[4 + n:]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            if info.compress_type != zipfile.ZIP_STORED or info.file_size > len(data):
                raise ValueError("a message holds a compressed or oversized entry")
            with zf.open(info) as f:
                version = np.lib.format.read_magic(f)
                read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                        else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read(f)
                if int(np.prod(shape, dtype=np.int64)) * dtype.itemsize > info.file_size:
                    raise ValueError("an array claims more data than its entry holds")
    arrays = np.load(io.BytesIO(data), allow_pickle=False)
    return header, {k: arrays[k] for k in arrays.files}


def _outcome(header, arrays):
    if header.get("outcome") == "returned":
        return ("returned", _decode(header["value"], arrays),
                [str(c) for c in header.get("changed", [])])
    return ("raised", str(header.get("name", "Exception"))[:80], str(header.get("text", "")))


def _child(fn, cases, names, fd):
    """The child: quiet output, one thread, each case's outcome written to ``fd``."""
    devnull = open(os.devnull, "w")     # noqa: SIM115 - the child ends with os._exit
    sys.stdout = sys.stderr = devnull
    os.dup2(devnull.fileno(), 1)
    os.dup2(devnull.fileno(), 2)
    for sig in (signal.SIGALRM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    try:
        import torch
        torch.set_num_threads(1)         # OpenMP's pool does not survive a fork
    except Exception:  # noqa: BLE001  # pragma: no cover
        pass
    for args in cases:
        message = _pack(*_one(fn, args, names))
        view = memoryview(message)
        while view:
            view = view[os.write(fd, view):]


def _read(fd, n: int, until: float) -> bytes | None:
    """``n`` bytes from ``fd`` before the monotonic time ``until``; None on timeout, short
    on end of file."""
    chunks, got = [], 0
    while got < n:
        left = until - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], min(left, MAX_WAIT))
        if not ready:
            return None
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def calls(fn, cases, names, timeout: float):
    """Yield the outcome of ``fn(*args)`` for each ``args`` in ``cases`` (see the module
    docstring), each under a deadline of ``timeout`` seconds. Stop iterating early to end the
    child; it is always reaped."""
    wait = min(float(timeout), MAX_WAIT)
    if not ISOLATED:  # pragma: no cover - Windows
        for args in cases:
            yield _outcome(*_unpack(_pack(*_one(fn, args, names))[8:]))
        return
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child (coverage cannot follow it)
        try:
            os.setpgid(0, 0)
            os.close(r)
            _child(fn, cases, names, w)
        finally:
            os._exit(0)
    os.close(w)
    try:
        os.setpgid(pid, pid)         # also here: the group exists before anything is killed
    except OSError:  # pragma: no cover - the child has set it already (or has ended)
        pass
    try:
        for _ in cases:
            until = time.monotonic() + wait
            size = _read(r, 8, until)
            if size is None:
                yield ("timeout",)
                return
            if len(size) < 8:
                yield ("ended",)
                return
            (n,) = struct.unpack("<Q", size)
            if n > MAX_MESSAGE:
                yield ("large", n)
                return
            body = _read(r, n, until)
            if body is None:
                yield ("timeout",)
                return
            try:
                outcome = _outcome(*_unpack(body))
            except Exception:  # noqa: BLE001 - a garbled message: the process wrote to it
                yield ("ended",)
                return
            yield outcome
    finally:
        for kill, target in ((os.killpg, pid), (os.kill, pid)):
            try:
                kill(target, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):  # pragma: no cover
                pass
        os.waitpid(pid, 0)
        os.close(r)
