"""Load and concurrency test (issue 8): the app under gunicorn with several workers on
127.0.0.1, branch staff saving monthly values and readers opening pages at the same time,
on SQLite and on PostgreSQL. Run with `make loadtest`; not part of `make test` or CI."""
