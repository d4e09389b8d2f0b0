//! The plan: ordered steps from the lock (State) to the spec. Pure: no I/O.
