//! `tracer`: tcpdump for TCP, with the work done in the kernel.
use std::process::ExitCode;

use tracer::{cli::Args, run};

fn main() -> ExitCode {
    let args = Args::parse_or_exit();
    if args.list_interfaces {
        run::list_interfaces();
        return ExitCode::SUCCESS;
    }
    let result = if args.read.is_some() {
        run::offline(&args)
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|rt| rt.block_on(run::live(&args)))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tracer: {}", error_text(&e));
            ExitCode::from(1)
        }
    }
}

/// The error and its causes, leaving out causes whose text the message already carries
/// (many error types print their source themselves).
fn error_text(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
    }
    text
}
