"""The notifications service: it turns `notification-requested` commands into e-mails.

A command is recorded as a pending delivery (once per notification id); a background sender
resolves the recipient with the owning service at send time, renders the Jinja2 template in the
recipient's language (Dutch by default), sends it over SMTP and publishes `notification-sent`
through the outbox.
"""
