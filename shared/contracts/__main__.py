"""`python -m shared.contracts`: regenerate the JSON Schemas and docs/events.md."""

from shared.contracts.published import ROOT, write_all

for path in write_all():
    print("wrote", path.relative_to(ROOT))
