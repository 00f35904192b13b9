"""The one check of a path inside a source: traversal in every shape is refused."""

from __future__ import annotations

import pytest

from labworks_hub.service.access import Invalid
from labworks_hub.service.sources.paths import clean_path, folder_prefix, join_prefix


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("", ""),
        ("/", None),
        ("a", "a"),
        ("a/b.csv", "a/b.csv"),
        ("a//b/./c/", "a/b/c"),
        ("./a", "a"),
        ("a..b/c...d", "a..b/c...d"),
        ("données/été 2026.csv", "données/été 2026.csv"),
        ("50%/x%20y", "50%/x%20y"),
    ],
)
def test_a_clean_path_is_relative_and_collapsed(text, path):
    if path is None:
        with pytest.raises(Invalid):
            clean_path(text)
    else:
        assert clean_path(text) == path


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("..", "'..'"),
        ("../x", "'..'"),
        ("a/../../b", "'..'"),
        ("a/..", "'..'"),
        ("/etc/passwd", "relative"),
        ("//etc", "relative"),
        ("%2e%2e/x", "encoded"),
        ("%2E%2e/x", "encoded"),
        ("a%2fb", "encoded"),
        ("a%2F..%2Fb", "encoded"),
        ("a%5cb", "encoded"),
        ("..\\x", "backslash"),
        ("a\\b", "backslash"),
        ("a\x00b", "NUL"),
        ("x" * 1025, "longer than"),
    ],
)
def test_traversal_is_refused_naming_the_path(text, why):
    with pytest.raises(Invalid) as refused:
        clean_path(text)
    assert why in refused.value.message
    assert repr(text[:20])[:-1] in refused.value.message


def test_a_key_never_leaves_its_prefix():
    assert folder_prefix(None) == ""
    assert folder_prefix("/") == ""
    assert folder_prefix("raw/2026/") == "raw/2026/"
    assert folder_prefix("raw//2026") == "raw/2026/"
    with pytest.raises(Invalid):
        folder_prefix("raw/../other")
    assert join_prefix("raw/", "x.csv") == "raw/x.csv"
    assert join_prefix("raw/", "") == "raw/"
    assert join_prefix("", "x.csv") == "x.csv"
