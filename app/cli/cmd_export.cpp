// kvtier-cli export: one stored trace as long CSV.
#include "args.hpp"
#include "command.hpp"

#include "core/io/export_csv.hpp"
#include "core/store/trace_store.hpp"

#include <iostream>

namespace kvtier::cli {

namespace {

std::string usage()
{
    return "usage: kvtier-cli export DB NAME --csv OUT\n"
           "\n"
           "Writes trace NAME of the trace database DB as long CSV to OUT ('-' for standard\n"
           "output): a '# kvtier trace NAME prefill=P steps=T layers=L mode=... kind=...'\n"
           "metadata line, the header step,layer,token,score, then one row per non-zero\n"
           "(scores) or selected (selections, score 1) entry in (step, layer, token) order;\n"
           "layer -1 for aggregated traces. Scores are written so that they read back to the\n"
           "same float32: 'kvtier-cli import' restores the trace exactly.\n"
           "\n"
           "  --csv OUT   output file, or '-' for standard output\n";
}

int run(const std::vector<std::string>& argv)
{
    Args a(argv, {"csv"}, {});
    if (a.positional().size() != 2) throw UsageError("expected two arguments, the database file and the trace name");
    const std::string out = a.require("csv");
    auto store = TraceStore::open(a.positional()[0], TraceStore::Mode::ReadOnly);
    const int64_t rows = exportLongCsv(*store, a.positional()[1], out);
    if (out != "-")
        std::cout << "exported '" << a.positional()[1] << "' to " << out << ": " << rows << " rows\n";
    return 0;
}

const Registration reg("export", Command{"write a stored trace as long CSV", usage(), run});

} // namespace

} // namespace kvtier::cli
