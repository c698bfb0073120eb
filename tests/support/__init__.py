"""What the engine's tests share: the DSL specification, Temporal servers, the workflows
tests run documents with, and small helpers. Test modules import from here, never from
each other."""
