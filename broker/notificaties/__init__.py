"""Changes made in Open Zaak, told to the subscribers: notifications of the ZGW Notificaties API
received on the broker's callback (``POST /zgw/notificaties``), read back and queued as kennisgevingen.

:class:`broker.notificaties.receiver.NotificatieReceiver` is built by ``broker.runtime`` and called by
the edge (``broker.web.notificaties``). Its layer sits above the intake: a change it accepts is kept in
the message log like a received message and its kennisgevingen go through the queue.
"""
