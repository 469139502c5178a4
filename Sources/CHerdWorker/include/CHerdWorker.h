// Process plumbing for HerdWorker: spawning a confined codec worker and confining it from inside.
// Every symbol is prefixed `herdworker_`; only HerdWorker imports this module.
#ifndef CHERDWORKER_H
#define CHERDWORKER_H

#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Starts `path` with `argv` and `envp` (both NULL-terminated) in directory `cwd`. The child's stdin and
/// stdout are fresh pipes (returned here as the parent's ends, close-on-exec, non-blocking); its stderr
/// is the parent's; every other descriptor is closed in the child before exec. Returns 0 or an errno.
int herdworker_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd, int pipe_bytes,
                     int *to_child, int *from_child, pid_t *pid);

/// How a child ended: `kind` 1 = exited with `value`, 2 = killed by signal `value`, 0 = still running.
/// Returns 0, or an errno from waitpid.
int herdworker_reap(pid_t pid, int block, int *kind, int *value);

/// What herdworker_confine could enforce on this kernel.
typedef struct herdworker_confinement {
    int32_t no_new_privs;    ///< PR_SET_NO_NEW_PRIVS set
    int32_t landlock_abi;    ///< Landlock ABI version enforced (no filesystem access at all), 0 if unavailable
    int32_t seccomp;         ///< seccomp filter installed (network, exec, file creation, ptrace refused)
    int64_t memory_limit;    ///< RLIMIT_AS in bytes, 0 if none
    int32_t max_files;       ///< RLIMIT_NOFILE
} herdworker_confinement;

/// Confines the calling process for good: no new privileges, no core dumps, `memory_bytes` of address space (0: unlimited), at most `max_files` descriptors, no
/// filesystem access (Landlock, where the kernel has it), and a seccomp filter that refuses sockets,
/// exec, fork, ptrace, opening and changing files. Call after everything the process reads from disk
/// (fonts) is loaded. Returns 0, or an errno when a mandatory step failed; `report` says what holds.
int herdworker_confine(int64_t memory_bytes, int max_files, pid_t expected_parent, herdworker_confinement *report);

/// Tries what a confined worker must not be able to do and reports what succeeded (bit 0: opened a
/// file for reading, 1: created a socket, 2: created a file in the working directory).
int herdworker_probe(const char *readable_path);

#ifdef __cplusplus
}
#endif

#endif
