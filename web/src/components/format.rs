//! Number and time formatting shared by the components: one place decides how a duration, a
//! rate or a clock reading looks, so the same quantity reads the same everywhere.
//!
//! Floats are written with [`fixed`] and read with [`parse_f64`], never with
//! `{}`, `{:.N}` or `str::parse` on an `f64` in the web crate: one such use links Rust's float
//! formatting (5.8 KB gzip) or parsing (13.8 KB gzip) back into the release bundle.
use crate::view::Millis;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen::JsValue;

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
        ms if ms < 1.0 => format!("{} ms", fixed(ms, 2)),
        ms if ms < 100.0 => format!("{} ms", fixed(ms, 1)),
        ms if ms < 1_000.0 => format!("{} ms", fixed(ms, 0)),
        ms if ms < 60_000.0 => format!("{} s", fixed(ms / 1_000.0, 1)),
        ms => format!("{} min", fixed(ms / 60_000.0, 0)),
    }
}

/// A rate or count with a sensible number of digits: `0.5`, `12.4`, `830`, `12.3k`.
pub fn quantity(value: f64) -> String {
    // `+ 0.0` turns a negative zero (an empty float sum is -0.0) into a plain one.
    match value + 0.0 {
        v if !v.is_finite() => "–".to_owned(),
        v if v.abs() < 10.0 => fixed(v, 1).trim_end_matches(".0").to_owned(),
        v if v.abs() < 1_000.0 => fixed(v, 0),
        v if v.abs() < 100_000.0 => format!("{}k", fixed(v / 1_000.0, 1)),
        v => format!("{}k", fixed(v / 1_000.0, 0)),
    }
}

/// `x` with `digits` decimals, exactly as `format!("{x:.digits$}")` writes it, with the browser
/// doing the decimal expansion in wasm builds: Rust's float formatting (Grisu, Dragon and their
/// tables) is 5.8 KB gzip of the release bundle. `toFixed(100)` gives the exact expansion of
/// any double below 1e21 (a double has at most 100 decimals, but for magnitudes below 2^-47,
/// which round to zero at any number of decimals used here); it is then rounded here half to
/// even, as Rust rounds. A browser test checks it against Rust's formatting.
/// Native builds (unit tests) use Rust's formatting.
pub fn fixed(x: f64, digits: usize) -> String {
    #[cfg(not(target_arch = "wasm32"))]
    return format!("{x:.digits$}");
    #[cfg(target_arch = "wasm32")]
    {
        if x.is_nan() {
            return "NaN".to_owned();
        }
        let sign = if x.is_sign_negative() { "-" } else { "" };
        if x.is_infinite() {
            return format!("{sign}inf");
        }
        let exact = expansion(x.abs());
        let (int, frac) = exact.split_once('.').unwrap_or((&exact, ""));
        let frac = frac.as_bytes();
        let digit = |i: usize| frac.get(i).copied().unwrap_or(b'0');
        // The kept digits, then whether to round them up: above half, or exactly half and odd.
        let mut kept: Vec<u8> = int.bytes().chain((0..digits).map(digit)).collect();
        let first_dropped = digit(digits);
        let rest_nonzero = frac.iter().skip(digits + 1).any(|&d| d != b'0');
        let last_odd = kept.last().is_some_and(|d| (d - b'0') % 2 == 1);
        if first_dropped > b'5' || (first_dropped == b'5' && (rest_nonzero || last_odd)) {
            let mut i = kept.len();
            loop {
                if i == 0 {
                    kept.insert(0, b'1');
                    break;
                }
                i -= 1;
                if kept[i] == b'9' {
                    kept[i] = b'0';
                } else {
                    kept[i] += 1;
                    break;
                }
            }
        }
        let split = kept.len() - digits;
        let (int, frac) = kept.split_at(split);
        let int = core::str::from_utf8(int).unwrap_or("0");
        let frac = core::str::from_utf8(frac).unwrap_or("");
        if digits == 0 {
            format!("{sign}{int}")
        } else {
            format!("{sign}{int}.{frac}")
        }
    }
}

/// Whole milliseconds as seconds, with as many decimals as it takes: `10`, `2.5`, `1.234`.
/// In integers only, as nothing else needs a shortest float text (the browser's `String(x)`
/// and the layout Rust uses cost 0.5 KB gzip of the bundle).
pub fn seconds(ms: u64) -> String {
    let (whole, thousandths) = (ms / 1_000, ms % 1_000);
    if thousandths == 0 {
        return whole.to_string();
    }
    let decimals = format!("{thousandths:03}");
    format!("{whole}.{}", decimals.trim_end_matches('0'))
}

/// The exact decimal expansion of a non-negative finite double (enough of it to round to a
/// few decimals): `toFixed(100)` below 1e21, the exact integer from `BigInt` above.
#[cfg(target_arch = "wasm32")]
fn expansion(x: f64) -> String {
    if x < 1e21 {
        js_sys::Number::from(x).to_fixed(100).map(String::from).unwrap_or_default()
    } else {
        js_sys::BigInt::new(&JsValue::from_f64(x))
            .ok()
            .and_then(|big| big.to_string(10).ok())
            .map(String::from)
            .unwrap_or_default()
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
        assert_eq!(seconds(10_000), "10");
        assert_eq!(seconds(2_500), "2.5");
        assert_eq!(seconds(1_234), "1.234");
        assert_eq!(seconds(50), "0.05");
    }
}
