"""Self-improving learners: the success-story algorithm, self-modifying policies and Hutter's M*.

Modules: `rnnai.selfmod.ssa` (the SSA stack and the success-story criterion),
`rnnai.selfmod.policy` (self-modifying probabilistic programs: instruction set, IncProb /
DecProb, configuration), `rnnai.selfmod.keys_world` (the two-agent keys-and-doors world as a
PettingZoo parallel environment), `rnnai.selfmod.mstar` (Hutter's M*: a small auditable proof
system, its checker, and the interleaved proof search / bound ranking / execution at shares
10/10/80) and ``rnnai.selfmod._kernels`` (numba kernels: the world's twin,
lifelong SMP + SSA runs and the tabular Q(lambda) baseline).

Examples:
    >>> from rnnai.selfmod.ssa import kept_tags
    >>> kept_tags([10.0, 20.0], [1.0, 3.9], t=30.0, r=4.0)  # the top block brought no speed-up
    1
"""
