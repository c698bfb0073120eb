"""Sealing payloads with AES-256-GCM, the Temporal way: a payload codec on every client.

Each payload the platform hands Temporal is replaced by its serialized form encrypted
with the keyring's current key, the key's id in the metadata (Temporal's conventional
`binary/encrypted` encoding, which its UI and CLI show as such). Opening needs a key of
the keyring, and the cipher's tag proves the platform sealed it.

A payload that does not open (not sealed at all, sealed with a key the keyring lacks, or
altered) is never an error inside the SDK: that would fail a workflow task again and
again. It opens as an `Unauthenticated` value instead, whatever type was expected, and
the code that receives it refuses it (`stigmer.sealing.guard`). Failures are sealed too
(their message and stack trace travel as an encoded attribute); an application failure
that carries no sealed attribute becomes a `forgery` error. Server-made failures
(timeouts, cancellations) carry none by nature and pass as they are: callers that must not
be fooled by a forged one check them (`stigmer.handshake.caller`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultFailureConverter,
    DefaultPayloadConverter,
    EncodingPayloadConverter,
    PayloadCodec,
    PayloadConverter,
)

from stigmer.contract.problems import FORGERY, Problem
from stigmer.sealing.keys import Keyring

ENCRYPTED = b"binary/encrypted"
UNAUTHENTICATED = b"binary/stigmer-unauthenticated"
KEY_ID = "encryption-key-id"
CIPHER = "encryption-cipher"
AES_GCM = b"AES256-GCM"
NONCE_BYTES = 12


@dataclass(frozen=True)
class Unauthenticated:
    """A value the platform did not seal, in the place of whatever was expected."""

    reason: str


class SealingCodec(PayloadCodec):
    """Encrypts and authenticates payloads with a keyring; see the module's docstring."""

    def __init__(self, keyring: Keyring) -> None:
        self.current = keyring.current
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keyring.keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.seal(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.open(payload) for payload in payloads]

    def seal(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.current].encrypt(
            nonce, payload.SerializeToString(), _associated(self.current)
        )
        return Payload(
            metadata={"encoding": ENCRYPTED, KEY_ID: self.current.encode(), CIPHER: AES_GCM},
            data=nonce + sealed,
        )

    def open(self, payload: Payload) -> Payload:
        """The payload the platform sealed, or an `Unauthenticated` one saying why not."""
        reason = self._unopened(payload)
        if isinstance(reason, Payload):
            return reason
        return Payload(metadata={"encoding": UNAUTHENTICATED}, data=reason.encode())

    def opened(self, payload: Payload) -> Payload | None:
        """The payload the platform sealed; None for any other (for display)."""
        found = self._unopened(payload)
        return found if isinstance(found, Payload) else None

    def _unopened(self, payload: Payload) -> Payload | str:
        if payload.metadata.get("encoding") != ENCRYPTED:
            return "it was not sealed by the platform"
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            return f"it was sealed with a key this platform lacks ({key_id!r})"
        data = payload.data
        try:
            plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], _associated(key_id))
            opened = Payload()
            opened.ParseFromString(plain)
        except (InvalidTag, ValueError, DecodeError):
            return "its seal does not authenticate"
        return opened


def _associated(key_id: str) -> bytes:
    return b"stigmer-payload/v1/" + key_id.encode()


class _UnauthenticatedConverter(EncodingPayloadConverter):
    """Turns what the codec could not open into `Unauthenticated`; never encodes."""

    @property
    def encoding(self) -> str:
        return UNAUTHENTICATED.decode()

    def to_payload(self, value: Any) -> Payload | None:
        return None

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        return Unauthenticated(payload.data.decode(errors="replace"))


class SealedPayloadConverter(CompositePayloadConverter):
    """The default converters, and `Unauthenticated` for what did not open."""

    def __init__(self) -> None:
        super().__init__(
            _UnauthenticatedConverter(),
            *DefaultPayloadConverter.default_encoding_payload_converters,
        )


class SealedFailureConverter(DefaultFailureConverter):
    """Seals a failure's message and stack trace; an application failure without them
    sealed was made by someone else, and becomes a `forgery` error."""

    def __init__(self) -> None:
        super().__init__(encode_common_attributes=True)

    def from_failure(self, failure: Failure, payload_converter: PayloadConverter) -> BaseException:
        if failure.HasField("application_failure_info") and not _sealed(failure):
            claimed = failure.message[:200]
            return forgery(
                "a failure", f"the platform did not make it ({claimed!r})"
            ).application_error()
        return super().from_failure(failure, payload_converter)


def forgery(what: str, reason: str) -> Problem:
    """The problem of an outcome refused because the platform did not make it."""
    return Problem.of(FORGERY, f"{what} was refused: {reason}", title="Forgery refused")


def _sealed(failure: Failure) -> bool:
    encoding = failure.encoded_attributes.metadata.get("encoding")
    return failure.HasField("encoded_attributes") and encoding != UNAUTHENTICATED


def sealed_data_converter(keyring: Keyring) -> DataConverter:
    """The data converter of every Temporal client and worker of the platform."""
    return DataConverter(
        payload_converter_class=SealedPayloadConverter,
        payload_codec=SealingCodec(keyring),
        failure_converter_class=SealedFailureConverter,
    )
