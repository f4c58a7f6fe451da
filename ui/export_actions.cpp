#include "ui/export_actions.hpp"

#include "core/engine/stream_rule.hpp"
#include "core/engine/view_heatmap.hpp"
#include "core/engine/view_heatmap_csv.hpp"
#include "core/io/atomic_file.hpp"
#include "core/model/error.hpp"
#include "ui/error_sink.hpp"
#include "ui/job_runner.hpp"
#include "ui/plot_view.hpp"
#include "ui/stream_notes.hpp"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QMessageBox>
#include <QWidget>

namespace kvtier::ui {

ExportActions::ExportActions(std::function<QList<PlotView*>()> views, QWidget* dialogParent)
    : QObject(dialogParent), views_(std::move(views)), dialogParent_(dialogParent),
      jobs_(new JobRunner(QStringLiteral("kvtier-export"), JobRunner::Mode::Queue, this))
{
}

bool ExportActions::confirmOverwrite(const QStringList& existing)
{
    if (existing.isEmpty())
        return true;
    if (confirm_)
        return confirm_(existing);
    QStringList names;
    for (const QString& f : existing.mid(0, 6))
        names << QFileInfo(f).fileName();
    const QString list = names.join(QStringLiteral(", ")) + (existing.size() > 6 ? tr(", …") : QString());
    return QMessageBox::question(dialogParent_, tr("Replace files?"),
                                 existing.size() == 1 ? tr("%1 exists. Replace it?").arg(QDir::toNativeSeparators(existing.front()))
                                                      : tr("%1 files exist in %2 (%3). Replace them?")
                                                            .arg(existing.size())
                                                            .arg(QDir::toNativeSeparators(QFileInfo(existing.front()).absolutePath()), list),
                                 QMessageBox::Yes | QMessageBox::No, QMessageBox::No) == QMessageBox::Yes;
}

QStringList ExportActions::exportViews(const QList<PlotView*>& views, const QString& dir, ExportOptions options, QString* error)
{
    if (options.caption.isEmpty() && caption_)
        options.caption = caption_();
    QStringList written;
    if (!QFileInfo(dir).isDir()) {
        if (error)
            *error = tr("%1: folder does not exist").arg(QDir::toNativeSeparators(dir));
        return written;
    }
    for (PlotView* v : views) {
        QString err;
        written << exportViewAllFormats(v, dir, options, &err);
        if (!err.isEmpty() && error && error->isEmpty())
            *error = err;
    }
    return written;
}

QStringList ExportActions::exportAll(const QString& dir, QSize size, QString* error)
{
    return exportViews(views_(), dir, ExportOptions::pixels(size, true), error);
}

namespace {

// The heatmap behind the view at one cell per step and row, for the policy and the batch
// sequence it shows.
void writeFullHeatmap(const AnalysisOutput& out, const QString& viewId, const QString& path, const JobControl& job)
{
    const AnalysisResult& r = *out.result;
    AtomicFile file(path.toStdString());
    HeatmapWindow window = fullResolutionWindow();
    if (viewId == QLatin1String("relevance")) {
        window.sequence = out.view.relevance.sequence;
        writeRelevanceCsv(file.stream(), relevanceGrid(*r.trace, *r.selection, window, job), r.trace->meta().name);
    } else if (viewId == QLatin1String("experts")) {
        const PolicyOutcome* o = out.outcome(out.view.policy);
        if (!o || !o->timing || !o->timing->expert_residency)
            throw InputError(path.toStdString(), "the model has no experts");
        window.layer = out.experts ? out.experts->grid.grid.window.layer : out.view.experts.layer;
        std::vector<std::string> tiers;
        for (const Tier& t : r.scenario.hardware.tiers)
            tiers.push_back(t.name);
        writeExpertCsv(file.stream(), expertGrid(r.selection->experts.get(), *o->timing->expert_residency, window, job), o->info.name,
                       toString(o->timing->expert_policy), tiers);
    } else {
        window.sequence = out.view.placement.sequence;
        const PolicyOutcome* o = out.outcome(out.view.policy);
        if (!o || !o->placement)
            throw InputError(path.toStdString(), "the shown policy has no placement");
        writePlacementCsv(file.stream(), placementGrid(*r.selection, *o->placement, window, job), o->info.name);
    }
    job.check();
    file.commit();
}

} // namespace

bool ExportActions::exportOne(PlotView* view, const QString& path, ExportFormat format, const FigureSize& size, bool fullResolution,
                              QString* error)
{
    if (QFileInfo::exists(path) && !confirmOverwrite({path})) {
        if (error)
            *error = tr("%1: exists, not replaced").arg(path);
        return false;
    }
    if (!QFileInfo(path).absoluteDir().exists()) {
        if (error)
            *error = tr("%1: folder %2 does not exist").arg(path, QDir::toNativeSeparators(QFileInfo(path).absolutePath()));
        return false;
    }
    if (format == ExportFormat::Csv && fullResolution) {
        const AnalysisOutputPtr out = output_ ? output_() : nullptr;
        if (!out || !out->result) {
            if (error)
                *error = tr("%1: the %2 view has no data yet").arg(path, view->viewId());
            return false;
        }
        const QString id = view->viewId();
        if (id != QLatin1String("experts") && !holdsStepLists(*out->result)) {
            if (error)
                *error = tr("%1: %2 The pooled view exports as CSV without full resolution; "
                            "kvtier-cli view heatmap --stream writes any window of it.")
                             .arg(path, notWhileStreamed(tr("The full-resolution heatmap")));
            return false;
        }
        jobs_->run(
            [out, id, path](const JobContext& c) {
                writeFullHeatmap(*out, id, path, c.control());
                return true;
            },
            [this, path](bool) {
                emit done(tr("Wrote %1 (full resolution)").arg(path), 5000);
                emit fullResolutionWritten(path, true, QString());
            },
            [this, path](const QString& message) {
                ErrorSink::instance().report(dialogParent_, tr("Export failed"), message);
                emit fullResolutionWritten(path, false, message);
            },
            path);
        emit done(tr("Writing %1 at full resolution…").arg(path), 0);
        return true;
    }
    ExportOptions o;
    o.size = size;
    o.overwrite = true;   // asked above
    if (caption_)
        o.caption = caption_();
    return exportView(view, path, format, o, error);
}

void ExportActions::exportViewInteractive(PlotView* view)
{
    const bool heatmap = view->viewId() == QLatin1String("placement") || view->viewId() == QLatin1String("relevance") ||
                         view->viewId() == QLatin1String("experts");
    ExportDialog dlg(view, lastDir_, heatmap, dialogParent_);
    if (dlg.exec() != QDialog::Accepted)
        return;
    QString error;
    if (!exportOne(view, dlg.path(), dlg.format(), dlg.figureSize(), dlg.fullResolutionCsv(), &error)) {
        if (!error.endsWith(tr("exists, not replaced")))
            ErrorSink::instance().report(dialogParent_, tr("Export failed"), error);
        return;
    }
    lastDir_ = QFileInfo(dlg.path()).absolutePath();
    if (dlg.format() != ExportFormat::Csv)
        lastFigure_ = dlg.figureSize();
    emit lastDirChanged();
    if (!dlg.fullResolutionCsv())
        emit done(tr("Wrote %1").arg(dlg.path()), 4000);
}

void ExportActions::exportAllInteractive()
{
    const QString dir = QFileDialog::getExistingDirectory(dialogParent_, tr("Export every view to"), lastDir_);
    if (dir.isEmpty())
        return;
    QStringList existing;
    for (PlotView* v : views_())
        for (const QString& f : exportFileNames(v, dir))
            if (QFileInfo::exists(f))
                existing << f;
    if (!confirmOverwrite(existing))
        return;
    lastDir_ = dir;
    emit lastDirChanged();
    QString error;
    ExportOptions options;
    options.size = lastFigure_;   // the size last chosen for one view (1200 x 750 px at first)
    options.overwrite = true;     // asked above
    const QStringList files = exportViews(views_(), dir, options, &error);
    if (!error.isEmpty())
        ErrorSink::instance().report(dialogParent_, tr("Export incomplete"), error);
    emit done(tr("Wrote %1 files to %2").arg(files.size()).arg(dir), 5000);
}

} // namespace kvtier::ui
