//! A terminal's process session: the program and whatever it started (shells put
//! background jobs in groups of their own, but not in another session), found and
//! signalled together, by the holder that runs it and by the server that ends it, and its
//! CPU priority.

/// Sends `sig` to the terminal's process group and to every other process of its session
/// (shells put background jobs in groups of their own).
pub(crate) fn signal_session(leader: i32, sig: nix::sys::signal::Signal) {
    use nix::unistd::Pid;
    let _ = nix::sys::signal::killpg(Pid::from_raw(leader), sig);
    for pid in session_members(leader) {
        let _ = nix::sys::signal::kill(Pid::from_raw(pid), sig);
    }
}

/// The live processes (not zombies) of the session `leader` started.
pub(crate) fn session_members(leader: i32) -> Vec<i32> {
    let mut found = Vec::new();
    #[cfg(target_os = "linux")]
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|p| p.parse::<i32>().ok()) else { continue };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
            // Fields after the command name (which may hold spaces) in parentheses:
            // state ppid pgrp session …
            let mut fields = stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace()).into_iter().flatten();
            let state = fields.next();
            let session = fields.nth(2).and_then(|s| s.parse::<i32>().ok());
            if session == Some(leader) && state != Some("Z") {
                found.push(pid);
            }
        }
    }
    found
}

/// Whether a process other than this one has the terminal `tty` open (looked for among the
/// processes this user may read: no other could open it).
pub(crate) fn open_elsewhere(tty: &std::path::Path) -> bool {
    let me = std::process::id().to_string();
    let Ok(dir) = std::fs::read_dir("/proc") else { return true };
    dir.flatten()
        .filter(|p| p.file_name().to_str().is_some_and(|n| n != me && n.bytes().all(|b| b.is_ascii_digit())))
        .any(|p| {
            let fds = std::fs::read_dir(p.path().join("fd")).into_iter().flatten().flatten();
            fds.into_iter().any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l == tty))
        })
}

/// Lowers the CPU priority of the session `leader` started to `nice` (1–19): its autogroup
/// (where the kernel has them it shares the CPU between sessions first, so a process's own
/// nice counts only within its session) and each of its processes (children inherit it).
/// Never raised: a server run at a lower priority than `nice` gives its own.
pub(crate) fn lower_priority(leader: i32, nice: i32) {
    // SAFETY: getpriority of this process (which cannot fail for it).
    let nice = nice.max(unsafe { nix::libc::getpriority(nix::libc::PRIO_PROCESS, 0) });
    let group = format!("/proc/{leader}/autogroup");
    let refused = |r: std::io::Result<()>| r.is_err_and(|e| e.raw_os_error() == Some(nix::libc::EAGAIN));
    if refused(std::fs::write(&group, nice.to_string())) {
        // The kernel takes about ten autogroup changes a second from all accounts without
        // CAP_SYS_ADMIN together: agents started at once each get theirs, in turn.
        std::thread::spawn(move || {
            for _ in 0..100 {
                std::thread::sleep(std::time::Duration::from_millis(100));
                if !refused(std::fs::write(&group, nice.to_string())) {
                    return;
                }
            }
        });
    }
    for pid in session_members(leader) {
        // SAFETY: setpriority on a process of this user's, by pid; an error changes nothing.
        unsafe { nix::libc::setpriority(nix::libc::PRIO_PROCESS, pid as nix::libc::id_t, nice) };
    }
}
