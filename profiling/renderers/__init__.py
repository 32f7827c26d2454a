"""Renderers of sampled stacks, one per output format.

Each module has ``render(stacks, ...) -> str`` taking ``{stack: seconds}`` with
stacks written ``frame;frame;...`` root first; they collect nothing themselves.
"""
