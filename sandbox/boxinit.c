/*
 * boxinit: the in-box half of the sandbox. Built and exec'd by sandbox/helper.py.
 *
 * Theory of operation. The keeper (Python, sandbox/box.py) spawns this program with a
 * SOCK_SEQPACKET control socket on fd 3 and sends one PREP message: where to build the root,
 * which mounts to make, which cgroups to join, the seccomp program. Then:
 *
 *   outer (this process, host pid namespace)
 *     unshare(mount, pid, net, ipc, uts); fork -> init; send the keeper a pidfd of init;
 *     wait for init; exit.
 *   init (pid 1 of the box's pid namespace, still root; run_init)
 *     build_box: make the mounts of the plan (struct op) under the staging root; hostname;
 *     loopback up; pivot_root; /proc; root read-only; join the cgroups (late, so none of
 *     this is billed); unshare(cgroup) after joining, so the box sees itself at "/".
 *     Send READY with a descriptor of the working directory; await_go: wait for GO (argv,
 *     env, rlimits, ids, stdio fds). start_program: fork -> program
 *   program (become_program)
 *     setsid; stdio; close every other descriptor; rlimits; drop the capability bounding set;
 *     setgroups/setresgid/setresuid; no_new_privs; load the seccomp filter with a user
 *     notification listener, hand the listener to init, execve.
 *
 * init then waits for the program (supervise). A denied system call reaches init as a seccomp
 * notification: init notes the call number and kills every process of the box, so the call
 * never runs. When the program exits init kills whatever it left behind (kill(-1) from pid 1),
 * reaps everything and reports the wait status, rusage and the denied call to the keeper.
 * When init exits the kernel tears down the namespaces; nothing of the box survives it.
 *
 * Time, memory and output limits are enforced by the keeper from the outside (cgroups, pipes);
 * this program knows nothing of them except the rlimits it is told to set.
 *
 * A failure of this program is reported as "error STAGE ERRNO" and is the sandbox's fault,
 * never the contestant's. Messages are NUL-separated tokens (see sandbox/protocol.py).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <grp.h>

#define CTL 3
#define MSG_MAX (512 * 1024)
#define MAX_TOKENS 16384
#define MAX_CG 8

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif

/* ---------- messages ---------- */

static char msgbuf[MSG_MAX];
static char *tok[MAX_TOKENS];
static int ntok;

/* Send len bytes with nfds (at most 4) descriptors attached: the one way descriptors leave. */
static void send_with_fds(int sock, const void *buf, size_t len, const int *fds, int nfds)
{
    struct iovec iov = {(void *)buf, len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    char cbuf[CMSG_SPACE(sizeof(int) * 4)];
    if (nfds > 0) {
        memset(cbuf, 0, sizeof cbuf);
        mh.msg_control = cbuf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 && errno == EINTR)
        ;
}

/* The descriptors a received message carried, up to maxfds into fds (the rest closed): how many. */
static int take_fds(struct msghdr *mh, int *fds, int maxfds)
{
    int got = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        int k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (int i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (got < maxfds)
                fds[got++] = fd;
            else
                close(fd);
        }
    }
    return got;
}

/* A message to the keeper: printf-style, then each space becomes a token boundary (NUL). */
static void send_msg(const int *fds, int nfds, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= (int)sizeof buf)
        n = sizeof buf - 1;
    for (int i = 0; i < n; i++)
        if (buf[i] == ' ')
            buf[i] = '\0';
    send_with_fds(CTL, buf, (size_t)n + 1, fds, nfds);
}

/* The sandbox failed: tell the keeper which step and why, then die. */
static void die(const char *stage)
{
    int e = errno;
    send_msg(NULL, 0, "error %s %d", stage, e);
    _exit(120);
}

/* Receive one message into tok[]; store up to maxfds passed descriptors in fds. */
static int recv_msg(int sock, int *fds, int maxfds)
{
    struct iovec iov = {msgbuf, sizeof msgbuf - 1};
    char cbuf[CMSG_SPACE(sizeof(int) * 4)];
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    ssize_t n;
    do
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return -1;
    if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
        errno = EMSGSIZE;
        return -1;
    }
    int got = take_fds(&mh, fds, maxfds);
    msgbuf[n] = '\0';
    ntok = 0;
    for (char *p = msgbuf; p < msgbuf + n && ntok < MAX_TOKENS; p += strlen(p) + 1)
        tok[ntok++] = p;
    return got;
}

/* Between init and the program: one descriptor with a one-byte message. */
static void send_fd(int sock, int fd)
{
    send_with_fds(sock, "L", 1, &fd, 1);
}

/* The descriptor send_fd sent, or -1 if the socket closed first. */
static int recv_fd(int sock)
{
    char c;
    struct iovec iov = {&c, 1};
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    int fd = -1;
    if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) > 0)
        take_fds(&mh, &fd, 1);
    return fd;
}

static unsigned long num(const char *s)
{
    return strtoul(s, NULL, 0);
}

/* ---------- PREP: what init builds ---------- */

/* One step of the plan (sandbox/mounts.py makes them), in the order they come. Paths are
 * inside the new root unless said otherwise. */
enum op_kind { OP_MOUNT, OP_MKDIR, OP_SYMLINK, OP_FILE, OP_TOUCH, OP_REMOUNT, OP_OVERLAY };

struct op {
    enum op_kind kind;
    union {
        /* mount SOURCE TARGET FSTYPE FLAGS DATA; FSTYPE "bind": SOURCE is a host path */
        struct { const char *source, *target, *fstype, *data; unsigned long flags; } mount;
        struct { const char *path; mode_t mode; } mkdir;     /* mkdir PATH MODE */
        struct { const char *target, *path; } symlink;       /* symlink TARGET PATH */
        struct { const char *path, *content; mode_t mode; } file; /* file PATH MODE CONTENT */
        struct { const char *path; } touch;                  /* touch PATH: an empty file */
        struct { const char *path; unsigned long flags; } remount; /* remount PATH FLAGS */
        /* overlay LAYERS_DIR LOWERS SCRATCH: the root itself (overlay_root) */
        struct { const char *layers, *lowers, *scratch; } overlay;
    };
};

#define MAX_OPS 1024
static struct op ops[MAX_OPS];
static int nops;
static char *root, *hostname_, *workdir;
static char *cgpaths[MAX_CG];
static int ncg;
static struct sock_filter *bpf;
static unsigned short bpf_len;
static int proc_hidepid = 1;

static int hexval(char c)
{
    return c <= '9' ? c - '0' : (c | 32) - 'a' + 10;
}

static void add_op(struct op op)
{
    ops[nops++] = op;
    if (nops >= MAX_OPS) {
        errno = E2BIG;
        die("prep");
    }
}

/* Parse PREP. The strings stay in msgbuf, which init never overwrites before it has built the box. */
static void parse_prep(void)
{
    for (int i = 0; i < ntok;) {
        const char *k = tok[i++];
        char **a = tok + i; /* this step's arguments */
#define NEED(n) do { if (i + (n) > ntok) { errno = EINVAL; die("prep"); } i += (n); } while (0)
        if (!strcmp(k, "root")) { NEED(1); root = a[0]; }
        else if (!strcmp(k, "hostname")) { NEED(1); hostname_ = a[0]; }
        else if (!strcmp(k, "workdir")) { NEED(1); workdir = a[0]; }
        else if (!strcmp(k, "cgroup")) { NEED(1); if (ncg < MAX_CG) cgpaths[ncg++] = a[0]; }
        else if (!strcmp(k, "hidepid")) { NEED(1); proc_hidepid = (int)num(a[0]); }
        else if (!strcmp(k, "seccomp")) {
            NEED(1);
            const char *h = a[0];
            size_t n = strlen(h) / 2;
            bpf = malloc(n);
            for (size_t j = 0; j < n; j++)
                ((unsigned char *)bpf)[j] = hexval(h[2 * j]) << 4 | hexval(h[2 * j + 1]);
            bpf_len = n / sizeof(struct sock_filter);
        }
        else if (!strcmp(k, "mount")) {
            NEED(5);
            add_op((struct op){.kind = OP_MOUNT, .mount = {.source = a[0], .target = a[1], .fstype = a[2],
                                                            .flags = num(a[3]), .data = a[4]}});
        }
        else if (!strcmp(k, "mkdir")) {
            NEED(2);
            add_op((struct op){.kind = OP_MKDIR, .mkdir = {.path = a[0], .mode = num(a[1])}});
        }
        else if (!strcmp(k, "symlink")) {
            NEED(2);
            add_op((struct op){.kind = OP_SYMLINK, .symlink = {.target = a[0], .path = a[1]}});
        }
        else if (!strcmp(k, "file")) {
            NEED(3);
            add_op((struct op){.kind = OP_FILE, .file = {.path = a[0], .mode = num(a[1]), .content = a[2]}});
        }
        else if (!strcmp(k, "touch")) {
            NEED(1);
            add_op((struct op){.kind = OP_TOUCH, .touch = {.path = a[0]}});
        }
        else if (!strcmp(k, "remount")) {
            NEED(2);
            add_op((struct op){.kind = OP_REMOUNT, .remount = {.path = a[0], .flags = num(a[1])}});
        }
        else if (!strcmp(k, "overlay")) {
            NEED(3);
            add_op((struct op){.kind = OP_OVERLAY, .overlay = {.layers = a[0], .lowers = a[1], .scratch = a[2]}});
        }
        else { errno = EINVAL; die(k); }
#undef NEED
    }
    if (!root || !workdir || !bpf) {
        errno = EINVAL;
        die("prep");
    }
}

static char pathbuf[4096];

/* Paths in the plan are inside the new root; before pivot_root they live under `root`. */
static const char *under(const char *p)
{
    snprintf(pathbuf, sizeof pathbuf, "%s%s", root, p);
    return pathbuf;
}

/* overlay LAYERS_DIR LOWERS SCRATCH: the root is an overlay of the image's read-only layers
 * (LOWERS, top first, colon-separated names inside LAYERS_DIR) under a throwaway writable layer
 * on a tmpfs mounted at the root first (SCRATCH: its size and inode options). The tmpfs is
 * covered by the overlay and goes with the mount namespace.
 * The kernel shows the options in the box's /proc/self/mountinfo as they were given, so every
 * directory is given as /proc/self/fd/N of a descriptor opened here: the box learns neither the
 * store's path, nor the staging root's, nor the layers' digests. */
static void overlay_root(const char *layers, const char *lowers, const char *scratch)
{
    char path[4096], opt[4096];
    int fds[512], nfd = 0;
    if (mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, scratch) < 0)
        die("overlay scratch");
    snprintf(path, sizeof path, "%s/.upper", root);
    if (mkdir(path, 0755) < 0)
        die("overlay upper");
    int up = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    snprintf(path, sizeof path, "%s/.work", root);
    if (mkdir(path, 0700) < 0)
        die("overlay work");
    int work = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int dir = open(layers, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (up < 0 || work < 0 || dir < 0)
        die("overlay layers");
    int n = snprintf(opt, sizeof opt, "lowerdir=");
    for (const char *p = lowers; *p && n < (int)sizeof opt;) {
        const char *q = strchrnul(p, ':');
        snprintf(path, sizeof path, "%.*s", (int)(q - p), p);
        if (nfd == (int)(sizeof fds / sizeof *fds)) {
            errno = E2BIG;
            die("overlay layers");
        }
        int fd = openat(dir, path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            die("overlay layer");
        fds[nfd++] = fd;
        n += snprintf(opt + n, sizeof opt - n, "%s/proc/self/fd/%d", p == lowers ? "" : ":", fd);
        p = *q ? q + 1 : q;
    }
    if (n < (int)sizeof opt)
        n += snprintf(opt + n, sizeof opt - n, ",upperdir=/proc/self/fd/%d,workdir=/proc/self/fd/%d", up, work);
    if (n < 0 || (size_t)n >= sizeof opt) {
        errno = E2BIG;
        die("overlay options");
    }
    if (mount("overlay", root, "overlay", MS_NOSUID | MS_NODEV, opt) < 0)
        die("overlay");
    for (int i = 0; i < nfd; i++)
        close(fds[i]);
    close(up);
    close(work);
    close(dir);
}

static void run_op(const struct op *o)
{
    switch (o->kind) {
    case OP_MOUNT: {
        const char *data = o->mount.data[0] ? o->mount.data : NULL;
        char dst[4096];
        snprintf(dst, sizeof dst, "%s%s", root, o->mount.target);
        if (!strcmp(o->mount.fstype, "bind")) {
            if (mount(o->mount.source, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
                die(o->mount.target);
            /* flags of a bind mount only take with a remount */
            if (mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | o->mount.flags, NULL) < 0)
                die(o->mount.target);
        } else if (mount(o->mount.source, dst, o->mount.fstype, o->mount.flags, data) < 0) {
            die(o->mount.target);
        }
        break;
    }
    case OP_MKDIR:
        if (mkdir(under(o->mkdir.path), o->mkdir.mode) < 0 && errno != EEXIST)
            die(o->mkdir.path);
        break;
    case OP_SYMLINK:
        if (symlink(o->symlink.target, under(o->symlink.path)) < 0)
            die(o->symlink.path);
        break;
    case OP_TOUCH: {
        int fd = open(under(o->touch.path), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
            die(o->touch.path);
        close(fd);
        break;
    }
    case OP_FILE: {
        int fd = open(under(o->file.path), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, o->file.mode);
        size_t n = strlen(o->file.content);
        if (fd < 0 || write(fd, o->file.content, n) != (ssize_t)n)
            die(o->file.path);
        close(fd);
        break;
    }
    case OP_REMOUNT:
        if (mount(NULL, under(o->remount.path), NULL, MS_REMOUNT | MS_BIND | o->remount.flags, NULL) < 0)
            die(o->remount.path);
        break;
    case OP_OVERLAY:
        overlay_root(o->overlay.layers, o->overlay.lowers, o->overlay.scratch);
        break;
    }
}

static void loopback_up(void)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr = {0};
    strcpy(ifr.ifr_name, "lo");
    if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        die("loopback");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        die("loopback");
    close(s);
}

/* ---------- GO: what the program runs with ---------- */

static char **argv_, **envp_;
static char *cwd_ = "/";
static uid_t uid_ = 65534;
static gid_t gid_ = 65534;
static struct { int res; struct rlimit lim; } rl[16];
static int nrl;

static void parse_go(void)
{
    int na = 0, ne = 0;
    for (int i = 0; i < ntok; i++) {
        if (!strcmp(tok[i], "arg")) na++;
        if (!strcmp(tok[i], "env")) ne++;
    }
    argv_ = calloc(na + 1, sizeof(char *));
    envp_ = calloc(ne + 1, sizeof(char *));
    na = ne = 0;
    for (int i = 0; i < ntok;) {
        const char *k = tok[i++];
        if (i >= ntok) { errno = EINVAL; die("go"); }
        if (!strcmp(k, "arg")) argv_[na++] = tok[i++];
        else if (!strcmp(k, "env")) envp_[ne++] = tok[i++];
        else if (!strcmp(k, "cwd")) cwd_ = tok[i++];
        else if (!strcmp(k, "uid")) uid_ = num(tok[i++]);
        else if (!strcmp(k, "gid")) gid_ = num(tok[i++]);
        else if (!strcmp(k, "rlimit")) {
            if (i + 3 > ntok || nrl >= 16) { errno = EINVAL; die("go"); }
            rl[nrl].res = num(tok[i]);
            rl[nrl].lim.rlim_cur = strtoull(tok[i + 1], NULL, 0);
            rl[nrl].lim.rlim_max = strtoull(tok[i + 2], NULL, 0);
            nrl++;
            i += 3;
        } else { errno = EINVAL; die(k); }
    }
    if (na == 0) { errno = EINVAL; die("go"); }
}

/* In the program: report why exec did not happen, then die. Init turns it into "execfail". */
static void child_fail(int pipefd, const char *stage)
{
    char buf[128];
    int n = snprintf(buf, sizeof buf, "%d %s", errno, stage);
    if (write(pipefd, buf, n) < 0)
        _exit(127);
    _exit(127);
}

/* execve, again while the file is busy: a thread of the keeper that spawns another box can
 * hold a copy of the descriptor that wrote the program until that child execs (posix_spawn
 * copies the descriptor table), and on a loaded machine that can outlast GO. Up to 0.5 s. */
static void exec_retrying(const char *path)
{
    for (int i = 0; i < 500; i++) {
        execve(path, argv_, envp_);
        if (errno != ETXTBSY)
            return;
        struct timespec t = {0, 1000000};
        nanosleep(&t, NULL);
    }
}

static void exec_search(int errpipe)
{
    if (strchr(argv_[0], '/')) {
        exec_retrying(argv_[0]);
        child_fail(errpipe, "execve");
    }
    const char *path = "/usr/local/bin:/usr/bin:/bin";
    for (char **e = envp_; *e; e++)
        if (!strncmp(*e, "PATH=", 5))
            path = *e + 5;
    int err = ENOENT;
    char buf[4096];
    for (const char *p = path; *p;) {
        const char *q = strchrnul(p, ':');
        snprintf(buf, sizeof buf, "%.*s/%s", (int)(q - p), p, argv_[0]);
        exec_retrying(buf);
        if (errno != ENOENT)
            err = errno;
        p = *q ? q + 1 : q;
    }
    errno = err;
    child_fail(errpipe, "execve");
}

static int set_oom_score_adj(const char *value)
{
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int ok = write(fd, value, strlen(value)) == (ssize_t)strlen(value);
    close(fd);
    return ok ? 0 : -1;
}

static void become_program(int stdio[3], int lsock, int errpipe)
{
    /* order matters: privileges go last but one, the filter last, because it denies calls above */
    if (setsid() < 0)
        child_fail(errpipe, "setsid");
    for (int i = 0; i < 3; i++)
        if (dup2(stdio[i], 100 + i) < 0)
            child_fail(errpipe, "dup");
    for (int i = 0; i < 3; i++)
        if (dup2(100 + i, i) < 0)
            child_fail(errpipe, "dup2");
    /* keep 0-2; everything else closes at exec (the listener socket and error pipe are needed until then) */
    if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
        child_fail(errpipe, "close_range");
    /* the keeper (Python) ignores SIGPIPE and SIGXFSZ and exec keeps ignored signals: reset all */
    /* raw rt_sigaction: glibc refuses signals 32 and 33, which it keeps for itself */
    struct { void *handler; unsigned long flags; void *restorer; unsigned long mask; } dfl = {0};
    for (int sig = 1; sig <= 64; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (chdir(cwd_) < 0)
        child_fail(errpipe, "chdir");
    if (set_oom_score_adj("0") < 0)
        child_fail(errpipe, "oom_score_adj");
    for (int i = 0; i < nrl; i++)
        if (setrlimit(rl[i].res, &rl[i].lim) < 0)
            child_fail(errpipe, "setrlimit");
    for (int cap = 0; cap <= 63; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            child_fail(errpipe, "capbset");
    if (setgroups(0, NULL) < 0)
        child_fail(errpipe, "setgroups");
    if (setresgid(gid_, gid_, gid_) < 0)
        child_fail(errpipe, "setresgid");
    if (setresuid(uid_, uid_, uid_) < 0)
        child_fail(errpipe, "setresuid");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        child_fail(errpipe, "no_new_privs");
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        child_fail(errpipe, "dumpable");
    struct sock_fprog prog = {bpf_len, bpf};
    int listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    if (listener < 0)
        child_fail(errpipe, "seccomp");
    send_fd(lsock, listener);
    close(listener);
    close(lsock);
    exec_search(errpipe);
}

/* ---------- init ---------- */

/* Before GO: the plan carried out, the root entered and made read-only, the cgroups joined.
 * Returns a descriptor of the working directory, for the keeper's files. */
static int build_box(void)
{
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        die("make-rprivate");
    /* the OOM killer must pick the program, never init: a dead init would look like our failure */
    set_oom_score_adj("-1000");
    for (int i = 0; i < nops; i++)
        run_op(&ops[i]);
    if (hostname_ && sethostname(hostname_, strlen(hostname_)) < 0)
        die("sethostname");
    loopback_up();

    /* host paths: opened while the host's tree is still in reach */
    int cgfd[MAX_CG];
    for (int i = 0; i < ncg; i++)
        if ((cgfd[i] = open(cgpaths[i], O_WRONLY | O_CLOEXEC)) < 0)
            die(cgpaths[i]);
    int wfd = open(under(workdir), O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (wfd < 0)
        die("workdir");

    if (chdir(root) < 0)
        die("chdir root");
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        die("pivot_root");
    if (umount2(".", MNT_DETACH) < 0)
        die("umount old root");
    if (chdir("/") < 0)
        die("chdir /");
    char popt[32];
    snprintf(popt, sizeof popt, "hidepid=%d", proc_hidepid);
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, popt) < 0)
        die("/proc");
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
        die("remount / ro");

    /* late: everything above is the sandbox's work and must not be billed to the program */
    for (int i = 0; i < ncg; i++) {
        if (write(cgfd[i], "0", 1) != 1)
            die("join cgroup");
        close(cgfd[i]);
    }
    /* after joining: the box's cgroup namespace is rooted at its own cgroup */
    if (unshare(CLONE_NEWCGROUP) < 0)
        die("unshare cgroup");
    return wfd;
}

/* Wait for GO and parse it; its three descriptors are the program's stdio. 0: the keeper let go. */
static int await_go(int stdio[3])
{
    int got = recv_msg(CTL, stdio, 3);
    if (got < 0)
        return 0;
    if (got != 3 || strcmp(tok[0], "go")) {
        errno = EPROTO;
        die("go");
    }
    ntok--;
    memmove(tok, tok + 1, ntok * sizeof *tok);
    parse_go();
    return 1;
}

struct program {
    pid_t pid;
    int listener; /* the seccomp notification listener, -1 if the program never loaded its filter */
    int sigchld;  /* a signalfd of SIGCHLD */
};

/* Fork the program; tell the keeper "started" once it has exec'd, or "execfail STAGE ERRNO". */
static struct program start_program(int stdio[3])
{
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    int lp[2], ep[2];
    if (sfd < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, lp) < 0 || pipe2(ep, O_CLOEXEC) < 0)
        die("init fds");

    pid_t pid = fork();
    if (pid < 0)
        die("fork program");
    if (pid == 0) {
        close(lp[0]);
        close(ep[0]);
        become_program(stdio, lp[1], ep[1]);
    }
    close(lp[1]);
    close(ep[1]);
    for (int i = 0; i < 3; i++)
        close(stdio[i]);

    /* the listener arrives just before execve, or never if setup failed */
    int listener = recv_fd(lp[0]);
    close(lp[0]);
    /* exec succeeded when the CLOEXEC pipe closes without a word */
    char ebuf[128];
    ssize_t en = read(ep[0], ebuf, sizeof ebuf - 1);
    close(ep[0]);
    if (en > 0) {
        ebuf[en] = '\0';
        char *sp = strchr(ebuf, ' ');
        send_msg(NULL, 0, "execfail %s %.*s", sp ? sp + 1 : "?", sp ? (int)(sp - ebuf) : 0, ebuf);
    } else {
        send_msg(NULL, 0, "started");
    }
    return (struct program){pid, listener, sfd};
}

struct ending {
    int have_status, status; /* the program's wait status, if it was reaped */
    struct rusage ru;
    long sysnr;              /* the first call the filter denied, or -1 */
};

/* Until nothing is left in the box: a denied call or the keeper leaving kills every process
 * of the box, the program's end kills what it left behind, and everything is reaped. */
static struct ending supervise(struct program prog)
{
    struct ending end = {.sysnr = -1};
    int listener = prog.listener;
    for (;;) {
        /* the keeper's end of the control socket closing means it is gone: end the box */
        struct pollfd pf[3] = {{prog.sigchld, POLLIN, 0}, {CTL, POLLRDHUP, 0}, {listener, POLLIN, 0}};
        int np = listener >= 0 ? 3 : 2;
        if (poll(pf, np, -1) < 0 && errno != EINTR)
            die("poll");
        if (pf[1].revents & (POLLHUP | POLLRDHUP | POLLERR))
            kill(-1, SIGKILL);
        if (np == 3 && (pf[2].revents & POLLIN)) {
            struct seccomp_notif req;
            memset(&req, 0, sizeof req);
            if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0) {
                if (end.sysnr < 0)
                    end.sysnr = req.data.nr;
                kill(-1, SIGKILL); /* the call never runs: every process of the box dies first */
            }
        }
        if (np == 3 && (pf[2].revents & (POLLHUP | POLLERR)) && !(pf[2].revents & POLLIN)) {
            close(listener);
            listener = -1;
        }
        struct signalfd_siginfo si;
        while (read(prog.sigchld, &si, sizeof si) > 0)
            ;
        for (;;) {
            int st;
            struct rusage r;
            pid_t p = wait4(-1, &st, WNOHANG, &r);
            if (p == 0)
                break;
            if (p < 0)
                return end; /* ECHILD: nothing left in the box */
            if (p == prog.pid) {
                end.status = st;
                end.ru = r;
                end.have_status = 1;
                kill(-1, SIGKILL); /* orphans and daemons die with the program */
            }
        }
    }
}

static int run_init(void)
{
    int wfd = build_box();
    send_msg(&wfd, 1, "ready");
    close(wfd);
    int stdio[3];
    if (!await_go(stdio))
        _exit(0); /* the keeper let go of this box without using it */
    struct ending end = supervise(start_program(stdio));
    send_msg(NULL, 0, "exit %d %d %ld %ld %ld", end.have_status, end.status,
             (long)end.ru.ru_utime.tv_sec * 1000000 + end.ru.ru_utime.tv_usec,
             (long)end.ru.ru_stime.tv_sec * 1000000 + end.ru.ru_stime.tv_usec, end.sysnr);
    return 0;
}

int main(void)
{
    /* nothing but the control socket and stdio may be inherited, however high the number */
    if (syscall(SYS_close_range, CTL + 1, ~0U, 0) < 0)
        for (int fd = CTL + 1; fd < 65536; fd++)
            close(fd);
    if (recv_msg(CTL, NULL, 0) < 0 || ntok < 1 || strcmp(tok[0], "prep"))
        die("read prep");
    ntok--;
    memmove(tok, tok + 1, ntok * sizeof *tok);
    parse_prep();

    if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) < 0)
        die("unshare");
    pid_t init = fork();
    if (init < 0)
        die("fork init");
    if (init == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        _exit(run_init());
    }
    int pidfd = syscall(SYS_pidfd_open, init, 0);
    if (pidfd < 0) {
        kill(init, SIGKILL);
        die("pidfd_open");
    }
    send_msg(&pidfd, 1, "pid %d", (int)init);
    close(pidfd);
    close(CTL);
    int st;
    while (waitpid(init, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
