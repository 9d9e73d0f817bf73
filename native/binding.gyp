{
  "variables": {
    "mdfan_bench%": 1
  },
  "target_defaults": {
    "include_dirs": [
      "<!(node -p \"require('node-addon-api').include_dir\")",
      "include",
      "src"
    ],
    "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "_GNU_SOURCE"],
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
    "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-pthread"],
    "ldflags": ["-pthread"]
  },
  "targets": [
    {
      "target_name": "mdfan",
      "sources": [
        "src/addon.cc",
        "src/segment.cc",
        "src/sync.cc",
        "src/seqlock_read.cc",
        "src/abi_export.cc",
        "src/commit.cc",
        "src/fdpass.cc",
        "src/peercred.cc",
        "src/itch_engine.cc"
      ]
    }
  ],
  "conditions": [
    ["mdfan_bench!=0", {
      "targets": [
        {
          "target_name": "mdfan_bench",
          "sources": [
            "bench/bench_addon.cc",
            "bench/c2c.cc",
            "bench/read_cost.cc",
            "bench/numa.cc",
            "bench/reaction.cc"
          ]
        }
      ]
    }]
  ]
}
