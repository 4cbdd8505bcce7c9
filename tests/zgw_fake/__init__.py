"""The loopback ZGW APIs moved to :mod:`broker.devtools.zgw_fake` (``stuf-broker dev zgw-fake``); import
them from there. This alias keeps a test written before the move working."""

from broker.devtools.zgw_fake import *  # noqa: F403
from broker.devtools.zgw_fake import __all__  # noqa: F401
