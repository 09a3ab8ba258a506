"""Alertmanager-style label matchers: parsing, matching, and the mistakes they report."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchkeeper.core.matchers import (
    MAX_MATCHED_CHARS,
    Matcher,
    Operator,
    matches_all,
    parse_matcher,
    parse_matchers,
)

LABELS = {"service": "checkout", "severity": "critical", "env": "prod-eu"}


@pytest.mark.parametrize(
    ("text", "name", "operator", "value"),
    [
        ("service=checkout", "service", Operator.EQUAL, "checkout"),
        ("service!=checkout", "service", Operator.NOT_EQUAL, "checkout"),
        ("env=~prod-.*", "env", Operator.REGEX, "prod-.*"),
        ("env!~dev|test", "env", Operator.NOT_REGEX, "dev|test"),
        (" team = ops ", "team", Operator.EQUAL, "ops"),
        ('summary="a=b"', "summary", Operator.EQUAL, "a=b"),  # quoted, = inside the value
        ("url=http://x/?a=1", "url", Operator.EQUAL, "http://x/?a=1"),  # first operator wins
        ("team=", "team", Operator.EQUAL, ""),
        ('msg="say \\"hi\\""', "msg", Operator.EQUAL, 'say "hi"'),
    ],
)
def test_parse(text: str, name: str, operator: Operator, value: str) -> None:
    matcher = parse_matcher(text)
    assert (matcher.name, matcher.operator, matcher.value) == (name, operator, value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("service", "no operator"),
        ("", "no operator"),
        ("=checkout", "label name ''"),
        ("9lives=x", "label name '9lives'"),
        ("my label=x", "no operator"),
        ("env=~(prod", "invalid regex '(prod'"),
        ("env=~" + "a" * 1001, "regex longer than 1000"),
    ],
)
def test_mistakes_name_the_matcher(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_matcher(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("service=checkout", True),
        ("service=cart", False),
        ("service!=cart", True),
        ("service!=checkout", False),
        ("env=~prod-.*", True),
        ("env=~prod", False),  # anchored: a prefix is no match
        ("env=~.*eu", True),
        ("env!~prod-.*", False),
        ("env!~dev", True),
        ("team=", True),  # an absent label is the empty string
        ("team!=", False),
        ("team=~.*", True),
        ("severity=~critical|error", True),
    ],
)
def test_matching(text: str, expected: bool) -> None:
    assert parse_matcher(text).matches(LABELS) is expected


def test_every_matcher_must_match_and_none_matches_everything() -> None:
    assert matches_all(parse_matchers(["service=checkout", "env=~prod-.*"]), LABELS)
    assert not matches_all(parse_matchers(["service=checkout", "env=dev"]), LABELS)
    assert matches_all((), LABELS)


def test_a_matcher_prints_as_it_parses() -> None:
    matcher = parse_matcher("env=~prod-.*")
    assert str(matcher) == "env=~prod-.*"
    assert parse_matcher(str(matcher)) == matcher


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        (" padded ", 'msg=" padded "'),
        ('"q"', 'msg="\\"q\\""'),
        ('"', 'msg="\\""'),
        ("a\\", "msg=a\\"),
        ("", "msg="),
        ("~", 'msg="~"'),  # bare, "msg=~" would be the regex operator
        ("~x", 'msg="~x"'),
    ],
)
def test_values_that_would_not_read_back_bare_are_quoted(value: str, printed: str) -> None:
    matcher = Matcher("msg", Operator.EQUAL, value)
    assert str(matcher) == printed
    assert parse_matcher(printed).value == value


@given(
    name=st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True),
    operator=st.sampled_from([Operator.EQUAL, Operator.NOT_EQUAL]),
    value=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
)
def test_a_printed_matcher_parses_back_to_itself(name: str, operator: Operator, value: str) -> None:
    matcher = Matcher(name, operator, value)
    assert parse_matcher(str(matcher)) == matcher


@given(value=st.from_regex(r"[a-z \\\"]{0,12}", fullmatch=True))
def test_a_printed_regex_matcher_parses_back_to_itself(value: str) -> None:
    printed = str(Matcher("x", Operator.REGEX, re.escape(value)))
    matcher = parse_matcher(printed)
    assert matcher.value == re.escape(value)
    assert matcher.matches({"x": value})


@pytest.mark.parametrize(
    ("regex", "message"),
    [
        ("(a+)+b", "too long to match"),
        ("(a|aa)+b", "too long to match"),
        ("(.*,)*x", "too long to match"),
        ("a*a*a*a*b", "too long to match"),
        ("(a)\\1", "backreferences are not supported by RE2"),
        ("(?=a)a", "lookahead and lookbehind are not supported by RE2"),
        ("(?<!a)b", "lookahead and lookbehind are not supported by RE2"),
    ],
)
def test_regexes_that_could_backtrack_for_long_are_refused(regex: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_matcher(f"x=~{regex}")


@pytest.mark.parametrize(
    "regex",
    [
        ".*.*.*x",  # the worst accepted: three open-ended quantifiers over the same characters
        ".*foo.*bar.*",
        "([0-9]{1,3}\\.){3}[0-9]{1,3}:9100",
        "(db|web)-[0-9]+",
    ],
)
def test_accepted_regexes_match_long_values_in_bounded_time(regex: str) -> None:
    matcher = parse_matcher(f"x=~{regex}")
    started = time.perf_counter()
    for value in ("a" * 100_000, "foo" * 40_000, "1." * 50_000):
        matcher.matches({"x": value})
    # Unbounded, ".*.*.*x" alone takes minutes on 100,000 characters; the cap keeps it short.
    assert time.perf_counter() - started < 2.0


def test_a_regex_sees_the_first_characters_of_a_long_value() -> None:
    matcher = parse_matcher("x=~a+")
    assert matcher.matches({"x": "a" * (MAX_MATCHED_CHARS + 10)})
    assert not parse_matcher("x=~.*b").matches({"x": "a" * MAX_MATCHED_CHARS + "b"})


@given(
    name=st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True),
    value=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
)
def test_equality_matchers_agree_with_plain_comparison(name: str, value: str) -> None:
    equal = Matcher(name, Operator.EQUAL, value)
    not_equal = Matcher(name, Operator.NOT_EQUAL, value)
    for labels in ({name: value}, {name: value + "x"}, {}):
        assert equal.matches(labels) == (labels.get(name, "") == value)
        assert not_equal.matches(labels) != equal.matches(labels)


@given(value=st.from_regex(r"[a-z0-9-]{0,12}", fullmatch=True))
def test_an_escaped_literal_regex_matches_only_itself(value: str) -> None:
    matcher = parse_matcher(f"service=~{re.escape(value)}")
    assert matcher.matches({"service": value})
    assert not matcher.matches({"service": value + "!"})
