//! Reports: diagnostics (and the plan) rendered as text, JSON, and the CI formats.
