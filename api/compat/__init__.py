"""Request and answer shapes of other servers' clients (Plus, Open WebUI, Kokoro-FastAPI, travisvn, devnen).

Each module translates one client's vocabulary into ours; the engines, stores and services stay as they
are. See docs/clients.md and docs/migration-from-plus.md.
"""
