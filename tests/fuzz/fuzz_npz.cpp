// libFuzzer harness: an .npz archive (zip, stored or deflated) imported as npy.
#include "fuzz_import.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    kvtier::fuzz::fuzzImport(data, size, "input.npz", kvtier::ImportFormat::Npy);
    return 0;
}
