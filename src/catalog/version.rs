//! Istio versions as ordered numbers, so "latest patch" and "how many minors apart" are
//! arithmetic rather than string comparisons ("1.9" < "1.10" is false as text).

use std::fmt;
use std::str::FromStr;

/// An exact Istio release `major.minor.patch`; ordered numerically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Major version (1 for every Istio so far).
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch version.
    pub patch: u32,
}

/// A string that is not `X.Y.Z` (or `X.Y` where a minor is expected).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a version `X.Y.Z`")]
pub struct VersionParseError(pub String);

fn number(s: &str) -> Option<u32> {
    // Plain decimal only: no sign, no leading zeros (they would make "1.024" equal "1.24").
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

impl Version {
    /// Builds a version from its parts.
    pub fn new(major: u32, minor: u32, patch: u32) -> Version {
        Version {
            major,
            minor,
            patch,
        }
    }

    /// Parses `X.Y.Z`.
    pub fn parse(s: &str) -> Result<Version, VersionParseError> {
        let mut it = s.split('.');
        match (it.next(), it.next(), it.next(), it.next()) {
            (Some(a), Some(b), Some(c), None) => match (number(a), number(b), number(c)) {
                (Some(major), Some(minor), Some(patch)) => Ok(Version::new(major, minor, patch)),
                _ => Err(VersionParseError(s.to_string())),
            },
            _ => Err(VersionParseError(s.to_string())),
        }
    }

    /// The minor as text: `1.24.3` → `"1.24"`.
    pub fn minor_string(&self) -> String {
        format!("{}.{}", self.major, self.minor)
    }

    /// The `(major, minor)` pair.
    pub fn minor_key(&self) -> (u32, u32) {
        (self.major, self.minor)
    }
}

/// Parses a minor `X.Y` into `(major, minor)`.
pub fn parse_minor(s: &str) -> Option<(u32, u32)> {
    let mut it = s.split('.');
    match (it.next(), it.next(), it.next()) {
        (Some(a), Some(b), None) => Some((number(a)?, number(b)?)),
        _ => None,
    }
}

impl FromStr for Version {
    type Err = VersionParseError;
    fn from_str(s: &str) -> Result<Version, VersionParseError> {
        Version::parse(s)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_order_display() {
        let v = Version::parse("1.24.3");
        assert_eq!(v, Ok(Version::new(1, 24, 3)));
        assert!(Version::new(1, 9, 9) < Version::new(1, 10, 0));
        assert!(Version::new(1, 24, 10) > Version::new(1, 24, 9));
        assert_eq!(Version::new(1, 28, 10).to_string(), "1.28.10");
        assert_eq!(Version::new(1, 28, 10).minor_string(), "1.28");
        for bad in [
            "1.24", "1.24.3.1", "v1.24.3", "1.24.x", "1.024.3", "", "1..3", "1.24.-1",
        ] {
            assert!(Version::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_minor("1.30"), Some((1, 30)));
        assert_eq!(parse_minor("1.3.0"), None);
    }
}
