"""Notifications: messages, the notifiers that send them and the durable outbox."""
