"""The intake service: companies and their contacts, registration into the cohort, and the
`company-registered` event. Later: intake interviews, DMA T0/T1, needs and region quotas."""
