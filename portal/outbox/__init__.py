"""The outbox: what leaves the portal (e-mail, webhook calls) is a row written in the
transaction of the change, and `portal worker` delivers it through one leased retry queue
(`queue`) with one kind of delivery per channel (`mail`, `webhooks`)."""
