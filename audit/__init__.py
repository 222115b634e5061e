"""Tamper-evident audit log: an RFC 6962 / RFC 9162 Merkle tree over security events.

Storage choice: every complete subtree hash is stored (``audit_node`` keyed by (level, index);
level 0 is the leaf hash kept on the event row) plus a one-row right edge (``audit_head``).
An append reads the head (log2 n hashes), hashes O(log n) and writes the event, the nodes it
completes (one on average) and the head: no recomputation. Keeping all subtrees costs about
one small row per event, and in exchange any inclusion or consistency proof at any tree size
is one indexed lookup of at most 2*log2(n) nodes (well under a millisecond at 1M events),
where a frontier-only store would have to rehash whole subtrees per proof.

Sequencing: ``pg_advisory_xact_lock`` on PostgreSQL, the database write lock on SQLite, held
until the caller's transaction ends, so positions are contiguous and an event commits or
rolls back with the change it records. Hot paths use the outbox instead (``record_deferred``
writes ``audit_pending`` with no lock; ``audit.sequencer`` integrates it in batches, keeping
event ids), so audited transactions no longer run one at a time. Checkpoints are C2SP signed
notes (Ed25519).
"""
