//! An agent that panics takes the process down (abort) instead of leaving the agents that
//! wait on it spinning for ever.

use std::process::Command;

use fxrecon_runtime::agent::Agent;
use fxrecon_runtime::idle::IdleStrategy;
use fxrecon_runtime::runner::AgentRunner;

struct Faulty;

impl Agent for Faulty {
    fn name(&self) -> &'static str {
        "faulty"
    }
    fn do_work(&mut self) -> usize {
        panic!("agent bug");
    }
    fn is_done(&self) -> bool {
        false
    }
}

/// Run in a child process by the test below: starts the faulty agent and joins it.
#[test]
#[ignore = "run as a child process by a_panicking_agent_aborts_the_process"]
fn panicking_agent_child() {
    if std::env::var_os("FXRECON_PANIC_CHILD").is_none() {
        return;
    }
    let _ = AgentRunner::start(Box::new(Faulty), IdleStrategy::Yield, None).join();
    // Not reached: the panic aborts the process before join returns.
    std::process::exit(0);
}

#[test]
fn a_panicking_agent_aborts_the_process() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "panicking_agent_child", "--ignored", "--nocapture"])
        .env("FXRECON_PANIC_CHILD", "1")
        .output()
        .unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(6), "expected SIGABRT, got {:?}", out.status);
    assert!(String::from_utf8_lossy(&out.stderr).contains("agent bug"));
}
