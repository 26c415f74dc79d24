// Package audit signs, verifies and exports skyfence's audit log: the
// append-only, hash-chained record (skyfence.AuditEntry) of every change of
// where service works, of terminal status, verification, keys and roles.
//
// The chain alone shows an entry changed, deleted, inserted or moved in the
// middle; it cannot show the tail cut off, or the whole chain rewritten by
// someone who recomputes every hash. Checkpoints close that gap: a
// checkpoint is itself an entry (action "audit.checkpoint") carrying an
// ed25519 signature over the sequence number and hash of the entry before
// it, made with a key whose public half is recorded in the chain by a key
// entry (action "audit.key"). Each new key is signed by the one before, so
// a verifier who trusts the first key (pinned, or trusted on first use)
// trusts them all.
//
// The entries are also the leaves of an RFC 6962 Merkle tree that the
// store keeps (golang.org/x/mod/sumdb/tlog), and a Sealer signs its head,
// a C2SP tlog-checkpoint in a signed note, in every transaction that
// appends: no committed entry is unsigned, and anyone who kept a
// checkpoint can prove the log still holds its tree (ProveInclusion,
// ProveConsistency; Verify with VerifyOptions.Checkpoints).
//
// A Signer holds the private key, in a file under the data directory;
// Register puts it in force; Verify walks a chain and its tree and names
// its first problem, the entry and what was done to it; Export writes the
// chain as JSON lines that a regulator can verify without skyfence
// (docs/AUDIT.md gives the byte layout and a Python verifier).
//
// audit owns the signing, the proofs and the export format. It imports the
// domain and golang.org/x/mod's note and tlog: never a store, HTTP or the
// bus; the service hands it the entries and the store keeps them.
package audit
