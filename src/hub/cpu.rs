//! Where the fan-out threads run: the CPUs this process may use, and pinning to one.

/// The CPUs this process may run on, lowest first (none where that cannot be known).
pub(super) fn allowed_cpus() -> Vec<usize> {
    #[cfg(target_os = "linux")]
    {
        use nix::sched::{sched_getaffinity, CpuSet};
        if let Ok(set) = sched_getaffinity(nix::unistd::Pid::from_raw(0)) {
            return (0..CpuSet::count()).filter(|&cpu| set.is_set(cpu).unwrap_or(false)).collect();
        }
    }
    Vec::new()
}

/// Keeps the calling thread on one CPU; where it cannot, the thread runs where it may.
pub(super) fn pin_to(cpu: usize) {
    #[cfg(target_os = "linux")]
    {
        use nix::sched::{sched_setaffinity, CpuSet};
        let mut set = CpuSet::new();
        let pinned = set.set(cpu).and_then(|()| sched_setaffinity(nix::unistd::Pid::from_raw(0), &set));
        if let Err(e) = pinned {
            tracing::debug!(cpu, error = %e, "cannot pin a fan-out thread");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cpu;
}
