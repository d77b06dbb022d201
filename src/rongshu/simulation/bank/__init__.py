"""The synthetic bank: people, companies, lives, money and noisy sources, generated from a seed.

Everything here is deterministic for a given seed: customers are generated in fixed blocks of
:data:`rongshu.simulation.bank.ids.BLOCK` whose random streams are derived from
``(seed, purpose, block)`` with :class:`numpy.random.SeedSequence`, so the output never depends
on how a caller batches the work. See ``docs/simulation.md``.
"""
