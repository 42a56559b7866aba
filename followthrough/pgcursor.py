"""The cursor of the app's PostgreSQL connections (followthrough.settings, POSTGRES_PREPARE).

Values are sent apart from the statement (server-side binding), so that a statement a connection runs again
is prepared once and planned once. PostgreSQL takes at most 65,535 values apart in one statement; Django does
not split its IN lists, prefetches or cascades, and at L some are longer (every evaluation's recommendations
for an export: 75,000 ids). Such a statement has its values written into it instead, as Django's default
cursor does for every statement, and is not prepared. No Django import here: the settings load this module.
"""

from __future__ import annotations

import psycopg

# PostgreSQL's limit of values sent apart with one statement (a 16-bit count in its protocol).
MAX_BOUND = 65_535


class Cursor(psycopg.Cursor):
    def execute(self, query, params=None, *, prepare=None, binary=None):
        if params is not None and len(params) > MAX_BOUND:
            query = psycopg.ClientCursor(self.connection).mogrify(query, params)
            return super().execute(query, None, prepare=False, binary=binary)
        return super().execute(query, params, prepare=prepare, binary=binary)
