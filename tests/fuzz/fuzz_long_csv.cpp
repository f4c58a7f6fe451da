// libFuzzer harness: a long CSV (step,layer,token,score; optional "# kvtier trace" comment) imported as long-csv.
#include "fuzz_import.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    kvtier::fuzz::fuzzImport(data, size, "input.csv", kvtier::ImportFormat::LongCsv);
    return 0;
}
