"""Self-improving learners: the success-story algorithm and self-modifying policies.

Modules: `rnnai.selfmod.ssa` (the SSA stack and the success-story criterion),
`rnnai.selfmod.policy` (self-modifying probabilistic programs with SSA),
`rnnai.selfmod.keys_world` (the two-agent keys-and-doors world as a PettingZoo environment) and
`rnnai.selfmod.qlambda` (the tabular Q(lambda) baseline).
"""
