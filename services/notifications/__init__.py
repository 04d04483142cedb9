"""The notifications service: it turns `notification-requested` commands into e-mails and webhooks.

A command is recorded as pending deliveries (once per notification id): the e-mail to the recipient
named by reference, plus one per webhook configured for its message type. The message type
decides how it goes (a request's urgency can only make it stricter): confirmations and staff alerts
at once, the rest in business hours, reminders at most a set number per company per day. A
background sender resolves the recipient with the owning service at send time, respects the opt-outs
of non-essential messages, renders the Jinja2 template in the recipient's language (Dutch by
default) and sends, retrying with backoff; it publishes `notification-sent`, or after the last
attempt `notification-failed` and a staff alert, through the outbox. See docs/notifications.md.
"""
