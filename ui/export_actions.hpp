#pragma once
// The window's export commands: one view through the export dialog, every view into a
// folder, and the same without dialogs for `kvtier --export`. Remembers the last folder.
// Asks before replacing files, never creates folders on its own; the placement and
// relevance heatmaps' CSV can be written at full resolution (the core's view data, as
// `kvtier-cli view heatmap`), in the background.
#include "ui/analysis_worker.hpp"
#include "ui/exporter.hpp"

#include <QList>
#include <QObject>
#include <QSize>
#include <QString>
#include <QStringList>

#include <functional>

class QWidget;

namespace kvtier::ui {

class JobRunner;
class PlotView;

class ExportActions : public QObject {
    Q_OBJECT
public:
    // `views`: the views "every view" means, in order; `dialogParent`: the window.
    ExportActions(std::function<QList<PlotView*>()> views, QWidget* dialogParent);

    // What every figure names (trace, model, hardware), and the result behind the views
    // (for full-resolution heatmaps).
    void setCaption(std::function<QString()> caption) { caption_ = std::move(caption); }
    void setOutput(std::function<AnalysisOutputPtr()> output) { output_ = std::move(output); }
    // Answers "overwrite these files?" instead of a dialog (tests, embedders).
    using Confirm = std::function<bool(const QStringList& existing)>;
    void setConfirm(Confirm confirm) { confirm_ = std::move(confirm); }

    // Writes `views` as PNG, PDF, SVG and CSV into `dir` (which must exist); returns the
    // files written. The caption is added unless options.caption is set.
    QStringList exportViews(const QList<PlotView*>& views, const QString& dir, ExportOptions options, QString* error = nullptr);
    // Every view at a pixel size, replacing existing files (the earlier interface).
    QStringList exportAll(const QString& dir, QSize size, QString* error = nullptr);
    // One view as the dialog chose. Returns false (message in `error`) on failure, and
    // when the file exists and the user (or Confirm) declines.
    bool exportOne(PlotView* view, const QString& path, ExportFormat format, const FigureSize& size, bool fullResolution,
                   QString* error = nullptr);
    void exportViewInteractive(PlotView* view);
    void exportAllInteractive();
    JobRunner* jobs() const { return jobs_; }

    QString lastDir() const { return lastDir_; }
    void setLastDir(const QString& dir) { lastDir_ = dir; }

signals:
    void lastDirChanged();                               // worth saving in the settings
    void done(const QString& message, int timeoutMs);    // for the status bar
    void fullResolutionWritten(const QString& path, bool ok, const QString& message);

private:
    bool confirmOverwrite(const QStringList& existing);
    std::function<QList<PlotView*>()> views_;
    QWidget* dialogParent_;
    QString lastDir_;
    std::function<QString()> caption_;
    std::function<AnalysisOutputPtr()> output_;
    Confirm confirm_;
    FigureSize lastFigure_ = FigureSize::pixels(QSize(1200, 750));   // the dialog's last size: Export all uses it
    JobRunner* jobs_;   // full-resolution heatmap CSVs
};

} // namespace kvtier::ui
