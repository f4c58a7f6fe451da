#pragma once
// The window's export commands: one view through the export dialog, every view into a
// folder, and the same without dialogs for `kvtier --export`. Remembers the last folder.
#include <QList>
#include <QObject>
#include <QSize>
#include <QString>
#include <QStringList>

#include <functional>

class QWidget;

namespace kvtier::ui {

class PlotView;

class ExportActions : public QObject {
    Q_OBJECT
public:
    // `views`: the views "every view" means, in order; `dialogParent`: the window.
    ExportActions(std::function<QList<PlotView*>()> views, QWidget* dialogParent);

    // Writes every view as PNG, PDF, SVG and CSV into `dir`; returns the files written.
    QStringList exportAll(const QString& dir, QSize size, QString* error = nullptr);
    void exportViewInteractive(PlotView* view);
    void exportAllInteractive();

    QString lastDir() const { return lastDir_; }
    void setLastDir(const QString& dir) { lastDir_ = dir; }

signals:
    void lastDirChanged();                               // worth saving in the settings
    void done(const QString& message, int timeoutMs);    // for the status bar

private:
    std::function<QList<PlotView*>()> views_;
    QWidget* dialogParent_;
    QString lastDir_;
};

} // namespace kvtier::ui
