"""The benchmarks' own PostgreSQL databases."""


def ensure_database(url: str) -> None:
    """Create the database `url` names if it does not exist yet (PostgreSQL URLs only)."""
    if not url.startswith("postgres"):
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
