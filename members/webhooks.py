"""Partner webhooks: signed deliveries of domain events, retried with backoff."""
