"""fastseg's gevent services: one package per service, above the shared layers
(archive, ranges, db, cutting, runtime). See docs/DESIGN.md#layers."""
