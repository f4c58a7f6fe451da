#include "ui/recent_files.hpp"

#include <QFileInfo>
#include <QMenu>
#include <QSettings>
#include <QStringList>

namespace kvtier::ui {

namespace {
constexpr int kKept = 10;
} // namespace

RecentFiles::RecentFiles(QMenu* menu, QObject* parent, const QString& key) : QObject(parent), menu_(menu), key_(key) {}

void RecentFiles::add(const QString& path)
{
    QSettings settings;
    QStringList recent = settings.value(key_).toStringList();
    recent.removeAll(path);
    recent.prepend(path);
    while (recent.size() > kKept)
        recent.removeLast();
    settings.setValue(key_, recent);
    rebuild();
}

void RecentFiles::rebuild()
{
    menu_->clear();
    const QStringList recent = QSettings().value(key_).toStringList();
    for (const QString& p : recent)
        menu_->addAction(QFileInfo(p).fileName() + QStringLiteral("  —  ") + QFileInfo(p).absolutePath(), this,
                         [this, p] { emit openRequested(p); });
    menu_->setEnabled(!recent.isEmpty());
}

} // namespace kvtier::ui
