"""The intake service: the company registry and its contacts, the cohort's quota pools, the intake
interview, the digital maturity assessments (T0/T1, questionnaire data in `questionnaire/`), the
plan of services, exits, and the export and erasure of personal data."""
