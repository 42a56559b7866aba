"""Signals the domain offers the doors that change what its kept counts read behind the services.

`themes_changing`: sent by the similarity job (search.recurring), inside its transaction, before it
changes which recurring theme recommendations are in; `recommendation_ids`: theirs (None: any). Each
receiver answers with a context manager, entered around the change: the themes' kept counts follow it
(`tracking.services.tallies.themes_moving`). A signal, not a call: search is a reading door that
imports no service.
"""

from django.dispatch import Signal

themes_changing = Signal()
