"""PyTorch modules: the LSTM family (`LSTM` over whole sequences, `LSTMCell` one step at a time)
and fast weight programmers (`rnnai.nn.fastweights`: the sum and delta rules, their feature maps,
a multi-head `FastWeightLayer`, and the 1992 slow net that programs a fast net), and
multi-dimensional LSTMs (`rnnai.nn.mdlstm`: `MDLSTM` over 2-D and 3-D inputs in all 2^d sweep
directions, computed by anti-diagonal wavefronts, and `PyraMiDLSTM`), the modern
self-referential weight matrix (`rnnai.nn.srwm`: `SRWMLayer` with a memory-efficient backward;
`rnnai.nn.srwm1993`: Schmidhuber's 1993 `SelfReferentialNet1993`, which reads and rewrites its
own weights through address units)
and the meta-LSTM that learns to learn (`rnnai.nn.meta_lstm`); highway networks
(`rnnai.nn.highway`: dense and convolutional highway layers and the plain nets they are compared
with) and Ciresan's max-pooling CNN with its elastic distortions, width normalization and
multi-column committee (`rnnai.nn.mpcnn`); differentiable memories (`rnnai.nn.stack`: the
Joulin-Mikolov and Grefenstette et al. stacks and the NNPDA's continuous stack; `rnnai.nn.ntm`:
the Neural Turing Machine) and the neural history compressor (`rnnai.nn.chunker`).

Functions named like their module (`rnnai.nn.srwm.srwm`, `rnnai.nn.highway.highway`) are not
re-exported here, so that ``rnnai.nn.srwm`` stays the module.

Every variant of `rnnai.nn.lstm` (the 1997 LSTM, forget gates, peepholes, Greff et al.'s eight
one-change variants) runs in both modules with the same parameters; `LSTM` is a drop-in for
`torch.nn.LSTM` and `LSTMCell` for `torch.nn.LSTMCell`. The equations, the papers and the form of
the recurrent state are in `rnnai.nn.lstm`'s docstring. `rnnai.nn.lstm_online` trains the
papers' small nets online, the 1997-2002 way (truncated RTRL traces, numba), batch 1.

Examples:
    >>> import torch
    >>> from rnnai.nn import LSTM, LSTMCell, VARIANTS
    >>> _ = torch.manual_seed(0)
    >>> lstm = LSTM(4, 16, num_layers=2, batch_first=True, variant="lstm1997")
    >>> y, (h, c) = lstm(torch.randn(8, 20, 4))  # (N, L, H_in)
    >>> tuple(y.shape), tuple(c.shape)
    ((8, 20, 16), (2, 8, 16))
    >>> cell = LSTMCell(4, 16, variant="cifg")
    >>> h, c = cell(torch.randn(8, 4))
    >>> tuple(h.shape)
    (8, 16)
    >>> sorted(VARIANTS)[:4]
    ['cifg', 'fgr', 'gers2000', 'gers2002']
"""

from rnnai.nn.chunker import (
    CompressorOutput,
    CompressorState,
    HistoryCompressor,
    HistoryCompressorConfig,
)
from rnnai.nn.fastweights import (
    FEATURE_MAPS,
    FastWeightLayer,
    FastWeightProgrammer1992,
    FeatureMap,
    delta_rule,
    dpfp,
    elu_plus_one,
    sum_normalize,
    sum_rule,
)
from rnnai.nn.highway import (
    GateAnalysis,
    Highway,
    HighwayConv2d,
    HighwayNet,
    HighwayNetConfig,
    PlainLayer,
)
from rnnai.nn.lstm import ACTIVATIONS, LSTM, VARIANTS, LSTMCell, LSTMVariant, get_variant
from rnnai.nn.lstm_online import OnlineLSTM, OnlineLSTMConfig
from rnnai.nn.mdlstm import MDLSTM, PyraMiDLSTM
from rnnai.nn.meta_lstm import MetaLSTM, QuadraticFamily, error_curve, quadratic_episodes
from rnnai.nn.mpcnn import (
    MNIST_MPCNN,
    MPCNN,
    Committee,
    DistortionConfig,
    MPCNNConfig,
    distort,
    normalize_width,
    train_column,
)
from rnnai.nn.ntm import NTM, NTMState
from rnnai.nn.srwm import SRWMLayer, srwm_step
from rnnai.nn.srwm1993 import SelfReferentialNet1993
from rnnai.nn.stack import NeuralStackRNN, StackRNN

__all__ = [
    "CompressorOutput",
    "CompressorState",
    "HistoryCompressor",
    "HistoryCompressorConfig",
    "NTM",
    "NTMState",
    "NeuralStackRNN",
    "StackRNN",
    "ACTIVATIONS",
    "FEATURE_MAPS",
    "LSTM",
    "VARIANTS",
    "FastWeightLayer",
    "FastWeightProgrammer1992",
    "FeatureMap",
    "LSTMCell",
    "LSTMVariant",
    "MNIST_MPCNN",
    "MPCNN",
    "MPCNNConfig",
    "Committee",
    "DistortionConfig",
    "GateAnalysis",
    "Highway",
    "HighwayConv2d",
    "HighwayNet",
    "HighwayNetConfig",
    "PlainLayer",
    "distort",
    "normalize_width",
    "train_column",
    "MDLSTM",
    "MetaLSTM",
    "QuadraticFamily",
    "SRWMLayer",
    "error_curve",
    "quadratic_episodes",
    "srwm_step",
    "OnlineLSTM",
    "OnlineLSTMConfig",
    "SelfReferentialNet1993",
    "PyraMiDLSTM",
    "delta_rule",
    "dpfp",
    "elu_plus_one",
    "get_variant",
    "sum_normalize",
    "sum_rule",
]
