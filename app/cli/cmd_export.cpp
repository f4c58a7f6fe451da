// kvtier-cli export: one stored trace as long CSV, seed batch CSV or paper CSV.
#include "args.hpp"
#include "command.hpp"

#include "core/io/export_csv.hpp"
#include "core/io/export_seed_csv.hpp"
#include "core/store/trace_store.hpp"

#include <iostream>

namespace kvtier::cli {

namespace {

std::string usage()
{
    return "usage: kvtier-cli export DB NAME (--csv OUT | --seed-csv OUT | --paper-csv OUT --sparsity S [--sequence s])\n"
           "\n"
           "Writes trace NAME of the trace database DB as long CSV to OUT ('-' for standard\n"
           "output): a '# kvtier trace NAME prefill=P steps=T layers=L mode=... kind=...'\n"
           "metadata line, the header step,layer,token,score, then one row per non-zero\n"
           "(scores) or selected (selections, score 1) entry in (step, layer, token) order;\n"
           "layer -1 for aggregated traces. A trace of several sequences gets the header\n"
           "step,sequence,layer,token,score and their P_s in the metadata line ('sequence_prefill').\n"
           "Scores are written so that they read back to the\n"
           "same float32: 'kvtier-cli import' restores the trace exactly.\n"
           "\n"
           "\n"
           "--seed-csv writes the seed simulator's batch CSV query_id,token_id,layer_id,experts,\n"
           "attention (query_id = sequence, token_id = P_s + t, experts = the step's expert set\n"
           "X[t][l] ([] without expert sets), attention = every\n"
           "context index by descending attention); --paper-csv writes n,l,read_kv with each\n"
           "record's first max(1, ceil((1 - S) * len)) indices (docs/TRACE_FORMAT.md).\n"
           "\n"
           "  --csv OUT        long CSV to OUT, or '-' for standard output\n"
           "  --seed-csv OUT   the seed's batch CSV\n"
           "  --paper-csv OUT  the paper CSV at sparsity --sparsity S (0 <= S < 1)\n"
           "  --sequence s     the sequence a paper CSV holds (traces of several sequences)\n";
}

int run(const std::vector<std::string>& argv)
{
    Args a(argv, {"csv", "seed-csv", "paper-csv", "sparsity", "sequence"}, {});
    if (a.positional().size() != 2) throw UsageError("expected two arguments, the database file and the trace name");
    const int outputs = int{a.has("csv")} + int{a.has("seed-csv")} + int{a.has("paper-csv")};
    if (outputs != 1) throw UsageError("give exactly one of --csv, --seed-csv and --paper-csv");
    if (a.has("sparsity") && !a.has("paper-csv")) throw UsageError("--sparsity goes with --paper-csv");
    if (a.has("sequence") && !a.has("paper-csv")) throw UsageError("--sequence goes with --paper-csv");
    if (a.has("paper-csv") && !a.has("sparsity")) throw UsageError("--paper-csv needs --sparsity S");
    auto store = TraceStore::open(a.positional()[0], TraceStore::Mode::ReadOnly);
    const std::string& name = a.positional()[1];
    std::string out;
    int64_t rows = 0;
    if (a.has("csv")) {
        out = a.require("csv");
        rows = exportLongCsv(*store, name, out);
    } else if (a.has("seed-csv")) {
        out = a.require("seed-csv");
        rows = exportSeedCsv(*store, name, out);
    } else {
        out = a.require("paper-csv");
        const int64_t sequence = a.getInt("sequence", -1);
        if (a.has("sequence") && (sequence < 0 || sequence > kMaxSequences))
            throw UsageError("--sequence must be a sequence index 0..S-1");
        rows = exportPaperCsv(*store, name, a.getDouble("sparsity", 0.0), static_cast<int32_t>(sequence), out);
    }
    if (out != "-")
        std::cout << "exported '" << name << "' to " << out << ": " << rows << " rows\n";
    return 0;
}

const Registration reg("export", Command{"write a stored trace as long CSV, seed batch CSV or paper CSV", usage(), run});

} // namespace

} // namespace kvtier::cli
