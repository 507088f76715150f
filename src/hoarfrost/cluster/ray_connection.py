"""This process's connection to a Ray cluster, shared by its engines.

``ray.init`` is process-wide: every engine of the process that uses Ray shares one connection
to one cluster, counted so that the last engine to close disconnects. The engine is a Ray
*driver*: its machine must run a Ray node of the cluster (``ray start --address ...``), which is
also where Ray starts nothing for it: the actors live on the nodes.

Reaching the cluster is checked with a plain TCP connection to the head's GCS first, with a
timeout: ``ray.init`` itself retries for a long time before it gives up on an address.
"""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass
from typing import Any

from hoarfrost.errors import ConfigurationError

__all__ = ["NAMESPACE", "NodeInfo", "alive_nodes", "connect", "disconnect"]

NAMESPACE = "hoarfrost"  # named actors of every engine live here (names carry a backend id)
_CONNECT_TIMEOUT = 5.0

_lock = threading.Lock()
_address: str | None = None
_users = 0


@dataclass(frozen=True)
class NodeInfo:
    node_id: str
    address: str  # the node's IP address as Ray knows it


def _split(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ConfigurationError(
            f"HOARFROST_RAY_ADDRESS '{address}' is not host:port (the Ray head's GCS address, "
            "e.g. 10.0.0.5:6379)."
        )
    return host.strip("[]"), int(port)


def _check_reachable(address: str) -> None:
    host, port = _split(address)
    try:
        with socket.create_connection((host, port), timeout=_CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        raise ConfigurationError(
            f"Cannot reach the Ray cluster at {address} (setting HOARFROST_RAY_ADDRESS): "
            f"{exc.strerror or exc}. Start it with `ray start --head` or fix the address."
        ) from None


def connect(address: str | None, node_address: str | None) -> None:
    """Connect this process to the cluster at ``address`` (once; later engines share it)."""
    global _address, _users
    if not address:
        raise ConfigurationError(
            "HOARFROST_WORKER_BACKEND is 'ray' but HOARFROST_RAY_ADDRESS is not set: give the "
            "Ray head's host:port."
        )
    import ray

    _check_reachable(address)
    with _lock:
        if _users and _address == address:
            _users += 1
            return
        if _users or ray.is_initialized():
            raise ConfigurationError(
                f"This process is already connected to the Ray cluster at {_address or '?'}; "
                f"it cannot also use {address} (one Ray cluster per process)."
            )
        options: dict[str, Any] = {}
        if node_address:
            options["_node_ip_address"] = node_address
        try:
            ray.init(
                address=address,
                namespace=NAMESPACE,
                logging_level=logging.WARNING,
                log_to_driver=False,  # user output goes to the nodes' logs, not our stdout
                **options,
            )
        except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError ...
            raise ConfigurationError(
                f"Cannot connect to the Ray cluster at {address} (setting "
                f"HOARFROST_RAY_ADDRESS): {exc}"
            ) from None
        _address, _users = address, 1


def disconnect() -> None:
    global _address, _users
    import ray

    with _lock:
        if _users == 0:
            return
        _users -= 1
        if _users == 0:
            _address = None
            ray.shutdown()


def alive_nodes() -> list[NodeInfo]:
    """The nodes the cluster's GCS holds alive, in a stable order."""
    import ray

    nodes = [
        NodeInfo(node_id=str(n["NodeID"]), address=str(n["NodeManagerAddress"]))
        for n in ray.nodes()
        if n.get("Alive")
    ]
    return sorted(nodes, key=lambda n: (n.address, n.node_id))
