#include "ui/recent_files.hpp"

#include <QFileInfo>
#include <QMenu>
#include <QSettings>
#include <QStringList>

namespace kvtier::ui {

namespace {
const QString kKey = QStringLiteral("recentFiles");
constexpr int kKept = 10;
} // namespace

RecentFiles::RecentFiles(QMenu* menu, QObject* parent) : QObject(parent), menu_(menu) {}

void RecentFiles::add(const QString& path)
{
    QSettings settings;
    QStringList recent = settings.value(kKey).toStringList();
    recent.removeAll(path);
    recent.prepend(path);
    while (recent.size() > kKept)
        recent.removeLast();
    settings.setValue(kKey, recent);
    rebuild();
}

void RecentFiles::rebuild()
{
    menu_->clear();
    const QStringList recent = QSettings().value(kKey).toStringList();
    for (const QString& p : recent)
        menu_->addAction(QFileInfo(p).fileName() + QStringLiteral("  —  ") + QFileInfo(p).absolutePath(), this,
                         [this, p] { emit openRequested(p); });
    menu_->setEnabled(!recent.isEmpty());
}

} // namespace kvtier::ui
