"""What the tickets package announces; webhooks, e-mail and analytics subscribe.

Signals are sent inside the transaction of the change, so a subscriber that writes (a
webhook delivery, a letter in the outbox) stores its rows with the change or not at all.
The tickets package imports none of its subscribers.
"""

from blinker import Namespace

_signals = Namespace()

created = _signals.signal("ticket-created")
"""A new ticket (sender) with its first message, filed through any channel."""

replied = _signals.signal("ticket-replied")
"""A message (`message=`) on a ticket (sender), internal notes included; sent after any
status change the message caused."""

status_changed = _signals.signal("ticket-status-changed")
"""The ticket (sender) moved from `old=` to `new=` by `actor=`; `by_hand=True` when a
specialist set the status themselves rather than as a side effect of another action."""

taken = _signals.signal("ticket-taken")
"""A specialist (`agent=`) took the ticket (sender) into work."""
