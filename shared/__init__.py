"""The one library every EDIH service uses: settings, contracts, Kafka, database, outbox, inbox,
clock and calendar, metrics, auth, logging and the HTTP scaffolding. No business rules live here."""
