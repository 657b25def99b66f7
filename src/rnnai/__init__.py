"""rnnai: the "RNNs are general computers" line of AI research, runnable, tested and fast.

The library is in the subpackages (``rnnai.nn``, ``rnnai.train``, ``rnnai.envs``,
``rnnai.evolution``, ``rnnai.search``, ``rnnai.ctc``, ``rnnai.tasks``, ``rnnai.runtime``); the
paper reproductions are in ``rnnai.experiments`` and run with the ``rnnai`` command. Importing
``rnnai`` itself is cheap: it imports no subpackage.

Examples:
    >>> import rnnai
    >>> rnnai.__version__
    '0.1.0'
"""

__version__ = "0.1.0"
