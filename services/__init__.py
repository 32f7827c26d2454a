"""fastseg's gevent services: one package per service, shared code in services.common."""
