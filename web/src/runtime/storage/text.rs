//! Bytes as a compact string, because Web Storage holds only strings.
//!
//! Each character carries 15 bits, as a code point in U+3000..=U+AFFF: all in the Basic
//! Multilingual Plane, clear of surrogates, control characters and noncharacters, so every
//! browser stores them verbatim. Browsers count storage quota in UTF-16 code units, which makes
//! this 2.5 times denser than base64 (6 bits per code unit). The first character says how many
//! padding bits end the last one, so any byte length round-trips exactly.

/// The code point that stands for 0.
const BASE: u32 = 0x3000;
const BITS: u32 = 15;
const MASK: u32 = (1 << BITS) - 1;

/// Encodes `bytes` as UTF-16LE bytes (what a `TextDecoder("utf-16le")` turns into the string):
/// `ceil(8 * len / 15) + 1` characters, two bytes each. Not a Rust `String`: handing that to
/// JavaScript re-decodes it from UTF-8, three bytes a character: in a burst, half as much time
/// as the `setItem` calls themselves.
pub fn encode(bytes: &[u8]) -> Vec<u8> {
    let total_bits = bytes.len() * 8;
    let digits = total_bits.div_ceil(BITS as usize);
    let padding = (digits * BITS as usize - total_bits) as u32;
    let mut out = Vec::with_capacity((digits + 1) * 2);
    push(&mut out, padding);
    let mut acc: u32 = 0;
    let mut held = 0;
    for &byte in bytes {
        acc = (acc << 8) | u32::from(byte);
        held += 8;
        if held >= BITS {
            held -= BITS;
            push(&mut out, (acc >> held) & MASK);
            acc &= (1 << held) - 1;
        }
    }
    if held > 0 {
        push(&mut out, (acc << (BITS - held)) & MASK);
    }
    out
}

/// Decodes what [`encode`] produced; `None` for any other string.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let mut chars = text.chars();
    let padding = value(chars.next()?)?;
    if padding >= BITS {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 3 * BITS as usize / 8 + 1);
    let mut acc: u32 = 0;
    let mut held = 0;
    let mut digits = 0usize;
    for c in chars {
        acc = (acc << BITS) | value(c)?;
        held += BITS;
        digits += 1;
        while held >= 8 {
            held -= 8;
            out.push((acc >> held) as u8);
            acc &= (1 << held) - 1;
        }
    }
    let data_bits = (digits * BITS as usize).checked_sub(padding as usize)?;
    if data_bits % 8 != 0 {
        return None;
    }
    out.truncate(data_bits / 8);
    Some(out)
}

/// Appends the character for `value` (at most 15 bits: U+3000..=U+AFFF) in UTF-16LE.
fn push(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&((BASE + (value & MASK)) as u16).to_le_bytes());
}

fn value(c: char) -> Option<u32> {
    (c as u32).checked_sub(BASE).filter(|v| *v <= MASK)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(utf16le: &[u8]) -> String {
        let units: Vec<u16> =
            utf16le.chunks_exact(2).map(|pair| u16::from_le_bytes([pair[0], pair[1]])).collect();
        String::from_utf16(&units).unwrap()
    }

    #[test]
    fn round_trips_every_length() {
        for len in 0..64usize {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let text = text(&encode(&bytes));
            assert_eq!(text.chars().count(), (len * 8).div_ceil(15) + 1);
            assert_eq!(decode(&text).as_deref(), Some(&bytes[..]), "length {len}");
        }
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(decode(&text(&encode(&all))), Some(all));
    }

    #[test]
    fn rejects_foreign_text() {
        assert_eq!(decode(""), None);
        assert_eq!(decode("hello"), None);
        // 14 padding bits after one digit would leave 1 data bit: not whole bytes.
        assert_eq!(decode("\u{300e}\u{3000}"), None);
        assert_eq!(decode("\u{3000}\u{3000}x"), None);
    }
}
