"""The archive layer: how segments and chat sit on disk, and what they cover.

Names and times (what may become a path, how operators write times), the layout of
BASE/CHANNEL/QUALITY/HOUR, the hour lock, coverage and chat batches. Imports only
the ``fastseg`` core; everything above it may import it. See docs/DESIGN.md#layers.
"""
