"""The `apiVersion` of resource files, apart so that printing one loads no validation."""

from __future__ import annotations

from typing import Final

API_VERSION: Final = "stigmer.dev/v1"
