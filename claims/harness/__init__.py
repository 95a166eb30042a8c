"""Everything of the suite that runs inside pytest, behind the entry point ``claims.plugin``: the command-line
options, the root correction, the session's bookkeeping and ledger writing, falsification, evidence."""
