#include "test_support.hpp"

#include "core/model/error.hpp"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QFile>
#include <QDir>
#include <QTemporaryDir>

#include <fstream>
#include <memory>

namespace kvtier::test {

static QTemporaryDir& scratchDir()
{
    static QTemporaryDir dir;
    return dir;
}

std::string scratchPath(const std::string& fileName)
{
    return QDir(scratchDir().path()).filePath(QString::fromStdString(fileName)).toStdString();
}

std::string writeScratch(const std::string& fileName, const std::string& text)
{
    const std::string p = scratchPath(fileName);
    std::ofstream out(p, std::ios::binary);
    out << text;
    return p;
}

Trace selectionTrace(int64_t prefill, const std::vector<std::vector<uint32_t>>& reads, const std::string& name)
{
    TraceMeta m;
    m.name = name;
    m.prefill = prefill;
    m.steps = static_cast<int64_t>(reads.size());
    m.kind = RecordKind::Selection;
    Trace tr(m);
    for (size_t t = 0; t < reads.size(); ++t)
        tr.append(static_cast<int64_t>(t), -1, reads[t], std::vector<float>(reads[t].size(), 1.0f));
    return tr;
}

Trace denseTrace(int64_t prefill, const std::vector<std::vector<float>>& rows, int32_t layers,
                 const std::string& name)
{
    TraceMeta m;
    m.name = name;
    m.prefill = prefill;
    m.steps = static_cast<int64_t>(rows.size());
    m.layers = layers;
    m.layer_mode = LayerMode::Aggregated;
    m.kind = RecordKind::Scores;
    Trace tr(m);
    for (size_t t = 0; t < rows.size(); ++t) {
        Record r;
        r.step = static_cast<int64_t>(t);
        r.layer = -1;
        for (size_t i = 0; i < rows[t].size(); ++i)
            if (rows[t][i] > 0) {
                r.index.push_back(static_cast<uint32_t>(i));
                r.value.push_back(rows[t][i]);
            }
        tr.append(r);
    }
    return tr;
}

QString errorOf(const std::function<void()>& f)
{
    try {
        f();
    } catch (const InputError& e) {
        return QString::fromStdString(e.what());
    }
    return QStringLiteral("<no error>");
}

QByteArray sha256(const std::string& path)
{
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

std::unique_ptr<TraceStore> freshStore(const std::string& name)
{
    const std::string p = scratchPath(name);
    QFile::remove(QString::fromStdString(p));
    return TraceStore::open(p, TraceStore::Mode::ReadWrite);
}

void storeTrace(TraceStore& store, const Trace& trace, const ExpertSets* experts)
{
    const TraceMeta& m = trace.meta();
    auto w = store.beginTrace(m, Encoding::SparseF32, true);
    Record rec;
    for (int64_t k = 0; k < trace.recordCount(); ++k) {
        rec.step = m.stepOfRecord(k);
        rec.sequence = m.sequenceOfRecord(k);
        rec.layer = m.layerOfRecord(k);
        const auto idx = trace.indices(static_cast<size_t>(k));
        const auto val = trace.values(static_cast<size_t>(k));
        rec.index.assign(idx.begin(), idx.end());
        rec.value.assign(val.begin(), val.end());
        w->add(rec);
    }
    const ExpertSets& sets = experts ? *experts : trace.experts();
    if (!sets.empty()) w->setExperts(sets);
    w->commit();
}

void storeTrace(const std::string& db, const Trace& trace, const ExpertSets* experts)
{
    storeTrace(*TraceStore::open(db, TraceStore::Mode::ReadWrite), trace, experts);
}

} // namespace kvtier::test
