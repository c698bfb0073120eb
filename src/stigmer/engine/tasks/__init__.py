"""The task types, one module each; every module declares its `TASK` (see `tasktype`)."""
