"""The job queue: what must not run in a request runs in `followthrough worker` processes.

Built on django-tasks (the backport of Django 6's tasks framework) and its
database backend (django-tasks-db): a job is a row in the database, so it
survives restarts, and workers on any number of machines share one queue
(SQLite for local use, PostgreSQL in production). On top of the library,
this app adds what it leaves out:

* retries with backoff (`jobs.queue.job`): a failed job waits 30 s, 1 min,
  2 min, ... before its next attempt, up to its number of attempts;
* leases (`jobs.worker`): each worker says it is alive every few seconds;
  a job whose worker went silent (killed, machine lost) is taken over by
  another worker, and the silent one's outcome, should it come back, is
  dropped, so a job is done once;
* a scheduler (`jobs.schedule.periodic`): periodic jobs, enqueued once per
  due time however many workers run;
* the admin: jobs (failed ones first to see), workers and scheduled runs.

Modules: `queue`, `schedule`, `worker` and `models` are the machinery and
know no job; `tasks` holds the jobs themselves (a door, like `web`: jobs
call services and reports, never the other way round).
"""
