//! Display names and colours of tabs. A name is drawn from the node id, and a colour from the
//! name, so every tab agrees on a post author's colour without the colour being in the log.

/// Ships of a flotilla: short, distinct, and easy to say ("the leader is Beagle").
const SHIPS: [&str; 24] = [
    "Aurora",
    "Beagle",
    "Calypso",
    "Dauntless",
    "Endeavour",
    "Fram",
    "Golden Hind",
    "Halcyon",
    "Intrepid",
    "Juno",
    "Kestrel",
    "Lively",
    "Mayflower",
    "Nautilus",
    "Orca",
    "Pequod",
    "Quest",
    "Resolute",
    "Sirius",
    "Triton",
    "Unity",
    "Vanguard",
    "Wanderer",
    "Zephyr",
];

/// A short display name for node `id`, e.g. "Beagle 42".
pub fn name_for(id: u64) -> String {
    let ship = SHIPS[(id % SHIPS.len() as u64) as usize];
    format!("{ship} {}", (id / SHIPS.len() as u64) % 100)
}

/// A CSS colour for a display name: a hue from a hash of the name, at a saturation and lightness
/// that read well on a light background with white text on top.
pub fn colour_for(name: &str) -> String {
    // FNV-1a: tiny, and stable across builds (the colour of an author must not change).
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("hsl({}, 62%, 44%)", hash % 360)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_colours_are_stable() {
        assert_eq!(name_for(1), "Beagle 0");
        assert_eq!(name_for(24 * 42), "Aurora 42");
        assert_eq!(colour_for("Beagle 0"), colour_for("Beagle 0"));
        assert_ne!(colour_for("Beagle 0"), colour_for("Beagle 1"));
    }
}
