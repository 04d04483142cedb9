"""The hub's independent services; each owns its data and talks to the others by events and HTTP."""
