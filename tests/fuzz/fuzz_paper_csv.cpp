// libFuzzer harness: a paper-simulator trace CSV (header n,l,read_kv) imported as paper-csv.
#include "fuzz_import.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    kvtier::fuzz::fuzzImport(data, size, "input.csv", kvtier::ImportFormat::PaperCsv);
    return 0;
}
