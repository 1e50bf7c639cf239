"""The partner-API platform that every app's `api/` package stands on (members, rewards, feedback).

- auth.py: `Authorization: Api-Key <key>`, its permission and the per-key throttle
- base.py: PartnerAPIView (auth, throttle, body-size limit, member lookup in the partner's scope)
  and @idempotent for POST handlers
- serializers.py: StrictSerializer (unknown fields and wrong JSON types are errors), MONEY
- docs.py: the OpenAPI pieces every endpoint shares (error envelope, Idempotency-Key header)
- services.py, selectors.py: API keys, idempotency records, webhook signing and deliveries
- endpoints.py: webhook endpoints (register, change, rotate the secret, test, redeliver), for the
  partner API (members/api/webhooks.py) and the admin alike
- webhooks.py: the event handler that turns domain events into signed webhook deliveries
  (Standard Webhooks headers, plus the older X-Fidelis-Signature during the transition)
- outbound.py: HTTP to partner URLs without server-side request forgery
- tasks.py: webhook attempts and the periodic clean-ups

To add a partner endpoint to an app: a view in `<app>/api/` derived from PartnerAPIView, its POST
handlers marked @idempotent, input serializers derived from StrictSerializer, errors documented
with docs.errors(...), and its path in `<app>/api/urls.py`. The staff side (keys, webhook
endpoints and deliveries) is in members/admin/partners.py.
"""
