/*
 * mdfan_wait.h: how a C reader sleeps until the writer publishes instead of spinning. For any C
 * reader (native/tools/mdfan_c_reader.c and the benchmark's C reader use it), written from native/include/mdfan_abi.h alone: the reader registry (a
 * sealed memfd, read-write for readers, whose descriptor the writer hands over its control socket)
 * and the wake protocol declared there, step by step.
 *
 *   mdfan_wait_t w;
 *   if (mdfan_wait_open(&w, NAME, header, why, sizeof why) != 0)  no line: spin instead (never
 *                                                                  block uncounted on the futex)
 *   each time there is nothing to read:
 *     v = mdfan_wait_begin(&w);        counted as a sleeper, then the futex value
 *     if nothing new (look once more, seq_cst loads): mdfan_wait_sleep(&w, v, timeout_ns);
 *     mdfan_wait_end(&w);              no longer counted; go and read
 *   mdfan_wait_close(&w);              at exit: the line is free again
 * A reader of the top-of-book lines alone sleeps on the tops' futex word instead, which
 * the writer bumps only after a message that changed a top: mdfan_wait_on_tops(&w, tops_header)
 * after opening (and again when a new writer's lines replace them).
 *
 * A reader killed meanwhile leaves its line (and maybe one sleeper too many: needless wake-ups,
 * never a lost one) until the writer's heartbeat sweep frees the lines of dead pids.
 * Needs _GNU_SOURCE (or _DEFAULT_SOURCE) before the first #include, for syscall().
 */
#ifndef MDFAN_WAIT_H
#define MDFAN_WAIT_H

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mdfan_abi.h"

typedef struct {
  mdfan_registry_header_t *reg; /* the registry, mapped read-write; NULL: no line */
  size_t size;
  mdfan_reader_line_t *line;   /* the line this reader claimed */
  const uint32_t *notify_seq;  /* the futex word, in the read-only data (or tops) mapping */
  uint32_t sleeping;           /* the line's state while asleep: SLEEPING, or SLEEPING_TOP */
  uint32_t *count;             /* the registry's counter of those sleepers */
} mdfan_wait_t;

/* The registry's descriptor from the writer's control socket `path`: connect, ask with the line
 * {"type":"registry"}, and read until a message carries a descriptor (SCM_RIGHTS; the greeting
 * line before it is skipped). Returns the fd, or -1 with errno (ETIMEDOUT after timeout_ms). */
static inline int mdfan_wait_fetch_registry(const char *path, unsigned timeout_ms) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof addr.sun_path) return errno = ENAMETOOLONG, -1;
  memcpy(addr.sun_path, path, strlen(path));
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  struct timeval tv = {(time_t)(timeout_ms / 1000), (suseconds_t)((timeout_ms % 1000) * 1000)};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  static const char request[] = "{\"type\":\"registry\"}\n";
  int fd = -1, err = 0;
  if (connect(s, (struct sockaddr *)&addr, sizeof addr) != 0 || write(s, request, sizeof request - 1) != (ssize_t)(sizeof request - 1)) err = errno;
  for (int round = 0; !err && fd < 0 && round < 64; round++) {
    char buf[512];
    struct iovec iov = {buf, sizeof buf};
    union {
      struct cmsghdr align;
      char bytes[CMSG_SPACE(sizeof(int))];
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl.bytes;
    msg.msg_controllen = sizeof ctl.bytes;
    ssize_t n = recvmsg(s, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) err = (errno == EAGAIN || errno == EWOULDBLOCK) ? ETIMEDOUT : errno;
    else if (n == 0) err = ECONNRESET;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c && !err; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) memcpy(&fd, CMSG_DATA(c), sizeof fd);
  }
  close(s);
  if (fd < 0) errno = err ? err : EPROTO;
  return fd;
}

/* Gets the registry of the data segment with header `h` (already attached) from its writer's
 * control socket, and claims a line. Returns 0, or -1 with the reason in `why` (no control socket,
 * no answer, not a registry, full). `name` only names the segment in messages. */
static inline int mdfan_wait_open(mdfan_wait_t *w, const char *name, const mdfan_header_t *h, char *why, size_t why_len) {
  char path[MDFAN_SOCKET_PATH_BYTES + 1];
  struct stat st;
  memset(w, 0, sizeof *w);
  memcpy(path, h->control_socket_path, MDFAN_SOCKET_PATH_BYTES);
  path[MDFAN_SOCKET_PATH_BYTES] = '\0';
  if (path[0] == '\0') {
    snprintf(why, why_len, "no reader registry for segment %s: its writer's control socket is not listening", name);
    return -1;
  }
  int fd = mdfan_wait_fetch_registry(path, 500);
  if (fd < 0) {
    snprintf(why, why_len, "no reader registry for segment %s from %s (%s)", name, path, strerror(errno));
    return -1;
  }
  if (fstat(fd, &st) != 0 || (uint64_t)st.st_size < MDFAN_REGISTRY_BYTES(1)) {
    snprintf(why, why_len, "the reader registry of segment %s is too short for one line", name);
    close(fd);
    return -1;
  }
  void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  int e = errno;
  close(fd); /* the mapping stays */
  if (p == MAP_FAILED) {
    snprintf(why, why_len, "reader registry %s: mmap: %s", path, strerror(e));
    return -1;
  }
  mdfan_registry_header_t *reg = (mdfan_registry_header_t *)p;
  /* acquire: pairs with the writer's store-release of magic, made after capacity */
  uint32_t magic = __atomic_load_n(&reg->magic, __ATOMIC_ACQUIRE);
  uint32_t capacity = reg->capacity;
  const char *bad = magic != MDFAN_REGISTRY_MAGIC                               ? "has no registry magic"
                    : MDFAN_REGISTRY_BYTES(capacity) > (uint64_t)st.st_size ? "is shorter than its capacity says"
                    : NULL;
  mdfan_reader_line_t *lines = (mdfan_reader_line_t *)(reg + 1);
  for (uint32_t i = 0; !bad && i < capacity; i++) {
    uint32_t expected = MDFAN_READER_FREE;
    /* seq_cst CAS FREE -> ATTACHED: the line is ours; other readers' claims and the writer's sweep
     * (a CAS to FREE) change it by CAS too, so exactly one of them wins. */
    if (__atomic_compare_exchange_n(&lines[i].state, &expected, MDFAN_READER_ATTACHED, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
      /* seq_cst store: the sweep loads pid to tell whether the line's reader lives (0: skip) */
      __atomic_store_n(&lines[i].pid, (uint32_t)getpid(), __ATOMIC_SEQ_CST);
      w->reg = reg;
      w->size = (size_t)st.st_size;
      w->line = &lines[i];
      w->notify_seq = &h->notify_seq;
      w->sleeping = MDFAN_READER_SLEEPING;
      w->count = &reg->sleepers;
      return 0;
    }
  }
  snprintf(why, why_len, "the reader registry of segment %s %s", name, bad ? bad : "is full");
  munmap(p, (size_t)st.st_size);
  return -1;
}

/* From now on, sleep until a top changes: the tops' futex word (`tops` mapped read-only), the
 * line state SLEEPING_TOP and the registry's top_sleepers. Call between sleeps, not inside one. */
static inline void mdfan_wait_on_tops(mdfan_wait_t *w, const mdfan_tops_header_t *tops) {
  w->notify_seq = &tops->notify_seq;
  w->sleeping = MDFAN_READER_SLEEPING_TOP;
  w->count = &w->reg->top_sleepers;
}

/* Protocol steps 1-3: SLEEPING (or SLEEPING_TOP), counted, then the value to sleep on. */
static inline uint32_t mdfan_wait_begin(mdfan_wait_t *w) {
  /* seq_cst store: the line says which sleeper it is (the sweep takes a dead one off its count) */
  __atomic_store_n(&w->line->state, w->sleeping, __ATOMIC_SEQ_CST);
  /* seq_cst RMW, sleepers (or top_sleepers) += 1: pairs with the writer's seq_cst load of it,
   * which a seq_cst fence orders after its commits (their closing stores are only release): a
   * Dekker pattern, so either the writer sees us and bumps the futex word, or our look at the
   * lines after this sees its commit. */
  __atomic_fetch_add(w->count, 1u, __ATOMIC_SEQ_CST);
  /* seq_cst load: the writer bumps notify_seq (seq_cst RMW) only after seeing a sleeper, so a bump
   * after this load makes the FUTEX_WAIT below return at once. */
  return __atomic_load_n(w->notify_seq, __ATOMIC_SEQ_CST);
}

/* Step 5: sleeps while notify_seq == v, at most timeout_ns (so a dead writer, which wakes nobody,
 * is still noticed). Returns 0 when woken, the value had moved, the time ran out or a signal came
 * (all mean: look again), or -errno. */
static inline int mdfan_wait_sleep(const mdfan_wait_t *w, uint32_t v, uint64_t timeout_ns) {
  struct timespec ts = {(time_t)(timeout_ns / 1000000000ull), (long)(timeout_ns % 1000000000ull)};
  /* Shared futex (no FUTEX_PRIVATE_FLAG): the kernel keys it by the shm object and offset, so the
   * writer's FUTEX_WAKE from its own mapping reaches us. FUTEX_WAIT only reads the word: the
   * read-only mapping serves. The timeout is relative, on CLOCK_MONOTONIC. */
  if (syscall(SYS_futex, w->notify_seq, FUTEX_WAIT, v, &ts, NULL, 0) == 0) return 0;
  return errno == EAGAIN || errno == ETIMEDOUT || errno == EINTR ? 0 : -errno;
}

/* Step 6: undoes mdfan_wait_begin. */
static inline void mdfan_wait_end(mdfan_wait_t *w) {
  uint32_t expected = w->sleeping;
  /* seq_cst CAS SLEEPING(_TOP) -> ATTACHED, then the count -= 1 (seq_cst RMW): whoever moves the
   * line out of it (we, or a sweep) takes the sleep off the count, exactly once. */
  if (__atomic_compare_exchange_n(&w->line->state, &expected, MDFAN_READER_ATTACHED, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
    __atomic_fetch_sub(w->count, 1u, __ATOMIC_SEQ_CST);
}

/* Releases the line (no-op without one). */
static inline void mdfan_wait_close(mdfan_wait_t *w) {
  if (!w->reg) return;
  mdfan_wait_end(w);
  /* pid 0 first (seq_cst store): the next reader to claim the line shows pid 0, which sweeps
   * skip, until it stores its own, never ours. */
  __atomic_store_n(&w->line->pid, 0u, __ATOMIC_SEQ_CST);
  uint32_t expected = MDFAN_READER_ATTACHED;
  /* seq_cst CAS ATTACHED -> FREE (implies release): free for the next claim's CAS, and only if
   * it is still ours. */
  __atomic_compare_exchange_n(&w->line->state, &expected, MDFAN_READER_FREE, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  munmap(w->reg, w->size);
  w->reg = NULL;
}

#endif /* MDFAN_WAIT_H */
