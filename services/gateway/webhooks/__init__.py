"""Webhooks to councils' systems: endpoints, fan-out of events, signed deliveries with retries."""
