/*
 * How the benchmarks' C programs fail: `CODE: message` on stderr (the code one of mdfan's
 * MDFAN_ERR_*, as the TypeScript side prints them), then exit 2. Standard output is flushed first
 * so that what the program already printed is not lost.
 */
#ifndef MDFAN_PEER_DIE_H
#define MDFAN_PEER_DIE_H
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((format(printf, 2, 3), noreturn)) static void die(const char *code, const char *fmt, ...) {
  va_list ap;
  fflush(stdout);
  fprintf(stderr, "%s: ", code);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(2);
}

#endif /* MDFAN_PEER_DIE_H */
