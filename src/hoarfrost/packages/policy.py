"""PACKAGES POLICY specs and their evaluation (SPEC.md section 5).

A spec is ``'*'``, a package name, or a name with ONE operator among ``==, <=, >=, <, >`` and a
version (``==1.2.*`` wildcards allowed). Names compare after PEP 503 normalisation; versions
compare with PEP 440 (``packaging``). The blocklist beats the allowlist.

Ranges include pre-releases, explicitly: some ``packaging`` releases leave them out of
``>=1.0`` by default, which is right for picking what to install but wrong for a policy, where
``numpy<2`` must also block ``1.26.0rc1``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from hoarfrost.errors import InternalError, InvalidValue

__all__ = [
    "ANY_PACKAGE",
    "Decision",
    "PackageSpec",
    "Policy",
    "Violation",
    "check_installed",
]

# PEP 508 names: ASCII letters and digits, with '.', '_' and '-' inside.
_NAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
_OPERATOR_RUN_RE = re.compile(r"[=<>!~]+")
_OPERATORS = frozenset({"==", "<=", ">=", "<", ">"})
# Valid PEP 440 operators that the reference refuses in a policy: named in the error message.
_REFUSED_OPERATORS = frozenset({"===", "~=", "!="})
_OPERATOR_CHARS = frozenset("=<>!~")

_ACCEPTED_FORM = (
    "use '*', a package name, or a name with one operator among ==, <=, >=, <, > and a version "
    "(for example 'numpy', 'numpy>=1.26', 'numpy==1.26.*')"
)

BLOCKLIST = "BLOCKLIST"
ADDITIONAL_CREATION_BLOCKLIST = "ADDITIONAL_CREATION_BLOCKLIST"
ALLOWLIST = "ALLOWLIST"


@dataclass(frozen=True)
class PackageSpec:
    """One policy entry. ``name`` is None for ``'*'``; ``text`` is the entry as written."""

    text: str
    name: str | None
    specifier: SpecifierSet | None

    @classmethod
    def parse(cls, text: str, prop: str = ALLOWLIST) -> PackageSpec:
        try:
            return _parse_spec(text)
        except ValueError as exc:
            raise InvalidValue(f"Invalid {prop} entry '{text}': {exc}; {_ACCEPTED_FORM}.") from None

    def matches(self, name: str, version: str) -> bool:
        """True when the package ``name`` at ``version`` falls under this spec.

        A version that is not PEP 440 matches only a spec without a version constraint.
        """
        if self.name is None:
            return True
        if canonicalize_name(name) != self.name:
            return False
        if self.specifier is None:
            return True
        parsed = _version_or_none(version)
        return parsed is not None and self.specifier.contains(parsed, prereleases=True)

    def may_match(self, name: str, version: str) -> bool:
        """Like :meth:`matches`, but an unparseable version counts as inside any range.

        Used for blocklists, where not knowing must not mean allowed.
        """
        if self.specifier is not None and _version_or_none(version) is None:
            return canonicalize_name(name) == self.name
        return self.matches(name, version)

    def __str__(self) -> str:
        return self.text


ANY_PACKAGE = PackageSpec("*", None, None)


@dataclass(frozen=True)
class Decision:
    """The outcome for one package. When refused, ``rule`` names the list and ``spec`` the
    entry that refused it (``spec`` is None for "not in the ALLOWLIST")."""

    allowed: bool
    rule: str | None = None
    spec: str | None = None


ALLOWED = Decision(True)


@dataclass(frozen=True)
class Violation:
    """A package of an installed set that the policy refuses, with the user-facing message."""

    name: str
    version: str
    decision: Decision
    message: str


@dataclass(frozen=True)
class Policy:
    """A PACKAGES POLICY. ``version`` identifies one state of the catalog object; it is part of
    equality (and so of the execution-check cache key) along with the lists themselves."""

    allowlist: tuple[PackageSpec, ...] = (ANY_PACKAGE,)
    blocklist: tuple[PackageSpec, ...] = ()
    additional_creation_blocklist: tuple[PackageSpec, ...] = ()
    version: str = ""

    @classmethod
    def from_strings(
        cls,
        allowlist: Sequence[str] | None = None,
        blocklist: Sequence[str] = (),
        additional_creation_blocklist: Sequence[str] = (),
        *,
        version: str = "",
    ) -> Policy:
        """Parse the lists as written in SQL; ``allowlist=None`` is the default ``('*')``."""
        return cls(
            allowlist=(ANY_PACKAGE,) if allowlist is None else _parse_all(allowlist, ALLOWLIST),
            blocklist=_parse_all(blocklist, BLOCKLIST),
            additional_creation_blocklist=_parse_all(
                additional_creation_blocklist, ADDITIONAL_CREATION_BLOCKLIST
            ),
            version=version,
        )

    def decide(self, name: str, version: str, *, at_creation: bool) -> Decision:
        """Blocklists first (the creation one only ``at_creation``), then the allowlist."""
        blocking = [(BLOCKLIST, self.blocklist)]
        if at_creation:
            blocking.append((ADDITIONAL_CREATION_BLOCKLIST, self.additional_creation_blocklist))
        for rule, specs in blocking:
            for spec in specs:
                if spec.may_match(name, version):
                    return Decision(False, rule, spec.text)
        if any(spec.matches(name, version) for spec in self.allowlist):
            return ALLOWED
        return Decision(False, ALLOWLIST, None)

    def violation_message(self, name: str, version: str, decision: Decision) -> str:
        package = f"{name}=={version}" if version else name
        if decision.allowed:
            raise InternalError(f"Package '{package}' is allowed; there is no violation to report.")
        if decision.rule == ALLOWLIST:
            return f"Package '{package}' is not in the packages policy ALLOWLIST."
        return (
            f"Package '{package}' is blocked by the packages policy {decision.rule} "
            f"entry '{decision.spec}'."
        )


def check_installed(
    policy: Policy, installed: Sequence[tuple[str, str]], *, temporary: bool = False
) -> Violation | None:
    """The first installed ``(name, version)`` the policy refuses at execution, or None.

    Execution checks ALLOWLIST and BLOCKLIST; temporary functions also the additional creation
    blocklist (SPEC.md section 5). Results are cached per (policy, installed set, temporary):
    the policy is part of the key, so a changed policy is evaluated afresh.
    """
    return _first_violation(policy, tuple((n, v) for n, v in installed), temporary)


@functools.lru_cache(maxsize=256)
def _first_violation(
    policy: Policy, installed: tuple[tuple[str, str], ...], temporary: bool
) -> Violation | None:
    for name, version in installed:
        decision = policy.decide(name, version, at_creation=temporary)
        if not decision.allowed:
            message = policy.violation_message(name, version, decision)
            return Violation(name, version, decision, message)
    return None


# --------------------------------------------------------------------------------------------
# Parsing; internal functions raise ValueError(reason), PackageSpec.parse adds the context.


def _parse_all(texts: Sequence[str], prop: str) -> tuple[PackageSpec, ...]:
    if isinstance(texts, str):  # a bare string is a Sequence[str] of characters: refuse it
        raise InternalError(f"{prop} must be a sequence of specs, not a string")
    return tuple(PackageSpec.parse(t, prop) for t in texts)


def _parse_spec(text: str) -> PackageSpec:
    stripped = text.strip()
    if not stripped:
        raise ValueError("a spec must not be empty")
    if stripped == "*":
        return ANY_PACKAGE
    match = _NAME_RE.match(stripped)
    if match is None:
        raise ValueError("a spec must start with a package name")
    name = canonicalize_name(match.group())
    rest = stripped[match.end() :].strip()
    if not rest:
        return PackageSpec(stripped, name, None)
    return PackageSpec(stripped, name, _parse_constraint(rest))


def _parse_constraint(rest: str) -> SpecifierSet:
    _refuse_unsupported_syntax(rest)
    operator = _OPERATOR_RUN_RE.match(rest)
    if operator is None:
        raise ValueError("a package name may contain only letters, digits, '.', '_' and '-'")
    op = operator.group()
    if op in _REFUSED_OPERATORS:
        raise ValueError(f"the operator '{op}' is not accepted")
    if op not in _OPERATORS:
        raise ValueError(f"'{op}' is not an operator")
    version = rest[operator.end() :].strip()
    if not version:
        raise ValueError(f"the operator '{op}' must be followed by a version")
    if any(c in _OPERATOR_CHARS for c in version):
        raise ValueError("a spec may contain only one operator")
    return _specifier(op, version)


def _refuse_unsupported_syntax(rest: str) -> None:
    if rest.startswith("["):
        raise ValueError("extras ('[...]') are not accepted")
    if ";" in rest:
        raise ValueError("environment markers (';...') are not accepted")
    if "," in rest:
        raise ValueError("a spec may contain only one operator")
    if "@" in rest:
        raise ValueError("direct references ('@ url') are not accepted")


def _specifier(operator: str, version: str) -> SpecifierSet:
    if version.endswith(".*") and operator != "==":
        raise ValueError("a '.*' wildcard is accepted only after '=='")
    try:
        Version(version.removesuffix(".*"))
        return SpecifierSet(operator + version)
    except (InvalidVersion, InvalidSpecifier):
        raise ValueError(f"'{operator}{version}' is not a valid version constraint") from None


def _version_or_none(version: str) -> Version | None:
    try:
        return Version(version)
    except InvalidVersion:
        return None
