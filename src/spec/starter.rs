//! The commented starter `meshplan.yaml` written by `meshplan init`. Kept as a real YAML file
//! beside this module so it stays readable and is parsed by the same loader in tests.

/// The starter spec, every section shown with its default explained in a comment.
pub fn starter_yaml() -> &'static str {
    include_str!("starter.yaml")
}
