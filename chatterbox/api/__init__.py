"""REST routers (one file per resource under ``routes/``) and HTTP plumbing."""
