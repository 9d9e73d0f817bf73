// A test-only pause, the addon's side of native/segment/test-pause.ts: TestPauseOnce(fifo, done)
// writes FIFO.reached, then blocks until the FIFO is opened for writing and closed (the test acts
// in that window); once per process. No product path reaches it: its callers branch on a FIFO path
// read once from a MDFAN_TEST_* variable, null without it.
#pragma once
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>

namespace mdfan {

inline void TestPauseOnce(const char* fifo, std::atomic<bool>* done) {
  // Relaxed exchange: it only makes the pause once per process; pairs with nothing.
  if (done->exchange(true, std::memory_order_relaxed)) return;
  std::string reached = std::string(fifo) + ".reached";
  int fd = open(reached.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd >= 0) close(fd);
  do fd = open(fifo, O_RDONLY | O_CLOEXEC);  // blocks until the test opens it for writing
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return;
  char buf[64];
  ssize_t n;
  do n = read(fd, buf, sizeof buf);  // until the test closes it
  while (n > 0 || (n < 0 && errno == EINTR));
  close(fd);
}

}  // namespace mdfan
