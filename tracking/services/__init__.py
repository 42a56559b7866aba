"""The only code that changes domain records.

Every function takes an `Actor` (who acts, through which door), checks what
the actor may do, makes the change in one transaction and writes its history.
The web views, the API and the command line call these; none of them writes
to the models directly.
"""
