"""A real Ray cluster on loopback: a head and more nodes, each a `ray start --block` process
of one CPU, in its own session and temporary directory, stopped by killing what it started.

Ray replaces 127.0.0.1 (and "localhost") by the machine's outward address, so the nodes use
other loopback addresses (127.0.0.2, 127.0.0.3, ...): every byte stays on this machine, and each
node has an address of its own, as on a real cluster. Nodes get a scrubbed environment (no
variable of the test process), so what they hold came through hoarfrost.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["RayCluster", "RayNode", "descendants"]

_START_TIMEOUT = 90.0
_RAY = str(Path(sys.executable).parent / "ray")


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class RayNode:
    address: str  # loopback IP of the node
    temp_dir: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None
    pids: set[int] = field(default_factory=set)  # every process seen in its tree

    def tree(self) -> list[int]:
        """The live processes of this node (ray start and all it started), remembered."""
        if self.process is None:
            return []
        found = descendants(self.process.pid)
        self.pids.update(found)
        return found

    def kill(self) -> None:
        """SIGKILL the node's whole tree at once, as a machine that dies would."""
        if self.process is None:
            return
        victims = self.tree()
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(10)
        self.process = None


class RayCluster:
    def __init__(self, base: Path, nodes: int = 2, object_store: int = 300 << 20):
        self.base = base
        self.object_store = object_store
        self.nodes = [
            RayNode(f"127.0.0.{i + 2}", base / f"node{i}", base / f"node{i}.log")
            for i in range(nodes)
        ]
        self.gcs_port = _free_port(self.nodes[0].address)
        self.home = base / "home"  # HOME of the node processes
        self.home.mkdir(parents=True, exist_ok=True)

    @property
    def address(self) -> str:
        return f"{self.nodes[0].address}:{self.gcs_port}"

    def _env(self) -> dict[str, str]:
        return {
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "RAY_USAGE_STATS_ENABLED": "0",
        }

    def start(self, count: int | None = None) -> RayCluster:
        """Start the first ``count`` nodes (default: all); :meth:`add` starts the next one."""
        for i, node in enumerate(self.nodes[: len(self.nodes) if count is None else count]):
            self._start(node, head=i == 0)
        return self

    def add(self) -> RayNode:
        node = next(n for n in self.nodes if n.process is None and not n.pids)
        self._start(node, head=node is self.nodes[0])
        return node

    def _start(self, node: RayNode, *, head: bool) -> None:
        node.temp_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            _RAY,
            "start",
            "--block",
            "--node-ip-address",
            node.address,
            "--num-cpus",
            "1",
            "--object-store-memory",
            str(self.object_store),
            "--temp-dir",
            str(node.temp_dir),
            "--dashboard-agent-listen-port",
            str(_free_port(node.address)),
            "--disable-usage-stats",
        ]
        if head:
            argv += ["--head", "--port", str(self.gcs_port), "--include-dashboard", "false"]
            argv += ["--dashboard-port", str(_free_port(node.address))]
        else:
            argv += ["--address", self.address]
        log = node.log.open("ab")
        node.process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, env=self._env(), start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + _START_TIMEOUT
        while b"Ray runtime started" not in node.log.read_bytes():
            if node.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ray start failed for {node.address}:\n{node.log.read_text()}")
            time.sleep(0.2)
        node.tree()

    def restart(self, node: RayNode) -> None:
        """Start a killed node again (a new Ray node at the same address)."""
        assert node.process is None
        self._start(node, head=node is self.nodes[0])

    def stop(self) -> None:
        for node in reversed(self.nodes):
            if node.process is None:
                continue
            victims = node.tree()
            node.process.send_signal(signal.SIGTERM)  # ray start stops what it started
            try:
                node.process.wait(20)
            except subprocess.TimeoutExpired:
                pass
            for pid in [*victims, *descendants(node.process.pid)]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                node.process.wait(10)
            node.process = None

    def __enter__(self) -> RayCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def descendants(root: int) -> list[int]:
    """``root`` and every live process below it (from /proc's parent links)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    found, i = [root], 0
    while i < len(found):
        found += children.get(found[i], [])
        i += 1
    return [pid for pid in found if Path(f"/proc/{pid}").exists()]
