#include "ui/export_actions.hpp"

#include "ui/error_sink.hpp"
#include "ui/exporter.hpp"
#include "ui/plot_view.hpp"

#include <QFileDialog>
#include <QFileInfo>
#include <QWidget>

namespace kvtier::ui {

ExportActions::ExportActions(std::function<QList<PlotView*>()> views, QWidget* dialogParent)
    : QObject(dialogParent), views_(std::move(views)), dialogParent_(dialogParent)
{
}

QStringList ExportActions::exportAll(const QString& dir, QSize size, QString* error)
{
    QStringList written;
    for (PlotView* v : views_()) {
        QString err;
        const QStringList files = exportViewAllFormats(v, dir, size, &err);
        written << files;
        if (!err.isEmpty() && error && error->isEmpty())
            *error = err;
    }
    return written;
}

void ExportActions::exportViewInteractive(PlotView* view)
{
    ExportDialog dlg(view, lastDir_, dialogParent_);
    if (dlg.exec() != QDialog::Accepted)
        return;
    QString error;
    if (!exportView(view, dlg.path(), dlg.format(), dlg.size(), &error)) {
        ErrorSink::instance().report(dialogParent_, tr("Export failed"), error);
        return;
    }
    lastDir_ = QFileInfo(dlg.path()).absolutePath();
    emit lastDirChanged();
    emit done(tr("Wrote %1").arg(dlg.path()), 4000);
}

void ExportActions::exportAllInteractive()
{
    const QString dir = QFileDialog::getExistingDirectory(dialogParent_, tr("Export every view to"), lastDir_);
    if (dir.isEmpty())
        return;
    lastDir_ = dir;
    emit lastDirChanged();
    QString error;
    const QStringList files = exportAll(dir, QSize(1200, 750), &error);
    if (!error.isEmpty())
        ErrorSink::instance().report(dialogParent_, tr("Export incomplete"), error);
    emit done(tr("Wrote %1 files to %2").arg(files.size()).arg(dir), 5000);
}

} // namespace kvtier::ui
