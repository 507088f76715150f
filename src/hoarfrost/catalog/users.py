"""Users as catalog objects (kind USER), and their passwords as salted, slow hashes.

A password is kept only as ``scrypt$n$r$p$salt$hash`` (the standard library's scrypt, never
reversible); SHOW and DESCRIBE print ``has_password`` and never the hash. Verification takes the
same time for a user that does not exist, so timing does not tell which names exist.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os

from hoarfrost.catalog.roles import available_roles, grant_role
from hoarfrost.catalog.store import CatalogObject, CatalogStore
from hoarfrost.errors import ProgrammingError

__all__ = [
    "USER_PROPS",
    "authenticate",
    "bootstrap_user",
    "check_password",
    "find_user",
    "hash_password",
    "is_disabled",
    "login_failed",
    "session_role",
    "user_for_session",
]

# The properties CREATE / ALTER USER accept (PASSWORD is handled apart: it is hashed).
USER_PROPS = {
    "PASSWORD",
    "LOGIN_NAME",
    "DISPLAY_NAME",
    "FIRST_NAME",
    "MIDDLE_NAME",
    "LAST_NAME",
    "EMAIL",
    "COMMENT",
    "DISABLED",
    "MUST_CHANGE_PASSWORD",
    "DEFAULT_ROLE",
    "DEFAULT_WAREHOUSE",
    "DEFAULT_NAMESPACE",
    "DEFAULT_SECONDARY_ROLES",
    "TYPE",
    "DAYS_TO_EXPIRY",
    "MINS_TO_UNLOCK",
}

# scrypt cost: about 50 ms and 16 MiB per hash here, the standard library's usual choice.
_N, _R, _P = 1 << 14, 8, 1
_DUMMY = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = _scrypt(password, salt, _N, _R, _P)
    return "$".join(["scrypt", str(_N), str(_R), str(_P), _b64(salt), _b64(digest)])


def check_password(stored: str | None, candidate: str) -> bool:
    """True when ``candidate`` matches the stored hash; a missing hash never matches."""
    scheme, n, r, p, salt, digest = (stored or _DUMMY).split("$")
    if scheme != "scrypt":
        return False
    got = _scrypt(candidate, base64.b64decode(salt), int(n), int(r), int(p))
    return hmac.compare_digest(got, base64.b64decode(digest)) and stored is not None


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # surrogatepass: a password with a lone surrogate is just a wrong one, never an exception
    data = password.encode("utf-8", "surrogatepass")
    return hashlib.scrypt(data, salt=salt, n=n, r=r, p=p, maxmem=64 << 20, dklen=32)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def find_user(store: CatalogStore, name: str) -> CatalogObject | None:
    """The user whose name or LOGIN_NAME is ``name`` (case-insensitive, like the reference)."""
    wanted = name.strip().upper()
    user = store.get("USER", "", "", wanted)
    if user is not None:
        return user
    for candidate in store.list("USER"):
        if str(candidate.props.get("LOGIN_NAME", "")).upper() == wanted:
            return candidate
    return None


def is_disabled(user: CatalogObject) -> bool:
    return bool(user.props.get("DISABLED"))


def login_failed() -> ProgrammingError:
    """The reference's answer to a wrong user or password (which one is never said)."""
    return ProgrammingError(
        "Incorrect username or password was specified.", errno=390100, sqlstate="08004"
    )


def _disabled() -> ProgrammingError:
    return ProgrammingError(
        "User access disabled. Contact your local system administrator.",
        errno=390101,
        sqlstate="08004",
    )


def authenticate(store: CatalogStore, login: str, password: str) -> CatalogObject:
    """The user ``login`` names when ``password`` is theirs and they are enabled."""
    user = find_user(store, login) if login.strip() else None
    # Hash even for an unknown user, so timing does not tell which names exist.
    ok = check_password(user.props.get("PASSWORD_HASH") if user else None, password)
    if user is None or not ok:
        raise login_failed()
    if is_disabled(user):
        raise _disabled()
    return user


def user_for_session(store: CatalogStore, name: str) -> CatalogObject:
    """The user a local session runs as (no password: the process owner is trusted)."""
    user = find_user(store, name)
    if user is None:
        raise login_failed()
    if is_disabled(user):
        raise _disabled()
    return user


def session_role(store: CatalogStore, user: CatalogObject, requested: str | None) -> str:
    """The login's role if the user holds it, else the user's default role if it still holds
    that, else PUBLIC."""
    held = available_roles(store, user.name)
    if requested and requested in held:
        return requested
    default = user.props.get("DEFAULT_ROLE")
    if default and default in held:
        return str(default)
    return "PUBLIC"


def bootstrap_user(
    store: CatalogStore, name: str, password: str | None, *, admin: bool
) -> CatalogObject:
    """Create a first user (from the server's users setting or the local one) when missing;
    give an existing user without a password this one. ``admin``: the user holds ACCOUNTADMIN
    and uses it by default."""
    name = name.strip().upper()
    with store.transaction():
        user = store.get("USER", "", "", name)
        if user is None:
            props: dict[str, object] = {}
            if admin:
                props["DEFAULT_ROLE"] = "ACCOUNTADMIN"
            user = CatalogObject(
                "USER",
                "",
                "",
                name,
                owner="USERADMIN",
                created_on=dt.datetime.now(dt.timezone.utc),
                props=props,
            )
            if admin:
                grant_role(store, "ACCOUNTADMIN", "USER", name, "SYSTEM")
        if password is not None and "PASSWORD_HASH" not in user.props:
            user = user.evolve(props={**user.props, "PASSWORD_HASH": hash_password(password)})
        store.put(user)
    return user
