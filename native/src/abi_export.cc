// Exports what the C++ compiler makes of include/mdfan_abi.h: every integer constant, every
// struct's size and every field's offset and size, from the lists the build generates out of the
// header (abi_fields.generated.h). The TypeScript tables are generated from the same header by a
// C probe; the binding compares the two at load, so a stale build fails loudly instead of
// corrupting books.
#include "mdfan_abi.h"
#include "abi_fields.generated.h"
#include "util.h"

#include <string>

namespace mdfan {
namespace {

constexpr unsigned long long kMaxSafeInteger = (1ull << 53) - 1;

// Constants lose their MDFAN_ prefix, as in TypeScript; 64-bit values become _LO and _HI words.
void PutConstant(Napi::Env env, Napi::Object c, const char* macro, unsigned long long v) {
  std::string name(macro);
  if (name.rfind("MDFAN_", 0) == 0) name = name.substr(6);
  if (v <= kMaxSafeInteger) {
    c.Set(name, Napi::Number::New(env, static_cast<double>(v)));
    return;
  }
  c.Set(name + "_LO", Napi::Number::New(env, static_cast<double>(v & 0xffffffffull)));
  c.Set(name + "_HI", Napi::Number::New(env, static_cast<double>(v >> 32)));
}

Napi::Object Field(Napi::Env env, size_t offset, size_t size) {
  Napi::Object f = Napi::Object::New(env);
  f.Set("offset", Napi::Number::New(env, static_cast<double>(offset)));
  f.Set("size", Napi::Number::New(env, static_cast<double>(size)));
  return f;
}

Napi::Value Abi(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);

  Napi::Object structs = Napi::Object::New(env);
  Napi::Object sizes = Napi::Object::New(env);
#define MDFAN_EXPORT_STRUCT(type, key)              \
  structs.Set(#key, Napi::Object::New(env));        \
  sizes.Set(#key, Napi::Number::New(env, static_cast<double>(sizeof(type))));
  MDFAN_ABI_STRUCTS(MDFAN_EXPORT_STRUCT)
#undef MDFAN_EXPORT_STRUCT
#define MDFAN_EXPORT_FIELD(type, key, field)                         \
  structs.Get(#key).As<Napi::Object>().Set(#field, Field(env, offsetof(type, field), sizeof(((type*)nullptr)->field)));
  MDFAN_ABI_FIELDS(MDFAN_EXPORT_FIELD)
#undef MDFAN_EXPORT_FIELD
  out.Set("structs", structs);
  out.Set("sizeof", sizes);

  Napi::Object c = Napi::Object::New(env);
#define MDFAN_EXPORT_CONSTANT(name) PutConstant(env, c, #name, static_cast<unsigned long long>(name));
  MDFAN_ABI_CONSTANTS(MDFAN_EXPORT_CONSTANT)
#undef MDFAN_EXPORT_CONSTANT
  out.Set("constants", c);

  // Layout arithmetic samples: TypeScript's computeLayout() must agree with the C macros.
  Napi::Array samples = Napi::Array::New(env);
  const uint32_t inst[] = {1, 7, 64, 8192};
  const uint32_t lev[] = {1, 5, 10, 50};
  uint32_t k = 0;
  for (uint32_t i : inst)
    for (uint32_t n : lev) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("maxInstruments", Napi::Number::New(env, i));
      o.Set("levels", Napi::Number::New(env, n));
      o.Set("slotStride", Napi::Number::New(env, MDFAN_SLOT_STRIDE(n)));
      o.Set("slotsOffset", Napi::Number::New(env, static_cast<double>(MDFAN_SLOTS_OFFSET(i))));
      o.Set("totalBytes", Napi::Number::New(env, static_cast<double>(MDFAN_TOTAL_BYTES(i, n))));
      o.Set("asksOffset", Napi::Number::New(env, MDFAN_ASKS_OFFSET(n)));
      o.Set("packedStride", Napi::Number::New(env, MDFAN_SLOT_STRIDE_PACKED(n)));
      samples.Set(k++, o);
    }
  out.Set("layoutSamples", samples);
  out.Set("registryBytes", Napi::Number::New(env, static_cast<double>(MDFAN_REGISTRY_BYTES(MDFAN_REGISTRY_CAPACITY))));
  return out;
}

}  // namespace

void InitAbi(Napi::Env env, Napi::Object exports) {
  exports.Set("abi", Napi::Function::New(env, Abi, "abi"));
}

}  // namespace mdfan
