"""Partner API admin: API keys, idempotency keys, webhook endpoints and deliveries."""
