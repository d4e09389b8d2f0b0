//! Reads and parses every manifest file of a load at once, across all cores.
//!
//! Parsing is most of a load's time and each file is independent, so files (and the runs of
//! documents of a large file, see `split`) are parsed on a rayon pool. The results come back
//! in the order the files were resolved and are turned into objects on one thread in that
//! order, so the inventory, its warnings and the first error reported are the same whatever
//! the number of threads (`RAYON_NUM_THREADS`, default: one per core).

use super::parse::{Doc, PARSER_STACK_BYTES};
use super::sources::FileInput;
use super::{InventoryError, Limits, build};
use rayon::prelude::*;

/// A file to read, or a build whose objects come in its place, in source order.
pub(crate) enum Pending {
    /// A manifest file; `stdin` when it is the `-f -` stream.
    File {
        /// The file.
        file: FileInput,
        /// Whether its bytes are stdin's.
        stdin: bool,
    },
    /// A built entry, already built.
    Built(build::Built),
}

/// A [`Pending`] item once read and parsed.
pub(crate) enum Loaded {
    /// A manifest file and its documents, or why it could not be read or parsed.
    File {
        /// The file.
        file: FileInput,
        /// Its documents.
        docs: Result<Vec<Doc>, InventoryError>,
    },
    /// A built entry, unchanged.
    Built(build::Built),
}

/// Reads and parses every pending file in parallel; the result is in the order given.
pub(crate) fn parse_all(pending: Vec<Pending>, limits: &Limits, stdin: &[u8]) -> Vec<Loaded> {
    let one = |item: Pending| match item {
        Pending::File {
            file,
            stdin: is_stdin,
        } => {
            let docs = super::read_and_parse(&file, is_stdin.then_some(stdin), limits);
            Loaded::File { file, docs }
        }
        Pending::Built(built) => Loaded::Built(built),
    };
    // Parsing one nesting level takes up to ~16 KiB of stack in debug builds: workers get
    // the loader thread's stack size (reserved, committed only when touched).
    let pool = rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("meshplan-parse-{i}"))
        .stack_size(PARSER_STACK_BYTES)
        .build();
    match pool {
        Ok(pool) => pool.install(|| pending.into_par_iter().map(one).collect()),
        // No threads to be had: the calling loader thread parses alone, as it can.
        Err(_) => pending.into_iter().map(one).collect(),
    }
}
