"""The open API (/api/v1/) and the change feeds: a door like the web app, over the same services and reading rules."""
