//! `Accept` read for format negotiation (RFC 9110 §12.5.1): which of a
//! bucket's negotiable formats the client admits, best first. Only an
//! explicit `image/avif` / `image/webp` admits one: browsers that decode
//! them list them, while `*/*` and `image/*` are sent by every client,
//! including ones that cannot decode either (old Safari, curl, crawlers).

use http::HeaderMap;
use http::header::ACCEPT;
use pixgate_api::Format;
use pixgate_api::action::negotiate::Preferred;

/// Most media ranges read from one `Accept` (a longer header is read up to
/// there: the rest is ignored, never an error).
const MAX_RANGES: usize = 64;

/// The formats of `offered` (the bucket's list, in its order) that every
/// `Accept` header of the request admits with q > 0, ordered by the client's
/// q-value, then by the bucket's order.
pub fn preferred(headers: &HeaderMap, offered: &[Format]) -> Preferred {
    let mut admitted: Vec<(u16, usize, Format)> = Vec::new();
    for (i, &f) in offered.iter().enumerate() {
        if let Some(q) = quality(headers, f.mime()).filter(|&q| q > 0) {
            admitted.push((q, i, f));
        }
    }
    admitted.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    Preferred::new(admitted.into_iter().map(|(_, _, f)| f))
}

/// The q-value (in thousandths) the client gives exactly `mime`; `None`
/// when no `Accept` names it. Repeated headers are one list (RFC 9110 §5.3).
fn quality(headers: &HeaderMap, mime: &str) -> Option<u16> {
    let ranges = headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .take(MAX_RANGES);
    // A type named twice counts at its higher q-value.
    ranges
        .filter_map(|range| {
            let mut parts = range.split(';');
            let media = parts.next()?.trim();
            if !media.eq_ignore_ascii_case(mime) {
                return None;
            }
            let mut q = Some(1000);
            for param in parts {
                let Some((name, value)) = param.split_once('=') else {
                    continue;
                };
                if name.trim().eq_ignore_ascii_case("q") {
                    // A malformed weight makes the range unusable.
                    q = qvalue(value.trim());
                }
            }
            q
        })
        .max()
}

/// `0`, `0.5`, `1.000`: at most three decimals, 0 to 1.
fn qvalue(s: &str) -> Option<u16> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths: u16 = format!("{frac:0<3}").parse().ok()?;
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const BOTH: [Format; 2] = [Format::Avif, Format::Webp];

    fn pick(accepts: &[&str], offered: &[Format]) -> Vec<Format> {
        let mut h = HeaderMap::new();
        for a in accepts {
            h.append(ACCEPT, HeaderValue::from_str(a).unwrap());
        }
        preferred(&h, offered).iter().collect()
    }

    #[test]
    fn browsers() {
        let chrome = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
        assert_eq!(pick(&[chrome], &BOTH), [Format::Avif, Format::Webp]);
        assert_eq!(
            pick(&[chrome], &[Format::Webp, Format::Avif]),
            [Format::Webp, Format::Avif]
        );
        let safari_14 = "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5";
        assert_eq!(pick(&[safari_14], &BOTH), [Format::Webp]);
        let old = "image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5";
        assert!(pick(&[old], &BOTH).is_empty());
        assert!(pick(&[], &BOTH).is_empty());
        assert!(pick(&["*/*"], &BOTH).is_empty());
        assert!(pick(&[chrome], &[]).is_empty());
    }

    #[test]
    fn q_values() {
        assert_eq!(
            pick(&["image/avif;q=0.5, image/webp;q=0.9"], &BOTH),
            [Format::Webp, Format::Avif]
        );
        assert_eq!(pick(&["image/avif;q=0, image/webp"], &BOTH), [Format::Webp]);
        assert_eq!(pick(&["IMAGE/AVIF ; Q=1.000"], &BOTH), [Format::Avif]);
        // Malformed weights: that range is ignored, never an error.
        for bad in [
            "image/avif;q=2",
            "image/avif;q=0.1234",
            "image/avif;q=",
            "image/avif;q=x",
        ] {
            assert!(pick(&[bad], &BOTH).is_empty(), "{bad}");
        }
        // Two headers are one list.
        assert_eq!(
            pick(&["image/webp", "image/avif"], &BOTH),
            [Format::Avif, Format::Webp]
        );
    }

    #[test]
    fn weights() {
        assert_eq!(qvalue("1"), Some(1000));
        assert_eq!(qvalue("0.8"), Some(800));
        assert_eq!(qvalue("0.05"), Some(50));
        assert_eq!(qvalue("0"), Some(0));
        assert_eq!(qvalue("1.001"), None);
        assert_eq!(qvalue("-0"), None);
    }
}
