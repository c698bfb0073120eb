"""The one redactor: every form a request writes a secret in, bytes, and data."""

from __future__ import annotations

import json

from stigmer.redaction import REDACTED, Redactor, active, current

SECRET = "sk-Live/Secret+42 =&é"


def test_a_secret_is_redacted_raw_and_in_every_encoded_form() -> None:
    redactor = Redactor()
    redactor.add(SECRET)
    written = [
        SECRET,
        "sk-Live%2FSecret%2B42%20%3D%26%C3%A9",  # a path segment of a URI template
        "sk-Live%2FSecret%2B42+%3D%26%C3%A9",  # a query or a form
        "sk-Live/Secret+42%20=&%C3%A9",  # a URL written with the value as it is
        json.dumps(SECRET)[1:-1],  # quoted in JSON, ASCII only
        json.dumps(SECRET, ensure_ascii=False)[1:-1],
    ]
    for form in written:
        assert redactor.text(f"<{form}>") == f"<{REDACTED}>", form


def test_bytes_data_and_nested_secrets() -> None:
    redactor = Redactor()
    redactor.add_all({"user": "admin-1", "password": "pw-0042", "port": 5432, "tls": True})
    assert redactor.binary(b"admin-1:pw-0042@db:5432") == b"***:***@db:***"
    assert redactor.data({"admin-1": ["pw-0042", 7, None], "n": 5432}) == {
        "***": ["***", 7, None],
        "n": 5432,
    }
    assert redactor.text("tls True") == "tls True"


def test_the_longest_secret_wins_and_short_values_are_left() -> None:
    redactor = Redactor()
    redactor.add("abcd")
    redactor.add("xabcdx")
    redactor.add("no")
    assert redactor.text("xabcdx abcd no") == "*** *** no"


def test_the_active_redactor_is_the_calls_own() -> None:
    assert current() is None
    redactor = Redactor()
    with active(redactor):
        assert current() is redactor
    assert current() is None
