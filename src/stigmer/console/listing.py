"""What the executions page lists: its filters, read from the URL, and the API read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import Client
from stigmer.console.views import KINDS, OPEN_PHASES, matches

LIMIT = 200
"""Newest executions read per refresh; the text filter looks within these."""
PHASES = tuple(name for name in pb.Phase.keys() if name != "PHASE_UNSPECIFIED")  # noqa: SIM118


@dataclass(frozen=True)
class ListQuery:
    kind: str = ""
    phase: str = ""
    target: str = ""
    text: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> ListQuery:
        """Unknown values are dropped rather than refused: a filter link never breaks."""
        kind = params.get("kind", "")
        phase = params.get("phase", "")
        return cls(
            kind=kind if kind in KINDS else "",
            phase=phase if phase == "open" or phase in PHASES else "",
            target=params.get("target", "").strip(),
            text=params.get("q", "").strip(),
        )

    @property
    def filtered(self) -> bool:
        return bool(self.kind or self.phase or self.target or self.text)

    @property
    def string(self) -> str:
        """The query string that asks for this list again (with its `?`), or empty."""
        given = {"kind": self.kind, "phase": self.phase, "target": self.target, "q": self.text}
        kept = {key: value for key, value in given.items() if value}
        return f"?{urlencode(kept)}" if kept else ""

    @property
    def api_filter(self) -> tuple[str, tuple[str, ...], str]:
        """What the API filters (kind, phases, target); the text is matched here."""
        phases = OPEN_PHASES if self.phase == "open" else (self.phase,) if self.phase else ()
        return KINDS.get(self.kind, ""), phases, self.target

    async def fetch(self, client: Client) -> list[pb.Execution]:
        """The newest executions the API filters give, before the text filter.

        The API orders by id, and ids start with their kind (`aex-`, `wex-`), so one list
        of both kinds is newest first within each kind only: each kind is read on its own
        and the two are merged by creation time.
        """
        kind, phases, target = self.api_filter
        found: list[pb.Execution] = []
        for each in (kind,) if kind else tuple(KINDS.values()):
            page = await client.list_executions(
                kind=each, phases=phases, target=target, page_size=LIMIT
            )
            found.extend(page.executions)
        found.sort(key=_creation, reverse=True)
        return found[:LIMIT]

    def shown(self, executions: list[pb.Execution]) -> list[pb.Execution]:
        return [execution for execution in executions if matches(execution, self.text)]


def _creation(execution: pb.Execution) -> tuple[int, int, str]:
    """When it was created; then its id past the kind prefix (a clock, then randomness)."""
    created = execution.status.created_at
    return (created.seconds, created.nanos, execution.id[4:])
