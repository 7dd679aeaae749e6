//! Number and time formatting shared by the components: one place decides how a duration, a
//! rate or a clock reading looks, so the same quantity reads the same everywhere.
use crate::view::Millis;

/// A page-clock reading (`performance.now()` origin, i.e. since this tab opened) as `m:ss.s`.
pub fn page_clock(at: Millis) -> String {
    let tenths = (at.max(0.0) / 100.0).round() as u64;
    let (minutes, tenths) = (tenths / 600, tenths % 600);
    format!("{minutes}:{:02}.{}", tenths / 10, tenths % 10)
}

/// A wall-clock time (ms since the Unix epoch) as local `HH:MM:SS`.
pub fn wall_clock(epoch_ms: f64) -> String {
    let date = js_sys::Date::new(&epoch_ms.into());
    if date.get_time().is_nan() {
        return "--:--:--".to_owned();
    }
    format!("{:02}:{:02}:{:02}", date.get_hours(), date.get_minutes(), date.get_seconds())
}

/// A duration: `0.42 ms`, `12.3 ms`, `640 ms`, `2.4 s`, `3 min`.
pub fn duration(ms: f64) -> String {
    match ms {
        ms if !ms.is_finite() || ms < 0.0 => "–".to_owned(),
        ms if ms < 1.0 => format!("{ms:.2} ms"),
        ms if ms < 100.0 => format!("{ms:.1} ms"),
        ms if ms < 1_000.0 => format!("{ms:.0} ms"),
        ms if ms < 60_000.0 => format!("{:.1} s", ms / 1_000.0),
        ms => format!("{:.0} min", ms / 60_000.0),
    }
}

/// A rate or count with a sensible number of digits: `0.5`, `12.4`, `830`, `12.3k`.
pub fn quantity(value: f64) -> String {
    // `+ 0.0` turns a negative zero (an empty float sum is -0.0) into a plain one.
    match value + 0.0 {
        v if !v.is_finite() => "–".to_owned(),
        v if v.abs() < 10.0 => format!("{v:.1}").trim_end_matches(".0").to_owned(),
        v if v.abs() < 1_000.0 => format!("{v:.0}"),
        v if v.abs() < 100_000.0 => format!("{:.1}k", v / 1_000.0),
        v => format!("{:.0}k", v / 1_000.0),
    }
}

/// Text to a number as Rust's `str::parse::<f64>` reads it (`2.5`, `+10`, `1e3`, `inf`, `NaN`),
/// with the browser's `parseFloat` doing the decimal conversion in wasm builds: Rust's parser and
/// its power-of-five tables are 13.8 KB gzip of the release bundle. `parseFloat` also reads
/// `Infinity`, leading spaces and a number followed by anything, none of which Rust's parser
/// accepts, so only text in Rust's grammar reaches it, checked here; the special values are
/// matched first, as Rust spells them. Both round correctly (JavaScript guarantees it up to 20
/// significant digits). Native builds (unit tests) use Rust's parser.
pub fn parse_f64(text: &str) -> Option<f64> {
    #[cfg(not(target_arch = "wasm32"))]
    return text.parse().ok();
    #[cfg(target_arch = "wasm32")]
    {
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let special = if rest.eq_ignore_ascii_case("inf") || rest.eq_ignore_ascii_case("infinity") {
            Some(f64::INFINITY)
        } else if rest.eq_ignore_ascii_case("nan") {
            Some(f64::NAN)
        } else {
            None
        };
        if let Some(value) = special {
            return Some(if negative { -value } else { value });
        }
        // A mantissa of digits with at most one point (and at least one digit), then maybe an
        // exponent of an optional sign and at least one digit: Rust's grammar, by hand.
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        let digits = mantissa.bytes().filter(u8::is_ascii_digit).count();
        let points = mantissa.bytes().filter(|&b| b == b'.').count();
        let mantissa_ok = digits > 0 && points <= 1 && digits + points == mantissa.len();
        let exponent_ok = exponent.is_none_or(|e| {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
        });
        if !mantissa_ok || !exponent_ok {
            return None;
        }
        // All of `text` is a decimal literal now, so parseFloat reads all of it.
        Some(js_sys::parse_float(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(page_clock(0.0), "0:00.0");
        assert_eq!(page_clock(83_456.0), "1:23.5");
        assert_eq!(duration(0.42), "0.42 ms");
        assert_eq!(duration(12.34), "12.3 ms");
        assert_eq!(duration(640.2), "640 ms");
        assert_eq!(duration(2_400.0), "2.4 s");
        assert_eq!(quantity(3.0), "3");
        assert_eq!(quantity(0.5), "0.5");
        assert_eq!(quantity(830.4), "830");
        assert_eq!(quantity(12_345.0), "12.3k");
        assert_eq!(quantity(-0.0), "0");
    }
}
