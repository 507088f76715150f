"""The first users of the wire server, from the settings, and the login throttle.

The users named here are created in the account's catalog when the server starts (the first
one holding ACCOUNTADMIN, see :func:`bootstrap`); logins are checked against the catalog's
users, whose passwords are kept as scrypt hashes (CREATE / ALTER USER manage them).

Sources, first found wins: the ``server_users`` setting (``HOARFROST_SERVER_USERS``,
``'user:password,...'``), the ``server_users_file`` (one ``user:password`` a line, ``#``
comments), else one generated user. The generated password of an account with a home directory
is kept in ``<home>/server-credentials`` (mode 0600) so it survives restarts; the server prints
only that file's path. Passwords live in :class:`Password` objects whose ``repr`` is masked, and
are compared in constant time. User names are case-insensitive, like unquoted Snowflake names.

Failed logins are throttled per user like the reference's password policy (PASSWORD_MAX_RETRIES,
default 5; PASSWORD_LOCKOUT_TIME_MINS, default 15): after ``server_login_max_retries``
consecutive failures the user is locked for ``server_login_lockout`` seconds, and every login
of that user, even with the right password, is refused until then (:class:`LoginThrottle`).
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hoarfrost.catalog.store import CatalogStore
from hoarfrost.catalog.users import bootstrap_user
from hoarfrost.config import Settings
from hoarfrost.errors import ConfigurationError

__all__ = ["CREDENTIALS_FILE", "LoginThrottle", "Password", "Users", "bootstrap", "load_users"]

CREDENTIALS_FILE = "server-credentials"


class Password:
    """A password that never shows itself in a repr, a log line or a traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def matches(self, candidate: str) -> bool:
        # surrogatepass: a candidate with a lone surrogate is just wrong, never an exception
        return hmac.compare_digest(self._value.encode(), candidate.encode("utf-8", "surrogatepass"))

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Password('***')"

    __str__ = __repr__


@dataclass
class Users:
    """User name (upper case) -> password; ``origin`` says where they came from (no secret)."""

    passwords: dict[str, Password]
    origin: str

    def verify(self, login: str, password: str) -> str | None:
        """The canonical user name when the pair is right, else None."""
        expected = self.passwords.get(login.strip().upper())
        # Compare even for an unknown user, so timing does not tell which names exist.
        ok = (expected or Password(secrets.token_hex(16))).matches(password)
        return login.strip().upper() if expected is not None and ok else None


def bootstrap(store: CatalogStore, users: Users) -> None:
    """Create the setting's users in the catalog when missing (the first one holds
    ACCOUNTADMIN); a user that exists keeps its password unless it has none."""
    for number, (name, password) in enumerate(users.passwords.items()):
        bootstrap_user(store, name, password.reveal(), admin=number == 0)


@dataclass
class _Failures:
    count: int = 0
    locked_until: float = 0.0


class LoginThrottle:
    """Consecutive failed logins per user name, and the users they locked.

    Names that are not users are counted too, so that whether a name gets locked does not tell
    which names exist; the table keeps the ``capacity`` most recently failed names, so a flood
    of invented names cannot grow it without bound. Failures while locked neither count nor
    extend the lock: the user gets in once it ends.
    """

    def __init__(
        self,
        max_retries: int,
        lockout: float,
        capacity: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.max_retries = max_retries
        self.lockout = lockout
        self._capacity = capacity
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: OrderedDict[str, _Failures] = OrderedDict()

    def locked(self, login: str) -> bool:
        """True while ``login`` is locked (a lock that ended is forgotten)."""
        name = login.strip().upper()
        with self._lock:
            entry = self._failures.get(name)
            if entry is None or not entry.locked_until:
                return False
            if self._clock() < entry.locked_until:
                return True
            del self._failures[name]
            return False

    def failed(self, login: str) -> None:
        name = login.strip().upper()
        with self._lock:
            entry = self._failures.pop(name, None) or _Failures()
            self._failures[name] = entry  # most recent last
            entry.count += 1
            if self.max_retries > 0 and entry.count >= self.max_retries:
                entry.locked_until = self._clock() + self.lockout
            while len(self._failures) > self._capacity:
                self._failures.popitem(last=False)

    def succeeded(self, login: str) -> None:
        with self._lock:
            self._failures.pop(login.strip().upper(), None)


def parse_users(text: str, source: str) -> dict[str, Password]:
    """``user:password`` entries separated by commas or new lines."""
    users: dict[str, Password] = {}
    for number, entry in enumerate(text.replace(",", "\n").splitlines(), 1):
        entry = entry.strip()
        if not entry or entry.startswith("#"):
            continue
        name, sep, password = entry.partition(":")
        if not sep or not name.strip() or not password:
            # Never echo the entry: it holds a password.
            raise ConfigurationError(
                f"{source}: entry {number} is not 'user:password' with a non-empty user and "
                "password."
            )
        users[name.strip().upper()] = Password(password)
    if not users:
        raise ConfigurationError(f"{source}: no 'user:password' entry.")
    return users


def load_users(settings: Settings, home: Path | None) -> tuple[Users, str | None]:
    """The users, and a one-time notice for the operator when a password was generated."""
    if settings.server_users:
        return Users(parse_users(settings.server_users, "HOARFROST_SERVER_USERS"), "env"), None
    if settings.server_users_file is not None:
        path = Path(settings.server_users_file)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"Cannot read the server users file {path}: {exc.strerror}.")
        return Users(parse_users(text, str(path)), str(path)), None
    return _generated(settings.user, home)


def _generated(user: str, home: Path | None) -> tuple[Users, str | None]:
    if home is None:
        password = secrets.token_urlsafe(18)
        notice = (
            f"hoarfrost serve: user {user}, generated password {password} "
            "(shown once; set HOARFROST_SERVER_USERS to choose your own)"
        )
        return Users({user: Password(password)}, "generated"), notice
    path = home / CREDENTIALS_FILE
    if not path.exists():
        _write_private(path, f"{user}:{secrets.token_urlsafe(18)}\n")
    users = parse_users(path.read_text(encoding="utf-8"), str(path))
    names = ", ".join(sorted(users))
    notice = f"hoarfrost serve: user(s) {names}; the password is in {path}"
    return Users(users, str(path)), notice


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(fd, "w", encoding="utf-8") as file:
        file.write(text)
