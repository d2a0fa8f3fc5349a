"""The echo handler behind a heavy import: importing it takes 200 ms, as a
handler that imports its libraries (pydantic, requests, its own package) does."""

import time

time.sleep(0.2)

from echo import handle  # noqa: E402,F401  (the same echo, after the import's cost)
