"""PACKAGES POLICY specs and evaluation (SPEC.md section 5)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hoarfrost.errors import InternalError, InvalidValue
from hoarfrost.packages.policy import (
    ANY_PACKAGE,
    Decision,
    PackageSpec,
    Policy,
    check_installed,
)

ACCEPTED_FORM = "use '*', a package name, or a name with one operator among ==, <=, >=, <, >"


# --------------------------------------------------------------------------------------------
# Parsing


@pytest.mark.parametrize(
    ("text", "name", "specifier"),
    [
        ("*", None, None),
        (" * ", None, None),
        ("numpy", "numpy", None),
        ("Scikit_Learn", "scikit-learn", None),
        ("zope.interface", "zope-interface", None),
        ("numpy==1.26.0", "numpy", "==1.26.0"),
        ("numpy == 1.26.*", "numpy", "==1.26.*"),
        ("numpy<=2", "numpy", "<=2"),
        ("numpy>=1.2", "numpy", ">=1.2"),
        ("numpy<2", "numpy", "<2"),
        ("numpy>1.0rc1", "numpy", ">1.0rc1"),
        ("a", "a", None),
    ],
)
def test_parse_accepts(text: str, name: str | None, specifier: str | None) -> None:
    spec = PackageSpec.parse(text)
    assert spec.name == name
    assert (None if spec.specifier is None else str(spec.specifier)) == specifier
    assert str(spec) == text.strip()


def test_parse_star_is_the_any_package_spec() -> None:
    assert PackageSpec.parse("*") == ANY_PACKAGE


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "a spec must not be empty"),
        ("   ", "a spec must not be empty"),
        ("numpy>=1,<2", "a spec may contain only one operator"),
        ("numpy>=1<2", "a spec may contain only one operator"),
        ("numpy~=1.0", "the operator '~=' is not accepted"),
        ("numpy!=1.0", "the operator '!=' is not accepted"),
        ("numpy===1.0", "the operator '===' is not accepted"),
        ("numpy=1.0", "'=' is not an operator"),
        ("numpy=>1.0", "'=>' is not an operator"),
        ("numpy[extra]", "extras ('[...]') are not accepted"),
        ("numpy[extra]>=1", "extras ('[...]') are not accepted"),
        ('numpy; python_version<"3.12"', "environment markers (';...') are not accepted"),
        ("numpy @ https://x/numpy.whl", "direct references ('@ url') are not accepted"),
        ("num py", "a package name may contain only letters, digits, '.', '_' and '-'"),
        ("numpy-", "a package name may contain only letters, digits, '.', '_' and '-'"),
        ("nümpy", "a package name may contain only letters, digits, '.', '_' and '-'"),
        ("-numpy", "a spec must start with a package name"),
        ("==1.0", "a spec must start with a package name"),
        ("*numpy", "a spec must start with a package name"),
        ("numpy>=", "the operator '>=' must be followed by a version"),
        ("numpy>=abc", "'>=abc' is not a valid version constraint"),
        ("numpy<1.0+local", "'<1.0+local' is not a valid version constraint"),
        ("numpy>=1.*", "a '.*' wildcard is accepted only after '=='"),
        ("numpy<1.2.*", "a '.*' wildcard is accepted only after '=='"),
    ],
)
def test_parse_errors_quote_the_spec_and_the_accepted_form(text: str, reason: str) -> None:
    with pytest.raises(InvalidValue) as info:
        PackageSpec.parse(text, prop="BLOCKLIST")
    assert info.value.msg.startswith(f"Invalid BLOCKLIST entry '{text}': {reason}; ")
    assert ACCEPTED_FORM in info.value.msg
    assert info.value.errno == 1008


def test_parse_error_defaults_to_the_allowlist_property() -> None:
    with pytest.raises(InvalidValue) as info:
        PackageSpec.parse("numpy~=1")
    assert info.value.msg.startswith("Invalid ALLOWLIST entry 'numpy~=1': ")


# --------------------------------------------------------------------------------------------
# Matching


@pytest.mark.parametrize(
    ("spec", "name", "version", "expected"),
    [
        ("*", "anything", "0.1", True),
        ("numpy", "numpy", "1.0", True),
        ("numpy", "NumPy", "1.0", True),
        ("numpy", "numpyx", "1.0", False),
        ("Scikit_Learn", "scikit-learn", "1.4.0", True),
        ("scikit-learn", "SCIKIT.LEARN", "1.4.0", True),
        ("scikit-learn", "scikit__learn", "1.4.0", True),
        ("numpy==1.26.0", "numpy", "1.26.0", True),
        ("numpy==1.26.0", "numpy", "1.26", True),  # PEP 440 zero padding
        ("numpy==1.26.0", "numpy", "1.26.1", False),
        ("numpy==1.2.*", "numpy", "1.2", True),
        ("numpy==1.2.*", "numpy", "1.2.9", True),
        ("numpy==1.2.*", "numpy", "1.2.9.post1", True),
        ("numpy==1.2.*", "numpy", "1.20.0", False),
        ("numpy==1.2.*", "numpy", "1.3.0", False),
        ("numpy<=2", "numpy", "2.0", True),
        ("numpy<=2", "numpy", "2.0.1", False),
        ("numpy>=1.2", "numpy", "1.2", True),
        ("numpy>=1.2", "numpy", "1.1.9", False),
        ("numpy<2", "numpy", "1.99", True),
        ("numpy<2", "numpy", "2.0", False),
        ("numpy<2", "numpy", "1.26.0rc1", True),  # pre-releases are inside ranges
        ("numpy>1.0", "numpy", "1.0", False),
        ("numpy>1.0", "numpy", "1.0.1", True),
        ("numpy>=1.0", "numpy", "2.0.0rc1", True),
        ("numpy>=1.0", "numpy", "not-a-version", False),
        ("numpy", "numpy", "not-a-version", True),
    ],
)
def test_spec_matches(spec: str, name: str, version: str, expected: bool) -> None:
    assert PackageSpec.parse(spec).matches(name, version) is expected


# --------------------------------------------------------------------------------------------
# Policy decisions


def test_default_policy_allows_everything() -> None:
    assert Policy().decide("anything", "1.0", at_creation=True) == Decision(True, None, None)
    assert Policy.from_strings(None) == Policy()


def test_empty_allowlist_allows_nothing() -> None:
    policy = Policy.from_strings([])
    assert policy.decide("numpy", "1.0", at_creation=False) == Decision(False, "ALLOWLIST", None)


def test_allowlist_restricts() -> None:
    policy = Policy.from_strings(["numpy>=1.26", "pandas"])
    assert policy.decide("numpy", "1.26.4", at_creation=True).allowed
    assert policy.decide("Pandas", "2.0", at_creation=True).allowed
    assert policy.decide("numpy", "1.25.0", at_creation=True) == Decision(False, "ALLOWLIST", None)
    assert policy.decide("requests", "2.0", at_creation=False) == Decision(False, "ALLOWLIST", None)


def test_blocklist_beats_allowlist() -> None:
    policy = Policy.from_strings(["numpy", "*"], ["numpy<2"])
    assert policy.decide("numpy", "1.26.0", at_creation=False) == Decision(
        False, "BLOCKLIST", "numpy<2"
    )
    assert policy.decide("numpy", "2.1.0", at_creation=False).allowed


def test_blocklist_reports_the_first_matching_entry() -> None:
    policy = Policy.from_strings(None, ["requests", "numpy==1.*", "numpy"])
    assert policy.decide("NumPy", "1.5", at_creation=False).spec == "numpy==1.*"
    assert policy.decide("numpy", "2.0", at_creation=False).spec == "numpy"


def test_blocklist_with_a_range_blocks_an_unparseable_version() -> None:
    policy = Policy.from_strings(None, ["numpy<2"])
    assert not policy.decide("numpy", "weird", at_creation=False).allowed
    assert policy.decide("pandas", "weird", at_creation=False).allowed


def test_additional_creation_blocklist_applies_only_at_creation() -> None:
    policy = Policy.from_strings(None, [], ["requests"])
    assert policy.decide("requests", "2.31.0", at_creation=True) == Decision(
        False, "ADDITIONAL_CREATION_BLOCKLIST", "requests"
    )
    assert policy.decide("requests", "2.31.0", at_creation=False).allowed


def test_blocklist_is_reported_before_the_creation_blocklist() -> None:
    policy = Policy.from_strings(None, ["requests"], ["requests"])
    assert policy.decide("requests", "1", at_creation=True).rule == "BLOCKLIST"


def test_from_strings_names_the_list_of_a_bad_entry() -> None:
    cases = [
        (
            lambda: Policy.from_strings(None, ["ok"], ["x~=1"]),
            "ADDITIONAL_CREATION_BLOCKLIST",
            "x~=1",
        ),
        (lambda: Policy.from_strings(None, ["x!=1"]), "BLOCKLIST", "x!=1"),
        (lambda: Policy.from_strings([""]), "ALLOWLIST", ""),
    ]
    for build, prop, text in cases:
        with pytest.raises(InvalidValue) as info:
            build()
        assert info.value.msg.startswith(f"Invalid {prop} entry '{text}': ")


def test_from_strings_refuses_a_bare_string() -> None:
    # A str is a Sequence[str]: 'numpy' would silently become the specs n, u, m, p, y.
    with pytest.raises(InternalError):
        Policy.from_strings("numpy")


@pytest.mark.parametrize(
    ("decision", "message"),
    [
        (
            Decision(False, "BLOCKLIST", "numpy<2"),
            "Package 'numpy==1.26.0' is blocked by the packages policy BLOCKLIST entry 'numpy<2'.",
        ),
        (
            Decision(False, "ADDITIONAL_CREATION_BLOCKLIST", "numpy"),
            "Package 'numpy==1.26.0' is blocked by the packages policy "
            "ADDITIONAL_CREATION_BLOCKLIST entry 'numpy'.",
        ),
        (
            Decision(False, "ALLOWLIST", None),
            "Package 'numpy==1.26.0' is not in the packages policy ALLOWLIST.",
        ),
    ],
)
def test_violation_message(decision: Decision, message: str) -> None:
    assert Policy().violation_message("numpy", "1.26.0", decision) == message


def test_violation_message_without_version_and_for_an_allowed_package() -> None:
    msg = Policy().violation_message("numpy", "", Decision(False, "ALLOWLIST", None))
    assert msg == "Package 'numpy' is not in the packages policy ALLOWLIST."
    with pytest.raises(InternalError):
        Policy().violation_message("numpy", "1", Decision(True))


@given(
    name=st.from_regex(r"[A-Za-z][A-Za-z0-9._-]{0,10}[A-Za-z0-9]", fullmatch=True),
    major=st.integers(0, 50),
    minor=st.integers(0, 50),
)
def test_a_blocked_name_is_never_allowed_whatever_the_spelling(
    name: str, major: int, minor: int
) -> None:
    policy = Policy.from_strings(["*", name], [name.upper().replace("-", "_")])
    decision = policy.decide(name.lower().replace("_", "."), f"{major}.{minor}", at_creation=False)
    assert decision == Decision(False, "BLOCKLIST", name.upper().replace("-", "_"))


# --------------------------------------------------------------------------------------------
# Execution check


INSTALLED = [("numpy", "1.26.0"), ("pandas", "2.2.0"), ("requests", "2.31.0")]


def test_check_installed_passes_a_clean_environment() -> None:
    assert check_installed(Policy(), INSTALLED) is None


def test_check_installed_reports_the_first_violation() -> None:
    policy = Policy.from_strings(None, ["pandas", "requests"])
    violation = check_installed(policy, INSTALLED)
    assert violation is not None
    assert (violation.name, violation.version) == ("pandas", "2.2.0")
    assert violation.decision == Decision(False, "BLOCKLIST", "pandas")
    assert violation.message == (
        "Package 'pandas==2.2.0' is blocked by the packages policy BLOCKLIST entry 'pandas'."
    )


def test_check_installed_checks_the_allowlist() -> None:
    violation = check_installed(Policy.from_strings(["numpy", "pandas"]), INSTALLED)
    assert violation is not None
    assert violation.name == "requests"
    assert (
        violation.message == "Package 'requests==2.31.0' is not in the packages policy ALLOWLIST."
    )


def test_creation_blocklist_applies_at_execution_only_to_temporary_functions() -> None:
    policy = Policy.from_strings(None, [], ["requests"])
    assert check_installed(policy, INSTALLED) is None
    violation = check_installed(policy, INSTALLED, temporary=True)
    assert violation is not None
    assert violation.decision.rule == "ADDITIONAL_CREATION_BLOCKLIST"


def test_check_installed_is_cached() -> None:
    policy = Policy.from_strings(None, ["requests"], version="cache-1")
    first = check_installed(policy, list(INSTALLED))
    # The same object back (not an equal new one) shows the second call was served from cache.
    assert first is check_installed(policy, tuple(INSTALLED))
    assert first is check_installed(
        Policy.from_strings(None, ["requests"], version="cache-1"), INSTALLED
    )


def test_a_new_policy_version_is_evaluated_afresh() -> None:
    v1 = Policy.from_strings(None, [], version="v1")
    assert check_installed(v1, INSTALLED) is None
    # Tightening the policy (ALTER ... SET BLOCKLIST) stops already-created functions.
    v2 = Policy.from_strings(None, ["numpy<2"], version="v2")
    violation = check_installed(v2, INSTALLED)
    assert violation is not None
    assert violation.decision == Decision(False, "BLOCKLIST", "numpy<2")
    # Loosening again clears it.
    assert check_installed(Policy.from_strings(None, [], version="v3"), INSTALLED) is None


def test_cache_key_includes_the_lists_not_only_the_version() -> None:
    # Two policies that a careless caller labels with the same version must not share results.
    open_policy = Policy.from_strings(None, [], version="same")
    strict = Policy.from_strings(None, ["numpy"], version="same")
    assert check_installed(open_policy, INSTALLED) is None
    assert check_installed(strict, INSTALLED) is not None
