//! `cargo xtask sim`: the simulator's command line.
//!
//! - `--seeds N [--base B]` runs seeds B..B+N (B defaults to 0) with every fault and ends with
//!   `sim: seeds=N violations=V linearizable=L`; exits non-zero when V > 0.
//! - `--seed S [--trace] [--history FILE]` replays one seed, printing its trace and writing its
//!   key-value history as JSON lines.
//! - Both take `--scenario mixed|grow-shrink` (default: drawn per seed, one in eight grows and
//!   shrinks), `--nodes 3|5|7` (default: drawn per seed; what grow-shrink grows to),
//!   `--duration MS` (length of the fault phase, default 20000), `--no-faults`, `--amnesia` (a
//!   broken runtime that forgets its disk on a crash, to see the checks fire), and for batches
//!   `--threads T` (default 2).
use flotilla_sim::cluster::Stats;
use flotilla_sim::history::write_json_lines;
use flotilla_sim::{run, run_seeds, Scenario, SimConfig, TraceMode};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "usage: flotilla-sim (--seeds N [--base B] [--threads T] | --seed S [--trace] \
                     [--history FILE]) [--scenario mixed|grow-shrink] [--nodes 3|5|7] \
                     [--duration MS] [--no-faults] [--amnesia]";

/// What the command line asks for.
struct Args {
    mode: Mode,
    template: SimConfig,
    threads: usize,
}

enum Mode {
    Batch { base: u64, count: u64 },
    Single { trace: bool, history: Option<String> },
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1).collect()) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("flotilla-sim: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match args.mode {
        Mode::Batch { base, count } => batch(base, count, &args.template, args.threads),
        Mode::Single { trace, history } => single(args.template, trace, history),
    }
}

fn batch(base: u64, count: u64, template: &SimConfig, threads: usize) -> ExitCode {
    let started = Instant::now();
    let outcomes = run_seeds(base..base + count, template, threads);
    let mut violations = 0;
    for outcome in &outcomes {
        if let Some((at, violation)) = &outcome.violation {
            violations += 1;
            println!("seed {}: VIOLATION at {at}ms: {violation}", outcome.config.seed);
            println!("  replay: {}", outcome.config.replay_command());
        }
    }
    let linearizable = outcomes.iter().filter(|o| o.linearizable).count();
    let sum = |stat: fn(&Stats) -> u64| outcomes.iter().map(|o| stat(&o.stats)).sum::<u64>();
    let hand_offs =
        (sum(|s| s.hand_offs), sum(|s| s.hand_offs_lagging), sum(|s| s.hand_offs_elected));
    eprintln!(
        "sim: {} hand-offs by closing leaders, {} to a lagging successor, {} elected it next term",
        hand_offs.0, hand_offs.1, hand_offs.2
    );
    eprintln!("sim: {count} seeds in {:.1}s", started.elapsed().as_secs_f64());
    println!("sim: seeds={count} violations={violations} linearizable={linearizable}");
    if violations > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn single(mut config: SimConfig, trace: bool, history: Option<String>) -> ExitCode {
    config.trace = if trace { TraceMode::Print } else { TraceMode::Off };
    let report = run(&config);
    if let Some(path) = history {
        let written = File::create(&path)
            .and_then(|file| write_json_lines(&report.history, &mut BufWriter::new(file)));
        if let Err(error) = written {
            eprintln!("flotilla-sim: cannot write {path}: {error}");
            return ExitCode::FAILURE;
        }
    }
    // A reader that stops early (`| head`) is no reason to fail the run.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", report.summary());
    if let Some((at, violation)) = &report.violation {
        let _ = writeln!(out, "seed {}: VIOLATION at {at}ms: {violation}", config.seed);
        let _ = writeln!(out, "  replay: {}", config.replay_command());
    }
    let violations = usize::from(report.violation.is_some());
    let linearizable = usize::from(report.linearizable);
    let _ = writeln!(out, "sim: seeds=1 violations={violations} linearizable={linearizable}");
    if violations > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn parse(args: Vec<String>) -> Result<Args, String> {
    let mut template = SimConfig::new(0);
    let (mut seeds, mut seed, mut base) = (None, None, 0);
    let (mut trace, mut history, mut threads) = (false, None, 2);
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--seeds" => seeds = Some(number(&value()?)?),
            "--base" => base = number(&value()?)?,
            "--seed" => seed = Some(number(&value()?)?),
            "--trace" => trace = true,
            "--history" => history = Some(value()?),
            "--threads" => threads = number(&value()?)? as usize,
            "--duration" => template.duration = number(&value()?)?,
            "--no-faults" => template.faults = false,
            "--amnesia" => template.amnesia = true,
            "--scenario" => {
                let name = value()?;
                let known = [Scenario::Mixed, Scenario::GrowShrink];
                let scenario = known.into_iter().find(|s| s.name() == name);
                template.scenario = Some(scenario.ok_or(format!("unknown scenario {name}"))?);
            }
            "--nodes" => match number(&value()?)? {
                n @ (3 | 5 | 7) => template.nodes = Some(n as usize),
                n => return Err(format!("--nodes must be 3, 5 or 7, not {n}")),
            },
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let mode = match (seeds, seed) {
        (Some(count), None) if !trace && history.is_none() => Mode::Batch { base, count },
        (None, Some(seed)) => {
            template.seed = seed;
            Mode::Single { trace, history }
        }
        (Some(_), None) => return Err("--trace and --history replay one --seed".into()),
        _ => return Err("give either --seeds N or --seed S".into()),
    };
    Ok(Args { mode, template, threads })
}

fn number(text: &str) -> Result<u64, String> {
    text.parse().map_err(|_| format!("not a number: {text}"))
}
