"""What the task types that reach outside the workflow share: the activity boundary,
secrets, authentication, HTTP, external resources and processes."""
