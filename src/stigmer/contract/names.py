"""Temporal type names: the workflows and activities every worker and the API agree on."""

from __future__ import annotations

from typing import Final

QUEUE_KINDS: Final = ("engine", "agents", "runner")
"""DSL workflows and caller activities; execution workflows and system activities; agents."""

AGENT_EXECUTION_WORKFLOW: Final = "stigmer/agent-execution"
WORKFLOW_EXECUTION_WORKFLOW: Final = "stigmer/workflow-execution"
SCHEDULED_RUN_WORKFLOW: Final = "stigmer/scheduled-run"

CALL_AGENT_ACTIVITY: Final = "stigmer/engine/call-agent"
RUN_WORKFLOW_ACTIVITY: Final = "stigmer/engine/run-workflow"
CANCEL_CALLED_ACTIVITY: Final = "stigmer/engine/cancel-call"
DELIVER_CALLBACK_ACTIVITY: Final = "stigmer/system/deliver-callback"
HEARTBEAT_CALLER_ACTIVITY: Final = "stigmer/system/heartbeat-caller"
BEGIN_ACTIVITY: Final = "stigmer/system/begin-execution"
FINISH_ACTIVITY: Final = "stigmer/system/finish-execution"
RUN_AGENT_ACTIVITY: Final = "stigmer/runner/run-agent"
