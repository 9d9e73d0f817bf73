// The addon's state, one per Node environment (the main thread and each worker thread): N-API
// instance data, created when the environment loads the addon and freed when it ends, so a worker
// never sees another's writers and a worker that exits leaves nothing behind. Every function that
// needs it gets it as its callback data (no lookup on the hot path).
#pragma once
#include <node_api.h>

#include <cstdint>
#include <vector>

#include "mdfan_abi.h"

namespace mdfan {

// A writer bound by commitBind: where its slots, top lines and stage are.
struct BoundWriter {
  bool used = false;
  uint8_t* slots = nullptr;  // first slot
  uint64_t stride = 0;
  uint32_t levels = 0;
  uint32_t max_instruments = 0;
  uint8_t* tops = nullptr;   // first top line, or null (no tops object)
  uint8_t* stage = nullptr;  // mdfan_commit_stage_t, then bids and asks (mdfan_abi.h)
  napi_ref refs[3] = {nullptr, nullptr, nullptr};  // map, tops, stage: alive while bound
  // The stage's levels converted to the slot's integers (bids then asks, `levels` each).
  std::vector<mdfan_level_t> converted;
};

// An ITCH engine (itch_engine.cc): its books and the venue's arrays it writes.
struct ItchEngine;

struct AddonState {
  napi_env env = nullptr;  // the environment this state belongs to (for its cleanup hook)
  // Handles index this table; a freed entry is reused. Only the environment's own thread touches it.
  std::vector<BoundWriter> bound;
  // ITCH engines by handle (null: a freed entry, reused).
  std::vector<ItchEngine*> itch;
};

// Forgets a bound writer: deletes its buffers' references and frees its entry.
void UnbindWriter(napi_env env, BoundWriter& w);

// Frees an ITCH engine: its books, and its references to the venue's arrays; sets it null.
void FreeItchEngine(napi_env env, ItchEngine*& engine);

// Addon states alive in the process (a diagnostic: each environment adds one while it lives).
uint32_t LiveStates();

}  // namespace mdfan
