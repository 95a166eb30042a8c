"""Everything of the suite that runs inside pytest, behind the entry point ``claims.plugin``.

options.py      the command-line options, each bad value one usage error
rootdir.py      the root correction (a path option's value must not hide this project's configuration)
settings.py     what a run was asked for, read and checked once at start-up
session.py      which parts run in which process (``register``), and what a run writes at its end
collection.py   what each collected test checks: claim, device, planted fault (every process)
outcomes.py     what each test did: on its reports (every process), gathered (the ledger's process)
xdist_hooks.py  what xdist's controller and workers tell each other (registered only with xdist)
scope.py        which ledger a run writes, and why: pure functions of plain values
writer.py       writes the ledger (complete, merged, partial) or --falsify's section
terminal.py     the header and the terminal summary
falsify.py      how a test went red under a fault, and each claim's falsification verdict
evidence.py     the numbers a test records for the ledger
"""
