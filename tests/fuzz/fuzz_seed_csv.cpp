// libFuzzer harness: the seed's batch trace CSV (header query_id,token_id,layer_id,experts,
// attention) imported as seed-csv.
#include "fuzz_import.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    kvtier::fuzz::fuzzImport(data, size, "input.csv", kvtier::ImportFormat::SeedCsv);
    return 0;
}
