// Spawning and confining codec workers. posix_spawn with file actions, so nothing runs between fork and
// exec in the multi-threaded server; confinement is applied by the worker to itself after it has loaded
// its fonts: prctl, rlimits, Landlock (raw syscalls: glibc has no wrappers) and a seccomp-BPF filter.
#define _GNU_SOURCE
#include "CHerdWorker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__linux__)
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#endif

int herdworker_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd, int pipe_bytes,
                     int *to_child, int *from_child, pid_t *pid) {
    int in[2] = {-1, -1}, out[2] = {-1, -1};
    if (pipe2(in, O_CLOEXEC) != 0) return errno;
    if (pipe2(out, O_CLOEXEC) != 0) {
        int e = errno;
        close(in[0]);
        close(in[1]);
        return e;
    }
#ifdef F_SETPIPE_SZ
    if (pipe_bytes > 0) {
        (void)fcntl(in[1], F_SETPIPE_SZ, pipe_bytes);
        (void)fcntl(out[0], F_SETPIPE_SZ, pipe_bytes);
    }
#endif
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    // dup2 clears close-on-exec on the copies; everything else from fd 3 up is closed.
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    if (cwd != NULL) posix_spawn_file_actions_addchdir_np(&actions, cwd);
    // Default signal dispositions and an empty mask, whatever the server set for itself.
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    int rc = posix_spawn(pid, path, &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close(in[0]);
    close(out[1]);
    if (rc != 0) {
        close(in[1]);
        close(out[0]);
        return rc;
    }
    fcntl(in[1], F_SETFL, fcntl(in[1], F_GETFL) | O_NONBLOCK);
    fcntl(out[0], F_SETFL, fcntl(out[0], F_GETFL) | O_NONBLOCK);
    *to_child = in[1];
    *from_child = out[0];
    return 0;
}

int herdworker_reap(pid_t pid, int block, int *kind, int *value) {
    int status = 0;
    pid_t r;
    do {
        r = waitpid(pid, &status, block ? 0 : WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r < 0) return errno;
    if (r == 0) {
        *kind = 0;
        *value = 0;
    } else if (WIFSIGNALED(status)) {
        *kind = 2;
        *value = WTERMSIG(status);
    } else {
        *kind = 1;
        *value = WEXITSTATUS(status);
    }
    return 0;
}

// MARK: - Landlock (Linux 5.13+), by raw syscall

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_restrict_self 446
#endif

struct herdworker_landlock_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
};

// Every filesystem right of ABI 1..5 (execute, write, read, readdir, remove, make*, refer, truncate,
// ioctl_dev): handled and granted nowhere, so every path is out of reach.
static uint64_t herdworker_landlock_fs_rights(int abi) {
    uint64_t rights = (1ull << 13) - 1; // ABI 1: bits 0..12
    if (abi >= 2) rights |= 1ull << 13;  // REFER
    if (abi >= 3) rights |= 1ull << 14;  // TRUNCATE
    if (abi >= 5) rights |= 1ull << 15;  // IOCTL_DEV
    return rights;
}

static int herdworker_landlock(void) {
    long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, 1u /* LANDLOCK_CREATE_RULESET_VERSION */);
    if (abi < 1) return 0;
    struct herdworker_landlock_ruleset_attr attr = {.handled_access_fs = herdworker_landlock_fs_rights((int)abi)};
    size_t size = abi >= 4 ? sizeof attr : sizeof attr.handled_access_fs;
    if (abi >= 4) attr.handled_access_net = 3; // BIND_TCP, CONNECT_TCP
    long fd = syscall(__NR_landlock_create_ruleset, &attr, size, 0);
    if (fd < 0) return 0;
    long rc = syscall(__NR_landlock_restrict_self, (int)fd, 0);
    close((int)fd);
    return rc == 0 ? (int)abi : 0;
}

// MARK: - seccomp-BPF: a deny list (EPERM), so the Swift runtime's own calls keep working

#if defined(__linux__) && defined(__x86_64__)
static const int herdworker_denied[] = {
    SYS_socket, SYS_socketpair, SYS_connect, SYS_accept, SYS_accept4, SYS_bind, SYS_listen,
    SYS_execve, SYS_execveat, SYS_fork, SYS_vfork, SYS_ptrace, SYS_process_vm_readv, SYS_process_vm_writev,
    SYS_open, SYS_openat, SYS_openat2, SYS_creat, SYS_mkdir, SYS_mkdirat, SYS_mknod, SYS_mknodat,
    SYS_unlink, SYS_unlinkat, SYS_rename, SYS_renameat, SYS_renameat2, SYS_link, SYS_linkat, SYS_symlink,
    SYS_symlinkat, SYS_chmod, SYS_fchmod, SYS_fchmodat, SYS_chown, SYS_fchown, SYS_lchown, SYS_fchownat,
    SYS_truncate, SYS_ftruncate, SYS_mount, SYS_umount2, SYS_pivot_root, SYS_chroot, SYS_setns, SYS_unshare,
    SYS_kexec_load, SYS_init_module, SYS_finit_module, SYS_delete_module, SYS_bpf, SYS_perf_event_open,
    SYS_keyctl, SYS_add_key, SYS_request_key, SYS_io_uring_setup, SYS_userfaultfd, SYS_personality,
    SYS_setuid, SYS_setgid, SYS_setreuid, SYS_setregid, SYS_setresuid, SYS_setresgid, SYS_kill,
    SYS_memfd_create, SYS_name_to_handle_at, SYS_open_by_handle_at,
};
#define HERDWORKER_DENIED_COUNT ((int)(sizeof herdworker_denied / sizeof herdworker_denied[0]))

static int herdworker_seccomp(void) {
    // [arch check][load nr][x32 check][one test per denied call][allow][errno][kill]
    struct sock_filter filter[6 + HERDWORKER_DENIED_COUNT + 3];
    int n = 0;
    filter[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    filter[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
    filter[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    filter[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    // x32 system calls (bit 30) would bypass the numbers below.
    filter[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1);
    filter[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    for (int i = 0; i < HERDWORKER_DENIED_COUNT; i++) {
        // Equal: jump to the errno return, which sits after the remaining tests and the allow.
        int to_errno = HERDWORKER_DENIED_COUNT - i;
        filter[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)herdworker_denied[i], (uint8_t)to_errno, 0);
    }
    filter[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    filter[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
    struct sock_fprog prog = {.len = (unsigned short)n, .filter = filter};
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}
#else
static int herdworker_seccomp(void) { return 0; }
#endif

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define HERDWORKER_SANITIZED 1
#endif
#endif

// The address space a limit of `memory_bytes` allows. Address and Thread Sanitizer builds (the sanitizer
// test runs) have already reserved terabytes of shadow and allocator space at start, so there the limit
// is what is mapped now plus `memory_bytes`: the same headroom for the frame's allocations, which the
// sanitizer maps afresh.
static rlim_t herdworker_address_space_limit(int64_t memory_bytes) {
#ifdef HERDWORKER_SANITIZED
    unsigned long pages = 0;
    FILE *statm = fopen("/proc/self/statm", "r");
    if (statm) {
        if (fscanf(statm, "%lu", &pages) != 1) pages = 0;
        fclose(statm);
    }
    return (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (rlim_t)memory_bytes;
#else
    return (rlim_t)memory_bytes;
#endif
}

int herdworker_confine(int64_t memory_bytes, int max_files, pid_t expected_parent, herdworker_confinement *report) {
    memset(report, 0, sizeof *report);
    // No PR_SET_PDEATHSIG: it fires when the *thread* that spawned us ends, and the server spawns from
    // pool threads that come and go. A worker ends instead when its stdin closes (the server is gone).
    if (expected_parent > 0 && getppid() != expected_parent) return ESRCH;
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    if (memory_bytes > 0) {
        rlim_t limit = herdworker_address_space_limit(memory_bytes);
        struct rlimit as = {limit, limit};
        if (setrlimit(RLIMIT_AS, &as) == 0) report->memory_limit = memory_bytes;
    }
    if (max_files > 0) {
        struct rlimit files = {(rlim_t)max_files, (rlim_t)max_files};
        if (setrlimit(RLIMIT_NOFILE, &files) == 0) report->max_files = max_files;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
    report->no_new_privs = 1;
    report->landlock_abi = herdworker_landlock();
    report->seccomp = herdworker_seccomp();
    return 0;
}

int herdworker_probe(const char *readable_path) {
    int found = 0;
    int fd = open(readable_path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        found |= 1;
        close(fd);
    }
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s >= 0) {
        found |= 2;
        close(s);
    }
    fd = open("herdworker-probe", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        found |= 4;
        close(fd);
        unlink("herdworker-probe");
    }
    return found;
}
