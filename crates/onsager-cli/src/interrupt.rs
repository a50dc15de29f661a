//! Ctrl-C and progress for long steps: one handler for the whole process sets one flag, which
//! training, AIS, exact enumeration and the MNIST download all check, so any of them stops
//! within a second and the command exits 130.

use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::sync::OnceLock;

use indicatif::{ProgressBar, ProgressStyle};
use onsager::CancelFlag;

static FLAG: OnceLock<CancelFlag> = OnceLock::new();

/// The process's Ctrl-C flag (the handler is installed on first use).
pub fn flag() -> CancelFlag {
    FLAG.get_or_init(|| {
        let f = CancelFlag::new();
        let c = f.clone();
        // A second handler (tests calling a command twice in one process) is not an error.
        let _ = ctrlc::set_handler(move || c.cancel());
        f
    })
    .clone()
}

/// A bar counting `unit` (e.g. "epochs"; empty for none) on an interactive terminal, none
/// when `quiet` or piped.
pub fn bar(quiet: bool, unit: &str) -> Option<ProgressBar> {
    (!quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{msg}} {{bar:40}} {{pos}}/{{len}} {unit} eta {{eta}}"
            ))
            .expect("valid template"),
        );
        bar
    })
}

/// A progress callback for the library's long computations: a bar labelled `label` on an
/// interactive terminal (nothing when `quiet` or piped), stopping on Ctrl-C.
pub fn progress(label: &str, quiet: bool) -> impl FnMut(u64, u64) -> ControlFlow<()> {
    let cancel = flag();
    let bar = bar(quiet, "");
    if let Some(b) = &bar {
        b.set_message(label.to_string());
    }
    move |done, total| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
            if done >= total {
                bar.finish_and_clear();
            }
        }
        if cancel.is_cancelled() {
            if let Some(bar) = &bar {
                bar.abandon();
            }
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

/// Whether an error (anywhere in its chain) is a computation stopped by Ctrl-C.
pub fn is_interrupt(e: &anyhow::Error) -> bool {
    let cancelled =
        |e: Option<&onsager::Error>| matches!(e, Some(onsager::Error::Cancelled { .. }));
    // The deep-network crate wraps the library's errors transparently, hiding them from the
    // chain's downcasts.
    e.chain().any(|c| {
        cancelled(c.downcast_ref::<onsager::Error>())
            || matches!(
                c.downcast_ref::<onsager_deep::Error>(),
                Some(onsager_deep::Error::Rbm(inner)) if cancelled(Some(inner))
            )
    })
}
