"""The server on Ray Serve: several engine replicas behind one address (docs/scaling.md).

``serving.app:build`` is the application (``serve run serve.yaml``): the FastAPI app of
``main_api.create_app`` as the ingress deployment, and the engines as deployments whose replicas run
the same engine code (engines/, each replica with its own EngineManager, worker and batching
scheduler). Only this package imports Ray; the single-process server never does.
"""
