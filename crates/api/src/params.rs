//! One step's parameters, as written: `name_value` pairs (split at the first
//! `_`, since base64 values contain `_`) and bare values (`rotate,90`).

use std::ops::RangeInclusive;

use crate::error::PlanError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params<'a> {
    action: &'a str,
    named: Vec<(&'a str, &'a str)>,
    bare: Vec<&'a str>,
}

impl<'a> Params<'a> {
    /// Empty parameters (`resize,w_100,,`) are skipped, as OSS does.
    pub fn parse(action: &'a str, raw: &[&'a str]) -> Params<'a> {
        let mut named = Vec::new();
        let mut bare = Vec::new();
        for p in raw.iter().filter(|p| !p.is_empty()) {
            match p.split_once('_') {
                Some((name, value)) => named.push((name, value)),
                None => bare.push(*p),
            }
        }
        Params {
            action,
            named,
            bare,
        }
    }

    /// The same parameters without `name` (one the caller has read).
    pub fn without(&self, name: &str) -> Params<'a> {
        Params {
            action: self.action,
            named: self
                .named
                .iter()
                .filter(|(n, _)| *n != name)
                .copied()
                .collect(),
            bare: self.bare.clone(),
        }
    }

    pub fn action(&self) -> &'a str {
        self.action
    }

    /// The last value given for `name` (a repeated parameter: the last wins).
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.named
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }

    pub fn int(&self, name: &str, range: RangeInclusive<i64>) -> Result<Option<i64>, PlanError> {
        self.get(name)
            .map(|v| parse_int(self.action, name, v, &range))
            .transpose()
    }

    /// Refuses any named parameter outside `known` and any bare value.
    pub fn only(&self, known: &[&str]) -> Result<(), PlanError> {
        if let Some(v) = self.bare.first() {
            return Err(PlanError::invalid(format!(
                "The parameter '{v}' of '{}' is not understood: write it as name_value.",
                self.action
            )));
        }
        self.only_named(known)
    }

    pub fn only_named(&self, known: &[&str]) -> Result<(), PlanError> {
        match self.named.iter().find(|(n, _)| !known.contains(n)) {
            Some((n, _)) => Err(PlanError::invalid(format!(
                "The parameter '{n}' is not supported by '{}' (supported: {}).",
                self.action,
                known.join(", ")
            ))),
            None => Ok(()),
        }
    }

    /// The single bare value of actions like `rotate,90`: exactly one, no names.
    pub fn single(&self) -> Result<&'a str, PlanError> {
        if let Some((n, _)) = self.named.first() {
            return Err(PlanError::invalid(format!(
                "'{}' takes a single value, not the parameter '{n}'.",
                self.action
            )));
        }
        match self.bare.as_slice() {
            [] => Err(PlanError::missing(format!(
                "'{}' needs a value, e.g. '{},{}'.",
                self.action,
                self.action,
                example(self.action)
            ))),
            [v] => Ok(v),
            _ => Err(PlanError::invalid(format!(
                "'{}' takes a single value; got {}.",
                self.action,
                self.bare.join(",")
            ))),
        }
    }

    pub fn single_int(&self, range: RangeInclusive<i64>) -> Result<i64, PlanError> {
        let v = self.single()?;
        parse_int(self.action, "value", v, &range)
    }

    pub fn is_empty(&self) -> bool {
        self.named.is_empty() && self.bare.is_empty()
    }
}

fn example(action: &str) -> &'static str {
    match action {
        "rotate" => "90",
        "bright" | "contrast" => "50",
        "sharpen" => "100",
        "format" => "webp",
        "interlace" | "auto-orient" => "1",
        _ => "1",
    }
}

/// Decimal integers only: no `+`, no spaces, no fractions.
pub fn parse_int(
    action: &str,
    name: &str,
    value: &str,
    range: &RangeInclusive<i64>,
) -> Result<i64, PlanError> {
    let digits = value.strip_prefix('-').unwrap_or(value);
    let parsed =
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 12 {
            None
        } else {
            value.parse::<i64>().ok()
        };
    match parsed {
        Some(n) if range.contains(&n) => Ok(n),
        Some(_) => Err(PlanError::invalid(format!(
            "The value '{value}' of '{name}' in '{action}' is out of range: it must be {} to {}.",
            range.start(),
            range.end()
        ))),
        None => Err(PlanError::invalid(format!(
            "The value '{value}' of '{name}' in '{action}' is not an integer."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_bare_and_empty() {
        let p = Params::parse("resize", &["w_100", "", "m_lfit", "w_200"]);
        assert_eq!(p.get("w"), Some("200"));
        assert_eq!(p.get("m"), Some("lfit"));
        assert!(p.only(&["w", "m"]).is_ok());
        assert!(p.only(&["w"]).is_err());
        let p = Params::parse("watermark", &["image_YS5qcGc_eC1v"]);
        assert_eq!(p.get("image"), Some("YS5qcGc_eC1v"));
    }

    #[test]
    fn integers_are_strict() {
        let r = 1..=100;
        assert_eq!(parse_int("a", "w", "100", &r), Ok(100));
        for bad in [
            "",
            "+1",
            "1.5",
            "abc",
            " 1",
            "-",
            "0x10",
            "99999999999999999",
        ] {
            assert!(parse_int("a", "w", bad, &r).is_err(), "{bad}");
        }
        let e = parse_int("resize", "w", "0", &r).unwrap_err();
        assert!(
            e.message.contains("'w'")
                && e.message.contains("resize")
                && e.message.contains("1 to 100")
        );
    }

    #[test]
    fn single_values() {
        assert_eq!(Params::parse("rotate", &["90"]).single(), Ok("90"));
        assert!(Params::parse("rotate", &[]).single().is_err());
        assert!(
            Params::parse("rotate", &["90", "200", "300"])
                .single()
                .is_err()
        );
        assert!(Params::parse("rotate", &["r_90"]).single().is_err());
    }
}
