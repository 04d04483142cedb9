"""The operations console: a read model projected from every event, and server-rendered pages for staff.

Staff sign in with a password; the console keeps them signed in with a cookie holding a JWT issued
by `shared.auth`. The read model (companies, their journey stage and timeline) is rebuilt from the
events alone, so the console reads no other service's tables.
"""
