//! What a benchmark measures with: this process's peak memory, a child process measured as the
//! kernel accounts it (wall and CPU time, its own peak memory), the machine's load and medians.
//! Every benchmark (`cargo xtask bench`) prints its figures through these.

pub use lz_platform::stats::median;

/// Peak resident memory of this process so far, in bytes (`VmHWM` of `/proc/self/status`).
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line["VmHWM:".len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

/// Bytes as megabytes for a figure (`12.3 MB`), or "unavailable".
pub fn mb(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| "unavailable".into(), |b| format!("{:.1} MB", b as f64 / 1e6))
}

/// The peak memory line every benchmark ends with.
pub fn print_peak() {
    println!("peak resident memory of this benchmark process: {}", mb(peak_rss()));
}

/// The machine's load average (1, 5, 15 minutes).
pub fn load() -> String {
    format!("load average {}", lz_baseline::props::load_average())
}

/// One finished child process: wall time, its own peak resident memory and status.
pub struct Measured {
    pub wall: std::time::Duration,
    /// User plus system CPU time of the process (from `wait4`).
    pub cpu: std::time::Duration,
    /// Peak resident memory of the program the process runs last (`VmHWM` read as it exits;
    /// a wrapper that `exec`s the real program, such as a pyenv shim, is not counted).
    pub peak: Option<u64>,
    pub code: Option<i32>,
}

/// Runs a command as a whole process (output discarded) and measures it as the kernel
/// accounts it: wall time, CPU time from `wait4`, and the peak memory of the program itself.
///
/// `ru_maxrss` cannot give that peak: a forked child starts with this (large) process's pages
/// and `exec` keeps their high-water mark in the process's `maxrss`. So the child is traced
/// (`PTRACE_TRACEME`, exit event only) and its `VmHWM`, which belongs to the memory map `exec`
/// created, is read from `/proc/<pid>/status` at its exit stop, before the memory is released.
pub fn measure(cmd: duct::Expression) -> anyhow::Result<Measured> {
    use anyhow::Context;
    use std::os::unix::process::CommandExt;
    let what = format!("{cmd:?}");
    // SAFETY: only the async-signal-safe ptrace call runs between fork and exec.
    let traced = cmd.before_spawn(|c| {
        unsafe {
            c.pre_exec(|| {
                if libc::ptrace(libc::PTRACE_TRACEME, 0, std::ptr::null_mut::<libc::c_void>(), std::ptr::null_mut::<libc::c_void>()) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        Ok(())
    });
    let start = std::time::Instant::now();
    let handle = traced.stdout_null().stderr_null().stdin_null().unchecked().start().with_context(|| format!("starting {what}"))?;
    let pid = *handle.pids().first().context("a started command has a process")? as libc::pid_t;
    // The child is reaped here, never through `handle`.
    std::mem::forget(handle);
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data; wait4 and ptrace act on our own traced child only.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut peak = None;
    let mut first = true;
    loop {
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped != pid {
            anyhow::bail!("waiting for {what}: {}", std::io::Error::last_os_error());
        }
        if !libc::WIFSTOPPED(status) {
            break;
        }
        let signal = libc::WSTOPSIG(status);
        let event = (status >> 16) & 0xff;
        let mut deliver = 0;
        if first && signal == libc::SIGTRAP {
            // The stop at `exec`: from here on, later `exec`s (a wrapper's) and the exit are
            // reported as events.
            first = false;
            let options = (libc::PTRACE_O_TRACEEXEC | libc::PTRACE_O_TRACEEXIT | libc::PTRACE_O_EXITKILL) as usize;
            unsafe { libc::ptrace(libc::PTRACE_SETOPTIONS, pid, std::ptr::null_mut::<libc::c_void>(), options as *mut libc::c_void) };
        } else if signal == libc::SIGTRAP && event == libc::PTRACE_EVENT_EXIT {
            peak = vm_hwm(pid);
        } else if signal == libc::SIGTRAP && event == libc::PTRACE_EVENT_EXEC {
            // A new program in the same process: its own memory map, nothing to do.
        } else {
            // Any other signal is the program's own: pass it on.
            deliver = signal;
        }
        unsafe { libc::ptrace(libc::PTRACE_CONT, pid, std::ptr::null_mut::<libc::c_void>(), deliver as usize as *mut libc::c_void) };
    }
    let wall = start.elapsed();
    let code = if libc::WIFEXITED(status) { Some(libc::WEXITSTATUS(status)) } else { None };
    let time = |t: libc::timeval| std::time::Duration::from_secs(t.tv_sec as u64) + std::time::Duration::from_micros(t.tv_usec as u64);
    let cpu = time(usage.ru_utime) + time(usage.ru_stime);
    Ok(Measured { wall, cpu, peak, code })
}

/// `VmHWM` of a live process, in bytes.
fn vm_hwm(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line["VmHWM:".len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::measure;

    /// A child's peak is its own: not the memory of the (large) process that started it,
    /// which `ru_maxrss` from `wait4` reported.
    #[test]
    fn measure_reports_the_childs_own_peak_not_the_parents() {
        // 300 MB written, so resident in this process while the child runs.
        let held = vec![7u8; 300_000_000];
        let child = duct::cmd("python3", ["-c", "import sys; x = b'a' * 60_000_000; sys.exit(3)"]);
        let m = measure(child).expect("measuring python3");
        assert_eq!(m.code, Some(3), "the child's exit code");
        let peak = m.peak.expect("the child's peak is read at its exit");
        assert!(peak >= 60_000_000, "the child's 60 MB are in its peak: {peak}");
        assert!(peak < 200_000_000, "the parent's 300 MB are not in the child's peak: {peak}");
        assert!(m.cpu > std::time::Duration::ZERO && m.wall >= m.cpu / 2);
        assert_eq!(held.iter().map(|b| u64::from(*b)).sum::<u64>(), 7 * 300_000_000);
    }
}
