// FlintClient: the Swift client SDK (offline cache, pending-write queue, live listeners).
// The module is empty until the SDK issue lands; it exists so that the package has the layout of DESIGN.md
// from the start. The wire protocol it will speak is sdk-docs/protocol.md.
