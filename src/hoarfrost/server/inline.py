"""Which statements run on the event loop itself instead of a worker thread.

Handing a statement to a thread and its answer back costs two thread wake-ups, 0.3 to 0.7 ms on
a virtual machine: more than a small statement (``SELECT 1``, a lookup by key, a ``USE``) takes
to run, and the client waits for every one of them. Such a statement runs on the event loop, which
then serves no other request meanwhile; so only a text whose last run took under
:data:`INLINE_SECONDS` qualifies, and its first run, and any run after a slow one, go to a thread.
A statement that turns slow holds up the other clients for that one run only.
"""

from __future__ import annotations

import threading

__all__ = ["INLINE_SECONDS", "InlineStatements"]

# A statement that ran this fast last time runs on the event loop; other requests wait about
# this long behind it at worst. Well above what a small statement takes (under 1 ms) because on a
# busy or virtual machine its runs now and then take a few ms: a bound that close would send it
# back to a thread after every such run.
INLINE_SECONDS = 0.010
# Texts longer than this are not remembered: they do not run this fast anyway.
_MAX_TEXT = 4096
_MAX_TEXTS = 4096


class InlineStatements:
    """The texts (of any session) whose last run was quick."""

    def __init__(self, limit: float = INLINE_SECONDS):
        self._limit = limit
        self._quick: set[str] = set()
        self._lock = threading.Lock()

    def inline(self, text: object) -> bool:
        return isinstance(text, str) and text in self._quick

    def observe(self, text: object, seconds: float) -> None:
        """Remember how long a run of ``text`` took."""
        if not isinstance(text, str) or len(text) > _MAX_TEXT:
            return
        with self._lock:
            if seconds < self._limit:
                if len(self._quick) >= _MAX_TEXTS:
                    self._quick.clear()  # a new working set: it is rebuilt in one run each
                self._quick.add(text)
            else:
                self._quick.discard(text)
