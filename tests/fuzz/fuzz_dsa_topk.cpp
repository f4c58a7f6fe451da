// libFuzzer harness: DeepSeek sparse attention top-k JSON lines ({"request", "layer",
// "step", "context", "topk"} per line) imported as dsa-topk.
#include "fuzz_import.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    kvtier::fuzz::fuzzImport(data, size, "input.jsonl", kvtier::ImportFormat::DsaTopk);
    return 0;
}
