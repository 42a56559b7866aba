"""The domain: offices and units, evaluations, management responses, key actions.

Models say what is recorded; `services` is the only place that changes it
(permission checks and history records are made there, once, for the web,
the API and the command line alike); `queries` gives the querysets a user
may see.
"""
