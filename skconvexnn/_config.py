"""Global configuration: the memory budget every fit is planned against."""

import contextlib
import os
import threading

_DEFAULTS = {"memory_budget": "auto"}
_local = threading.local()


def _config():
    if not hasattr(_local, "config"):
        _local.config = dict(_DEFAULTS)
    return _local.config


def get_config():
    """The current configuration, a copy.

    Returns
    -------
    dict
        ``memory_budget``: ``"auto"`` or a number of bytes (see :func:`set_config`).
    """
    return dict(_config())


def set_config(*, memory_budget=None):
    """Set skconvexnn's configuration (this thread), as :func:`sklearn.set_config` does.

    Parameters
    ----------
    memory_budget : int, float or "auto", default=None
        The most memory, in bytes, that one solve may plan to use. Before any work,
        every solve estimates its largest arrays from the data's shape, the number of
        gates and outputs and the dtype (:meth:`~skconvexnn.programs.ConvexProgram.
        memory_plan`) and raises :class:`~skconvexnn.MemoryBudgetError` if the estimate
        exceeds the budget. ``"auto"`` (the default): 80% of the machine's physical
        memory. None leaves the setting unchanged.
    """
    if memory_budget is not None:
        if not (memory_budget == "auto" or (
                isinstance(memory_budget, (int, float)) and not isinstance(memory_budget, bool)
                and memory_budget > 0)):
            raise ValueError(f"memory_budget must be 'auto' or a positive number of bytes; "
                             f"got {memory_budget!r}.")
        _config()["memory_budget"] = memory_budget


@contextlib.contextmanager
def config_context(**settings):
    """:func:`set_config` for the duration of a ``with`` block.

    Examples
    --------
    >>> import skconvexnn
    >>> with skconvexnn.config_context(memory_budget=2 * 2**30):
    ...     skconvexnn.get_config()["memory_budget"]
    2147483648
    """
    previous = get_config()
    set_config(**settings)
    try:
        yield
    finally:
        _config().update(previous)


def memory_budget():
    """The budget in bytes: the configured number, or 80% of physical memory."""
    budget = _config()["memory_budget"]
    if budget != "auto":
        return float(budget)
    try:
        return 0.8 * os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return float("inf")
