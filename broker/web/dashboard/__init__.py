"""The operators' dashboard, served by the broker under ``/dashboard``.

Server-rendered pages (Jinja2, hand-written CSS and a little JS, charts as SVG) over the message log,
the delivery queue and the mapping configurations. Accounts have one of three roles (auth.py);
viewers see personal data masked (masking.py); every operator action goes to the audit log
(audit.py) and every unmasked view of a message to the access log (access.py).
"""
