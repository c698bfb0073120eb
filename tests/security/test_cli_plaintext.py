"""The CLI will not send a token in plaintext to an address beyond this machine unless
told to, against a real API listening on this machine's own non-loopback address."""

from __future__ import annotations

import subprocess

import pytest

from tests.security.platforms import ServedPlatform, outside_host
from tests.support.cli import run_cli

pytestmark = [
    pytest.mark.temporal,
    pytest.mark.timeout(180),
    pytest.mark.skipif(outside_host() is None, reason="this machine has no non-loopback IPv4"),
]

WAIT = 60


def stigmer(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, **env)


def test_a_token_is_not_sent_in_plaintext_beyond_loopback_unless_allowed(
    public_served: ServedPlatform,
) -> None:
    platform = public_served
    assert platform.user_token and platform.host != "127.0.0.1"
    token = ("--token", platform.user_token)
    outside = ("--address", platform.address)

    for refused in (
        stigmer(*outside, *token, "list"),
        stigmer(*outside, "list", STIGMER_API_TOKEN=platform.user_token),
        stigmer("list", STIGMER_ADDRESS=platform.address, STIGMER_API_TOKEN=platform.user_token),
    ):
        assert refused.returncode != 0
        assert f"refusing to send the API token unencrypted to {platform.address}" in refused.stderr
        assert platform.user_token not in refused.stdout + refused.stderr

    for allowed in (
        stigmer(*outside, *token, "--allow-plaintext", "list", "-o", "json"),
        stigmer(*outside, *token, "list", "-o", "json", STIGMER_ALLOW_PLAINTEXT="true"),
        stigmer("--address", platform.loopback, *token, "list", "-o", "json"),  # loopback
    ):
        assert allowed.returncode == 0, allowed.stderr
