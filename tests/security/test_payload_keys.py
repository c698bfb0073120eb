"""The payload keys: sealing that only the keyring opens, rotation that keeps old payloads
readable, and bad keyrings named with where they are wrong."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import ApplicationFailureInfo, Failure
from temporalio.converter import DataConverter
from temporalio.exceptions import ApplicationError

from stigmer.contract.problems import FORGERY
from stigmer.sealing.codec import SealingCodec, Unauthenticated, sealed_data_converter
from stigmer.sealing.keys import Keyring, KeyringError

CLI = [sys.executable, "-m", "stigmer.cli.main"]


def plain(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=f'"{text}"'.encode())


async def test_a_sealed_payload_opens_with_its_keyring_only() -> None:
    ring, other = Keyring.fresh(), Keyring.fresh()
    sealed = (await SealingCodec(ring).encode([plain("secret words")]))[0]
    assert b"secret words" not in sealed.SerializeToString()
    assert (await SealingCodec(ring).decode([sealed]))[0] == plain("secret words")
    converter = sealed_data_converter(other)
    (found,) = await converter.decode([sealed])
    assert isinstance(found, Unauthenticated)
    assert ring.current in found.reason and "lacks" in found.reason


async def test_what_was_not_sealed_or_was_altered_opens_as_unauthenticated() -> None:
    ring = Keyring.fresh()
    converter = sealed_data_converter(ring)
    sealed = (await SealingCodec(ring).encode([plain("x")]))[0]
    altered = Payload()
    altered.CopyFrom(sealed)
    altered.data = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    typed = await converter.decode([plain("forged"), altered], [dict, dict])
    assert [type(value) for value in typed] == [Unauthenticated, Unauthenticated]
    assert "not sealed" in typed[0].reason and "does not authenticate" in typed[1].reason


async def test_rotation_seals_with_the_new_key_and_still_opens_the_old() -> None:
    old = Keyring.fresh()
    before = (await SealingCodec(old).encode([plain("before")]))[0]
    new = Keyring.parse(old.rotated().render(), "rotated")
    assert new.current != old.current and set(old.keys) < set(new.keys)
    after = (await SealingCodec(new).encode([plain("after")]))[0]
    assert after.metadata["encryption-key-id"] == new.current.encode()
    assert (await SealingCodec(new).decode([before]))[0] == plain("before")
    (unopened,) = await sealed_data_converter(old).decode([after])
    assert isinstance(unopened, Unauthenticated)


def test_an_application_failure_the_platform_did_not_seal_is_a_forgery() -> None:
    converter = sealed_data_converter(Keyring.fresh())
    forged = Failure(
        message="the agent failed", application_failure_info=ApplicationFailureInfo(type="x")
    )
    error = converter.failure_converter.from_failure(forged, converter.payload_converter)
    assert isinstance(error, ApplicationError) and error.type == FORGERY
    assert "the agent failed" in error.message
    # The platform's own failures carry their message sealed, not in clear.
    failure = Failure()
    converter.failure_converter.to_failure(
        ApplicationError("secret detail", type="y"), converter.payload_converter, failure
    )
    assert failure.message == "Encoded failure" and failure.HasField("encoded_attributes")
    assert DataConverter.default.failure_converter  # the default is not what the platform uses


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("", "holds no key"),
        ("k1 c2hvcnQ", "32 bytes"),
        ("k1 not!base64", "base64"),
        ("bad id! AAAA", "expected 'ID KEY'"),
        ("k/1 " + "A" * 43, "not a key id"),
        ("k1 " + "A" * 43 + "\nk1 " + "B" * 43, "appears twice"),
    ],
)
def test_a_bad_keyring_is_refused_naming_the_line(text: str, wrong: str) -> None:
    with pytest.raises(KeyringError) as refused:
        Keyring.parse(text, "keys.txt")
    assert wrong in str(refused.value) and "keys.txt" in str(refused.value)


def test_keys_rotate_keeps_the_file_owner_only_and_the_old_keys(tmp_path: Path) -> None:
    path = tmp_path / "payload-keys"
    path.write_text(Keyring.fresh().render())
    path.chmod(0o600)
    before = Keyring.parse(path.read_text(), "before")
    done = subprocess.run(
        [*CLI, "keys", "rotate", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    after = Keyring.parse(path.read_text(), "after")
    assert after.current in done.stdout and after.current != before.current
    assert after.keys[before.current] == before.keys[before.current]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    missing = subprocess.run(
        [*CLI, "keys", "rotate", "--data-dir", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode != 0 and "no payload keys" in missing.stderr
