"""Reading a stack from disk into the model: the only I/O of the render pipeline's front half."""

from .stack import CONFIG_NAME, find_root, load_stack

__all__ = ["CONFIG_NAME", "find_root", "load_stack"]
