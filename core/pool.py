"""The check the database connection pool runs before it hands out a connection.

When PostgreSQL restarts (or ends idle sessions) the connections the pool
keeps are dead, and the first query on each would fail the request that got
it. A server that ends a connection sends a last message and closes its end,
so the socket of a connection that sits idle in the pool becomes readable:
nothing else is ever sent to an idle connection of ours (Lectern uses no
LISTEN). Polling the socket costs a system call, not a round trip to the
server. A dead connection is closed, so the pool throws it away and hands out
another, or opens a new one. A server that vanished without a word (its host
powered off) is not seen here; the query on that connection fails, the
request answers 503 and the pool drops the connection.
"""

import select
from typing import Any

import psycopg


def check_pooled_connection(conn: Any) -> None:
    """Raise if the server has closed this idle connection, closing it so the pool drops it."""
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("the pooled connection is closed")
    poller = select.poll()
    poller.register(conn.pgconn.socket, select.POLLIN | select.POLLHUP | select.POLLERR)
    if poller.poll(0):
        conn.close()
        raise psycopg.OperationalError("the server closed this idle connection")
