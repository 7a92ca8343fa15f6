//! The `presswash` binary: parse the command line, run, map errors to exit codes
//! (0 done, 1 fatal I/O error, 2 bad command line, config or missing input).

use std::process::ExitCode;

use clap::Parser;
use presswash::cli::{Cli, Command};

/// mimalloc, told never to return freed pages to the kernel: with the system allocator (or
/// mimalloc's default 10 ms purge) every batch's large buffers went back to the kernel and
/// were faulted in and zeroed again for the next batch, which cost more CPU than reading and
/// parsing the input. Memory stays bounded: it is the high-water mark of a few batches plus
/// the dedup index, reused from batch to batch.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's `mi_option_t` (a stable ABI value in v2 and v3).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // SAFETY: setting an allocator option is thread-safe and takes plain integers.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    // No transparent huge pages: mimalloc asks for them on its large regions, and the kernel
    // then zeroes 2 MiB at the first touch of any byte of each, mostly for batch buffers
    // that use a fraction of it. Measured: 50 MB `--stages repair` 0.55 -> 0.3 s, kernel
    // time of the 200 MB default pipeline 1.5 -> 0.6 s; peak RSS down a sixth. (mimalloc's
    // own option is read when its first region is mapped, before `main`.)
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and only changes this process's policy.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => presswash::app::run(args),
        Command::Config(args) => presswash::app::print_config(args),
        Command::Dedup(args) => presswash::app::dedup_step(args),
        Command::Buckets(args) => presswash::app::buckets_step(args),
        Command::Clusters(args) => presswash::app::clusters_step(args),
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
