//! The `presswash` binary: parse the command line, run, map errors to exit codes
//! (0 done, 1 fatal I/O error, 2 bad command line, config or missing input).

use std::process::ExitCode;

use clap::Parser;
use presswash::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => presswash::app::run(args),
        Command::Config(args) => presswash::app::print_config(args),
        Command::Dedup(args) => presswash::app::dedup_step(args),
        Command::Filter(args) => presswash::app::filter_step(args),
        Command::Merge(args) => presswash::app::merge(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("presswash: error: {e:#}");
            ExitCode::from(presswash::app::exit_code(&e))
        }
    }
}
