"""The ESIA simulator: a separate ASGI app (``create_simulator_app``) with demo people."""
