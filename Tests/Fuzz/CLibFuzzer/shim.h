// libFuzzer's driver, for fuzz targets whose main is their own (SwiftPM links an executable's
// main.swift as `main`, so libFuzzer's main is not used). Provided by -sanitize=fuzzer; only
// referenced by code compiled with -DFUZZING.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
