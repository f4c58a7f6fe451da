// kvtier-cli generate: a synthetic trace (docs/GENERATOR.md) into a trace database, in
// one transaction, or as the paper simulator's CSV.
#include "args.hpp"
#include "command.hpp"

#include "core/io/atomic_file.hpp"
#include "core/model/error.hpp"
#include "core/store/trace_store.hpp"
#include "core/support/json_text.hpp"
#include "core/synth/generator.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

namespace kvtier::cli {

namespace {

using nlohmann::json;

std::string usage()
{
    std::ostringstream u;
    u << "usage: kvtier-cli generate DB --name NAME [options]\n"
         "       kvtier-cli generate [DB --name NAME] --csv OUT.csv --per-layer --selection-ratio R [options]\n"
         "\n"
         "Generates a synthetic attention trace (docs/GENERATOR.md) and stores it in the trace\n"
         "database DB (created when missing) in one transaction. Seeded: the same parameters give\n"
         "the same trace, bit for bit, on any machine and thread count.\n"
         "\n"
         "Parameters are applied in this order: --preset, --params FILE, the shortcut options\n"
         "below, then each --set key=value.\n"
         "\n"
         "options:\n"
         "  --name NAME            trace name in DB (required with DB)\n"
         "  --preset NAME          starting point:";
    for (const auto& n : generatorPresetNames()) u << " " << n;
    u << " (default: default)\n";
    for (const auto& n : generatorPresetNames())
        u << "                           " << n << ": " << generatorPresetDescription(n) << "\n";
    u << "  --seed N               = --set seed=N\n"
         "  --prefill P            = --set prefill=P\n"
         "  --steps T              = --set steps=T\n"
         "  --layers L             = --set layers=L\n"
         "  --per-layer            = --set per_layer=true\n"
         "  --sequences S          = --set sequences=S (a batch of S sequences in lock step)\n"
         "  --prefill-spread F     = --set prefill_spread=F (P_s uniform in [P - floor(F*P), P])\n"
         "  --shared-prefix N      = --set shared_prefix=N (first N prompt tokens common to all)\n"
         "  --selection-ratio R    = --set selection_ratio=R (store selections, not scores)\n"
         "  --keep-top K           = --set keep_top=K\n"
         "  --keep-mass M          = --set keep_mass=M\n"
         "  --experts E            = --set experts=E (MoE expert sets, E per layer; stored in DB)\n"
         "  --expert-top-k K       = --set expert_top_k=K (experts per token, default 2)\n"
         "  --expert-tokens N      = --set expert_tokens=N (tokens routed per step, default 1)\n"
         "  --expert-zipf S        = --set expert_zipf=S (Zipf exponent over experts, default 1)\n"
         "  --expert-reuse Q       = --set expert_reuse=Q (keep last step's experts, default 0)\n"
         "  --params FILE.json     a JSON object with any of the parameters below\n"
         "  --set key=value        one parameter (repeatable); value is JSON or a bare word\n"
         "  --description TEXT     one line stored with the trace (default: the preset's)\n"
         "  --model-name NAME      model name stored with the trace (default: synthetic)\n"
         "  --encoding E           f32, f16, sparse_f32, sparse_f16, index_u32, index_varint or\n"
         "                         index_step_delta (the compact selection forms; index_step_delta\n"
         "                         stores each step as the change from the step before); default:\n"
         "                         index_u32\n"
         "                         for selections, sparse_f32 when keep_top/keep_mass thin the\n"
         "                         records, f32 otherwise)\n"
         "  --key-interval K       index_step_delta: a key record (the whole set) at least every K\n"
         "                         steps, 1 .. 4096 (default 64)\n"
         "  --replace              overwrite a trace of the same name\n"
         "  --csv FILE             also (or only) write the selections as the paper simulator's CSV,\n"
         "                         header n,l,read_kv, n = P + t (needs --per-layer, --selection-ratio)\n"
         "  --print-params         print the final parameters as JSON and exit\n"
         "\n"
         "generator parameters (JSON key / --set key, default, meaning):\n";
    // generatorParamsToJson writes the expert keys only when experts > 0 and the batch keys
    // only for a batch: take their defaults from a routing batch generator, and experts'
    // and sequences' own defaults from the struct.
    GeneratorParams routing;
    routing.experts = 1;
    routing.expert_top_k = 1;
    routing.sequences = 2;
    json defaults = generatorParamsToJson(routing);
    defaults["experts"] = GeneratorParams{}.experts;
    defaults["expert_top_k"] = GeneratorParams{}.expert_top_k;
    defaults["sequences"] = GeneratorParams{}.sequences;
    std::string group;
    for (const auto& d : generatorParamDocs()) {
        if (d.group != group) {
            group = d.group;
            u << "  [" << group << "]\n";
        }
        std::string name = "    " + d.name;
        std::string def = defaults.at(d.name).dump();
        name.resize(std::max<size_t>(name.size() + 1, 24), ' ');
        def.resize(std::max<size_t>(def.size() + 1, 9), ' ');
        u << name << def << d.help << "\n";
    }
    u << "\nexample:\n"
         "  kvtier-cli generate traces.sqlite --name bursty --preset bursty --seed 3 --prefill 8192 \\\n"
         "      --steps 1024 --keep-mass 0.95 --encoding sparse_f16 --set burst_rate=0.1\n";
    return u.str();
}

// A command-line value: JSON when it parses (numbers, true/false), else the bare word.
json valueOf(const std::string& text, const std::string& where)
{
    checkJsonText(text, where);   // nesting and number range first: a copy of the value recurses
    json v = json::parse(text, nullptr, /*allow_exceptions=*/false);
    return v.is_discarded() ? json(text) : v;
}

json readJsonFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path, "cannot open file");
    std::ostringstream ss;
    ss << in.rdbuf();
    return parseJsonText(ss.str(), path);
}

GeneratorParams paramsFrom(const Args& a, std::string& presetName)
{
    presetName = a.get("preset").value_or("default");
    GeneratorParams p = generatorPreset(presetName);
    if (auto file = a.get("params")) p = generatorParamsFromJson(readJsonFile(*file), *file, p);

    json overrides = json::object();
    const std::pair<const char*, const char*> shortcuts[] = {
        {"seed", "seed"},       {"prefill", "prefill"},     {"steps", "steps"},
        {"layers", "layers"},   {"selection-ratio", "selection_ratio"},
        {"keep-top", "keep_top"}, {"keep-mass", "keep_mass"},
        {"experts", "experts"}, {"expert-top-k", "expert_top_k"}, {"expert-tokens", "expert_tokens"},
        {"expert-zipf", "expert_zipf"}, {"expert-reuse", "expert_reuse"}, {"sequences", "sequences"},
        {"prefill-spread", "prefill_spread"}, {"shared-prefix", "shared_prefix"}};
    for (const auto& [option, key] : shortcuts)
        if (auto v = a.get(option)) overrides[key] = valueOf(*v, std::string("--") + option);
    if (a.has("per-layer")) overrides["per_layer"] = true;
    for (const std::string& kv : a.all("set")) {
        const auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) throw UsageError("--set " + kv + ": expected key=value");
        overrides[kv.substr(0, eq)] = valueOf(kv.substr(eq + 1), "--set " + kv.substr(0, eq));
    }
    return generatorParamsFromJson(overrides, "command line", p);
}

void writeCsvRow(std::ostream& out, int64_t prefill, const Record& r)
{
    out << prefill + r.step << ',' << r.layer << ",\"[";
    for (size_t k = 0; k < r.index.size(); ++k) out << (k ? ", " : "") << r.index[k];
    out << "]\"\n";
}

int run(const std::vector<std::string>& argv)
{
    const Args a(argv,
                 {"name", "preset", "seed", "prefill", "steps", "layers", "selection-ratio", "keep-top",
                  "keep-mass", "params", "description", "model-name", "encoding", "key-interval", "csv", "experts", "expert-top-k",
                  "expert-tokens", "expert-zipf", "expert-reuse", "sequences", "prefill-spread", "shared-prefix"},
                 {"per-layer", "replace", "print-params"}, {"set"});
    std::string presetName;
    const GeneratorParams p = paramsFrom(a, presetName);
    if (a.has("print-params")) {
        std::cout << generatorParamsToJson(p).dump(2) << "\n";
        return 0;
    }
    if (a.positional().size() > 1) throw UsageError("expected one database, got " + std::to_string(a.positional().size()));
    const auto csvPath = a.get("csv");
    if (a.positional().empty() && !csvPath) throw UsageError("missing the database to write (or --csv FILE)");
    if (csvPath && (!p.per_layer || p.selection_ratio <= 0))
        throw UsageError("--csv writes the paper's per-layer selection format: give --per-layer and --selection-ratio");
    if (csvPath && p.sequences > 1)
        throw UsageError("--csv writes the paper's one-sequence format: it cannot hold --sequences " +
                         std::to_string(p.sequences));

    TraceMeta meta = generatorMeta(p);
    meta.description = a.get("description").value_or(generatorPresetDescription(presetName));
    if (auto m = a.get("model-name")) meta.model_name = *m;
    meta.source = "kvtier-cli generate --preset " + presetName + "; parameters " + generatorParamsToJson(p).dump();

    // The CSV target is checked (a folder, a missing folder) before the database is touched.
    std::optional<AtomicFile> csvFile;
    if (csvPath) {
        csvFile.emplace(*csvPath);
        csvFile->stream() << "n,l,read_kv\n";
    }
    std::unique_ptr<TraceStore> store;
    std::unique_ptr<TraceWriter> writer;
    if (!a.positional().empty()) {
        meta.name = a.require("name");
        Encoding enc = p.selection_ratio > 0                        ? Encoding::IndexU32
                       : (p.keep_top > 0 || p.keep_mass < 1) ? Encoding::SparseF32
                                                              : Encoding::DenseF32;
        if (auto e = a.get("encoding")) {
            try {
                enc = encodingFromString(*e);
            } catch (const InputError& err) {
                throw UsageError("--encoding: " + err.problem());
            }
        }
        int32_t keyInterval = 0;
        if (a.get("key-interval")) {
            const int64_t k = a.getInt("key-interval", kDefaultKeyInterval);
            if (k < 1 || k > kMaxKeyInterval)
                throw UsageError("--key-interval must be between 1 and " + std::to_string(kMaxKeyInterval));
            if (enc != Encoding::IndexStepDelta) throw UsageError("--key-interval needs --encoding index_step_delta");
            keyInterval = static_cast<int32_t>(k);
        }
        store = TraceStore::open(a.positional().front(), TraceStore::Mode::ReadWrite);
        writer = store->beginTrace(meta, enc, a.has("replace"), keyInterval);
    } else if (a.has("name")) {
        throw UsageError("--name needs a database to write to");
    }

    const auto start = std::chrono::steady_clock::now();
    int64_t records = 0, entries = 0;
    generate(p, [&](const Record& r) {
        if (writer) writer->add(r);
        if (csvFile) writeCsvRow(csvFile->stream(), meta.prefill, r);
        ++records;
        entries += static_cast<int64_t>(r.index.size());
    });
    if (csvFile) csvFile->commit();
    if (writer) {
        writer->setExperts(generateExperts(p));   // empty unless experts > 0 (docs/GENERATOR.md)
        writer->commit();
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    std::cerr << "kvtier-cli generate: " << (writer ? "trace '" + meta.name + "' in " + a.positional().front() : *csvPath)
              << ": " << (p.sequences > 1 ? "S=" + std::to_string(p.sequences) + " " : std::string())
              << "P=" << meta.prefill << " T=" << p.steps << " L=" << p.layers << " "
              << toString(meta.layer_mode) << " " << toString(meta.kind) << ", " << records << " records, "
              << entries << " entries, " << secs << " s\n";
    if (writer && csvPath) std::cerr << "kvtier-cli generate: also wrote " << *csvPath << "\n";
    return 0;
}

const Registration reg("generate", Command{"make a synthetic attention trace (seeded; sinks, recency, "
                                           "heavy hitters, bursts, drift, per-layer)",
                                           usage(), run});

} // namespace

} // namespace kvtier::cli
