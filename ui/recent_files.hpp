#pragma once
// A File > Open recent menu: the last ten files (databases, or scenarios) opened, kept in
// the settings under `key`.
#include <QObject>
#include <QString>

class QMenu;

namespace kvtier::ui {

class RecentFiles : public QObject {
    Q_OBJECT
public:
    RecentFiles(QMenu* menu, QObject* parent, const QString& key = QStringLiteral("recentFiles"));
    // Puts `path` first (once), keeps ten, rebuilds the menu.
    void add(const QString& path);
    // Rebuilds the menu from the settings.
    void rebuild();

signals:
    void openRequested(const QString& path);

private:
    QMenu* menu_;
    QString key_;
};

} // namespace kvtier::ui
