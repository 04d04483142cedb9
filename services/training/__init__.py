"""The training service (port 8102): the hub's course catalogue, sessions, enrolments of a company's
staff with waitlists, attendance and certificates, recommendations from a company's DMA scores, and
the answer to the journey's `service-requested` for training (docs/training.md)."""
