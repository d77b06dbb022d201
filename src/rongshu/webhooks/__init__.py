"""Webhook channels (layer 3): WeChat Official Account and SMS, thin adapters over the
assistant's conversation store."""
