// NUMA placement for the NUMA benchmark: mbind(2) and get_mempolicy(2) through syscall(2), so no
// libnuma is needed. Constants from <linux/mempolicy.h>, stable kernel ABI.
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"
#include "util.h"

namespace mdfan {
namespace {

constexpr int kMpolBind = 2;
constexpr unsigned kMpolMfStrict = 1, kMpolMfMove = 2;
constexpr unsigned long kMpolFNode = 1, kMpolFAddr = 2;
constexpr unsigned long kMaxNodes = 1024;

// mbind(buffer, node): binds the mapping's pages to one NUMA node, moving those already there.
Napi::Value Mbind(const Napi::CallbackInfo& info) {
  uint8_t* data;
  size_t len;
  uint64_t node;
  if (!ArgBuffer(info, 0, &data, &len) || !ArgUint(info, 1, "node", &node)) return info.Env().Undefined();
  if (node >= kMaxNodes) {
    ThrowType(info.Env(), "node must be below 1024");
    return info.Env().Undefined();
  }
  unsigned long mask[kMaxNodes / (8 * sizeof(unsigned long))] = {};
  mask[node / (8 * sizeof(unsigned long))] = 1ul << (node % (8 * sizeof(unsigned long)));
  if (syscall(SYS_mbind, data, len, kMpolBind, mask, kMaxNodes + 1, kMpolMfMove | kMpolMfStrict) != 0)
    ThrowErrno(info.Env(), "mbind", errno);
  return info.Env().Undefined();
}

// memNode(buffer, byteOffset) -> the NUMA node holding that byte's page (get_mempolicy).
Napi::Value MemNode(const Napi::CallbackInfo& info) {
  uint8_t* data;
  size_t len;
  uint64_t off;
  if (!ArgBuffer(info, 0, &data, &len) || !ArgUint(info, 1, "byteOffset", &off)) return info.Env().Undefined();
  if (off >= len) {
    ThrowType(info.Env(), "byteOffset is past the mapping");
    return info.Env().Undefined();
  }
  int node = -1;
  if (syscall(SYS_get_mempolicy, &node, nullptr, 0, data + off, kMpolFNode | kMpolFAddr) != 0) {
    ThrowErrno(info.Env(), "get_mempolicy", errno);
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), node);
}

}  // namespace

void InitNuma(Napi::Env env, Napi::Object exports) {
  exports.Set("mbind", Napi::Function::New(env, Mbind, "mbind"));
  exports.Set("memNode", Napi::Function::New(env, MemNode, "memNode"));
}

}  // namespace mdfan
