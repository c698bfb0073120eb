"""The embedded Temporal dev server and the process supervision behind ``stigmer server``."""
