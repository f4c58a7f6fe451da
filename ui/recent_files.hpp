#pragma once
// The File > Open recent menu: the last ten databases opened, kept in the settings.
#include <QObject>
#include <QString>

class QMenu;

namespace kvtier::ui {

class RecentFiles : public QObject {
    Q_OBJECT
public:
    RecentFiles(QMenu* menu, QObject* parent);
    // Puts `path` first (once), keeps ten, rebuilds the menu.
    void add(const QString& path);
    // Rebuilds the menu from the settings.
    void rebuild();

signals:
    void openRequested(const QString& path);

private:
    QMenu* menu_;
};

} // namespace kvtier::ui
