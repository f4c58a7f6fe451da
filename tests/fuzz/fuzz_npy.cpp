// libFuzzer harness: a .npy score array imported as npy (P = 2 when it is not given).
#include "fuzz_import.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    kvtier::fuzz::fuzzImport(data, size, "input.npy", kvtier::ImportFormat::Npy);
    return 0;
}
