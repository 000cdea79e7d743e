//! Run by the test `processes_are_killed_when_the_test_process_aborts`:
//! starts pebble, prints its pids and working directory, and aborts (no
//! unwinding, no `Drop`), as a test process killed mid-run would.

use certmgr_testkit::Pebble;

fn main() {
    let pebble = Pebble::start();
    let pids = pebble.process_ids();
    println!("WORKDIR {}", pebble.work_dir().display());
    println!("PIDS {} {}", pids[0], pids[1]);
    std::process::abort();
}
