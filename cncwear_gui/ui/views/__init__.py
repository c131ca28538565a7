"""One panel per view; each takes the AppState and subscribes to it."""
