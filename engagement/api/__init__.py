"""The council's read-only REST API: per-officer tokens, the endpoints under /api/v1/councils/<slug>/, and the
OpenAPI schema and docs.

Every figure it returns is published by `engagement.suppression` (through `engagement.selectors`), exactly as the
dashboards publish it; nothing here rounds or hides a number itself, and no resident's name, email, address or id,
and nothing of a members-only group, is ever read into a response.
"""
