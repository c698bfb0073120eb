"""What crosses a process boundary, in one place.

Workflow and activity type names, the typed inputs workflows are started with, the
phases of an execution, the RFC 7807 problem type every error travels as, and the one
way to reach Temporal. The API, the workers and the CLI run in different processes (and
different versions during a rollout); anything both sides must agree on lives here.
"""
