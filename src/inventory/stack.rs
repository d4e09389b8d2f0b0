//! The parser's thread: YAML nested as deep as the parser budget allows recurses deeper than
//! a default thread stack, so every reader of untrusted YAML (the manifests, a committed
//! render, a file an adopted install lives in) parses on a thread sized for it.

/// Runs `f` on a thread named `name` whose stack fits [`super::PARSER_STACK_BYTES`]; `Err`
/// says why when the thread cannot start or `f` panicked (a bug of ours, never the input's).
pub fn on_parser_stack<T: Send>(name: &str, f: impl FnOnce() -> T + Send) -> Result<T, String> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name(name.to_string())
            .stack_size(super::PARSER_STACK_BYTES)
            .spawn_scoped(scope, f)
            .map_err(|e| format!("cannot start the parser thread: {e}"))?
            .join()
            .map_err(|_| format!("the {name} thread panicked"))
    })
}
