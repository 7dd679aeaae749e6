//! The readable trace of a run: one line per step worth seeing (faults, messages, role changes,
//! client calls and answers), each stamped with virtual time.
//!
//! Lines are formatted only when someone reads them: printed for `--trace`, or hashed so a test
//! can prove two runs of one seed identical. A plain run skips the formatting entirely.
use flotilla_core::Millis;

/// Where trace lines go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceMode {
    Off,
    /// Fold every line into a hash.
    Hash,
    /// Print every line to stdout, and hash it.
    Print,
}

pub struct Trace {
    mode: TraceMode,
    /// FNV-1a over every line, in order.
    hash: u64,
}

impl Trace {
    pub fn new(mode: TraceMode) -> Self {
        Trace { mode, hash: 0xcbf2_9ce4_8422_2325 }
    }

    pub fn enabled(&self) -> bool {
        self.mode != TraceMode::Off
    }

    /// Records the line `line()` at time `now`; `line` runs only when the trace is on.
    pub fn line(&mut self, now: Millis, line: impl FnOnce() -> String) {
        if self.mode == TraceMode::Off {
            return;
        }
        let line = format!("{now:>7}ms {}", line());
        for byte in line.bytes().chain([b'\n']) {
            self.hash = (self.hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        if self.mode == TraceMode::Print {
            println!("{line}");
        }
    }

    pub fn hash(&self) -> u64 {
        self.hash
    }
}
