"""``python -m benchmarks.claimer DSN NAME``: claim EDITED events as a cutter does, until none
is left; each one won is moved on to DONE at once (no cut) and its id printed.
It prints ``ready`` once connected and starts at the next line on stdin.

The mesh benchmark starts several of these against one database: together they
must print every event exactly once.
"""

import random
import sys

from services.db import Database, states


def main(dsn: str, name: str) -> int:
    db = Database(dsn, application_name=f"fastseg-claimer-{name}")
    try:
        db.query("SELECT 1")  # connected before the clock starts
        print("ready", flush=True)
        sys.stdin.readline()  # the go
        while True:
            # The cutter's candidate query (less its location and whitelist filters).
            rows = db.query("SELECT * FROM events WHERE state = 'EDITED'", idempotent=True)
            if not rows:
                return 0
            random.shuffle(rows)  # as the cutter does, so claimers do not all race for one
            for row in rows:
                if states.claim(db, row, name) is None:
                    continue  # another claimer won it
                states.finalizing(db, row.id, name)
                states.finished(db, row.id, name, "bench", "https://example.com/bench", False)
                print(row.id, flush=True)
                break
    finally:
        db.close()


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
