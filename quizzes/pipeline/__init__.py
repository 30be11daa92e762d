"""Code and SQL submissions: create, claim, run, store, sweep; Celery tasks;
worker bootsteps; health and operations. See docs/architecture.md."""
