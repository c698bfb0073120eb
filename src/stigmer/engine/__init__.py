"""The Open Workflow DSL engine: loading, validation, runtime expressions, the interpreter."""
