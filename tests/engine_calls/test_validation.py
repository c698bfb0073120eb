"""What validation accepts and rejects for the calls and processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from stigmer.engine.validation import validate_file, validate_text
from tests.support.engine import document


def _messages(text: str) -> list[str]:
    return [f"{e.path}: {e.message}" for e in validate_text(text)]


@pytest.mark.parametrize(
    "example",
    [
        "call-http-endpoint-interpolation.yaml",
        "call-http-query-parameters.yaml",
        "call-http-redirect.yaml",
        "call-openapi.yaml",
        "call-grpc.yaml",
        "call-mcp.yaml",
        "authentication-bearer.yaml",
        "authentication-reusable.yaml",
        "authentication-oauth2.yaml",
        "authentication-oidc-secret.yaml",
        "call-custom-function-inline.yaml",
        "mock-service-extension.yaml",
        "run-shell-stdin-and-arguments.yaml",
        "run-script-with-stdin-and-arguments.yaml",
    ],
)
def test_the_spec_examples_are_accepted(spec_dir: Path, example: str) -> None:
    assert validate_file(spec_dir / "examples" / example) == []


@pytest.mark.parametrize(
    ("example", "unsupported"),
    [
        ("call-asyncapi-publish.yaml", "'call: asyncapi'"),
        ("run-container.yaml", "'run: container'"),
        (
            "call-custom-function-cataloged.yaml",
            "a function from a catalog ('call: https://raw.githubusercontent.com/serverlessworkflow"
            "/catalog/main/functions/log/1.0.0/function.yaml'), which would be downloaded at run "
            "time,",
        ),
    ],
)
def test_what_cannot_run_here_is_rejected(spec_dir: Path, example: str, unsupported: str) -> None:
    messages = [e.message for e in validate_file(spec_dir / "examples" / example)]
    assert f"{unsupported} is not supported by this engine yet" in messages


def test_a2a_is_rejected() -> None:
    flow = document(
        """
  - ask:
      call: a2a
      with: {method: message/send, server: "https://agents.example/a2a"}
"""
    )
    assert _messages(flow) == ["/do/0/ask: 'call: a2a' is not supported by this engine yet"]


def test_secrets_are_read_only_where_an_activity_resolves_them() -> None:
    flow = document(
        """
  - leak:
      set: {token: "${ $secrets.token }"}
  - call:
      call: http
      with:
        method: get
        endpoint: https://api.example/items
        headers: {authorization: "${ $secrets.token }", other: "${ $secrets.other }"}
""",
        use="  secrets: [token]",
    )
    assert _messages(flow) == [
        "/do/0/leak/set/token: '$secrets' can only be used in the arguments of "
        "'call: http|openapi|grpc|mcp' and 'run: shell|script' tasks, which resolve them "
        "outside the workflow so they never enter its history",
        "/do/1/call/with/headers/other: secret 'other' is not declared in 'use.secrets'",
    ]


def test_authentication_references_and_arguments_are_checked() -> None:
    flow = document(
        """
  - call:
      call: http
      with:
        method: fetch
        endpoint:
          uri: https://api.example/items
          authentication: {use: nowhere}
  - login:
      call: http
      with:
        method: get
        endpoint:
          uri: https://api.example/login
          authentication: {basic: {use: credentials}}
  - script:
      run:
        script: {language: ruby, code: "puts 1"}
        await: false
"""
    )
    assert _messages(flow) == [
        "/do/0/call/with/method: 'fetch' is not an HTTP method",
        "/do/0/call/with/endpoint/authentication/use: no authentication policy named "
        "'nowhere' in 'use.authentications'",
        "/do/1/login/with/endpoint/authentication/basic/use: secret 'credentials' is not "
        "declared in 'use.secrets'",
        "/do/2/script/run/script/language: script language 'ruby' is not supported; use "
        "python, js, javascript",
    ]
