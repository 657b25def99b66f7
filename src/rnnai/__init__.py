"""rnnai: the "RNNs are general computers" line of AI research, runnable, tested and fast."""

__version__ = "0.1.0"
