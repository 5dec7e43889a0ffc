//! `Range: bytes=…` for origins that must cut the body themselves.

/// An inclusive byte range within an object of known size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl ByteRange {
    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn content_range(&self, size: u64) -> String {
        format!("bytes {}-{}/{}", self.start, self.end, size)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeError {
    /// Syntactically valid but outside the object: 416.
    Unsatisfiable,
    /// Malformed or several ranges: the header is ignored and the whole
    /// object is sent (RFC 9110 §14.2; S3 also ignores multi-range requests).
    Ignored,
}

/// Parses one `bytes=a-b`, `bytes=a-` or `bytes=-n` range against `size`.
pub fn parse_range(header: &str, size: u64) -> Result<ByteRange, RangeError> {
    let spec = header
        .trim()
        .strip_prefix("bytes=")
        .ok_or(RangeError::Ignored)?
        .trim();
    if spec.contains(',') {
        return Err(RangeError::Ignored);
    }
    let (first, last) = spec.split_once('-').ok_or(RangeError::Ignored)?;
    let number = |s: &str| -> Result<u64, RangeError> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RangeError::Ignored);
        }
        s.parse().map_err(|_| RangeError::Ignored)
    };
    if first.is_empty() {
        let suffix = number(last)?;
        if suffix == 0 || size == 0 {
            return Err(RangeError::Unsatisfiable);
        }
        return Ok(ByteRange {
            start: size.saturating_sub(suffix),
            end: size - 1,
        });
    }
    let start = number(first)?;
    let end = if last.is_empty() {
        u64::MAX
    } else {
        number(last)?
    };
    if end < start {
        return Err(RangeError::Ignored);
    }
    if start >= size {
        return Err(RangeError::Unsatisfiable);
    }
    Ok(ByteRange {
        start,
        end: end.min(size - 1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_forms() {
        assert_eq!(
            parse_range("bytes=0-99", 1000),
            Ok(ByteRange { start: 0, end: 99 })
        );
        assert_eq!(
            parse_range("bytes=900-", 1000),
            Ok(ByteRange {
                start: 900,
                end: 999
            })
        );
        assert_eq!(
            parse_range("bytes=-100", 1000),
            Ok(ByteRange {
                start: 900,
                end: 999
            })
        );
        assert_eq!(
            parse_range("bytes=-5000", 1000),
            Ok(ByteRange { start: 0, end: 999 })
        );
        assert_eq!(
            parse_range("bytes=10-5000", 1000),
            Ok(ByteRange {
                start: 10,
                end: 999
            })
        );
        assert_eq!(ByteRange { start: 0, end: 99 }.len(), 100);
        assert_eq!(
            ByteRange { start: 0, end: 99 }.content_range(1000),
            "bytes 0-99/1000"
        );
    }

    #[test]
    fn unsatisfiable_versus_ignored() {
        assert_eq!(
            parse_range("bytes=1000-", 1000),
            Err(RangeError::Unsatisfiable)
        );
        assert_eq!(
            parse_range("bytes=-0", 1000),
            Err(RangeError::Unsatisfiable)
        );
        assert_eq!(parse_range("bytes=0-0", 0), Err(RangeError::Unsatisfiable));
        for ignored in [
            "items=0-1",
            "bytes=5-1",
            "bytes=0-1,4-5",
            "bytes=a-b",
            "bytes=-",
            "bytes=+1-2",
        ] {
            assert_eq!(
                parse_range(ignored, 1000),
                Err(RangeError::Ignored),
                "{ignored}"
            );
        }
    }
}
