//! card-ingest binary: sets up logging and hands the command line to [`cli`].

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
