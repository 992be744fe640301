"""Importing momentum (and every submodule) opens no network connection and writes no file, and
imports no Matplotlib (pyplot, the font cache and the config directory come only with a plot).

A fresh interpreter with a fresh, empty HOME imports the third-party packages first (NumPy,
SciPy, torch; not Matplotlib, which momentum imports lazily), then installs a
``sys.addaudithook`` hook that records every file opened for writing, every directory created
or file removed or renamed, and every socket or DNS call, and only then imports momentum and
each of its submodules. Bytecode caching is switched off (``-B``): writing ``__pycache__`` is
Python's, not the library's. A control run checks that the hook does catch a write and a
connection attempt, so a clean result means something.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(r"""
    import importlib, json, os, pkgutil, sys
    import numpy, scipy, torch  # third parties first (Matplotlib is not imported by momentum)
    events = []
    NET = ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.bind",
           "socket.sendto", "urllib.Request", "http.client.connect", "ftplib.connect")
    FS = ("os.mkdir", "os.remove", "os.rename", "os.rmdir", "shutil.rmtree", "os.truncate",
          "shutil.copyfile", "os.symlink", "os.link")
    WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

    def hook(event, args):
        if event in NET or event in FS:
            events.append([event, repr(args)[:200]])
        elif event == "open" and len(args) >= 3:
            path, mode, flags = args[0], args[1], args[2]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & WRITE_FLAGS)
            if writing:
                events.append([event, repr(args)[:200]])

    sys.addaudithook(hook)
    if sys.argv[1] == "control":
        open(os.path.join(sys.argv[2], "written.txt"), "w").close()
        import socket
        try:
            socket.create_connection(("127.0.0.1", 9), timeout=0.2).close()
        except OSError:
            pass
    else:
        import momentum
        names = [m.name for m in pkgutil.iter_modules(momentum.__path__)]
        for name in names:
            importlib.import_module("momentum." + name)
        events.append(["imported", ",".join(sorted(names))])
        for lazy in ("matplotlib", "matplotlib.pyplot", "matplotlib.font_manager", "ipywidgets"):
            if lazy in sys.modules:
                events.append(["imported-eagerly", lazy])
    print("EVENTS" + json.dumps(events))
""")


def _run(mode: str, tmp_path: Path):
    home = tmp_path.parent / (tmp_path.name + "-home")      # a fresh home directory
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")}
    env.update(PYTHONDONTWRITEBYTECODE="1", HOME=str(home))
    out = subprocess.run([sys.executable, "-B", "-c", SCRIPT, mode, str(tmp_path)], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=300, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("EVENTS"))
    events = json.loads(line[len("EVENTS"):])
    if mode == "import":    # nothing appeared in the fresh home (no font cache, no config dir)
        events += [["home", str(p)] for p in home.rglob("*")]
    return events


def test_importing_momentum_touches_no_network_and_writes_no_file(tmp_path):
    events = _run("import", tmp_path)
    imported = [e for e in events if e[0] == "imported"]
    assert imported and "optimizers" in imported[0][1] and "check" in imported[0][1]
    assert [e for e in events if e[0] != "imported"] == []
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "no file appeared in the cwd"


def test_the_audit_hook_does_catch_writes_and_connections(tmp_path):
    kinds = {e[0] for e in _run("control", tmp_path)}
    assert "open" in kinds and "socket.connect" in kinds
